import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { CursorCodec } from '../common/pagination/cursor-codec';
import { pageOf, PageQuery, rowsToRead } from '../common/pagination/page-query';
import { EventLogRepository } from '../events/event-log.repository';
import { EventLogTail } from '../events/event-log-tail';
import { jobQueueDb } from '../jobs/job-queue';
import { JobQueue } from '../jobs/job-queue.service';
import { SessionOwnership } from '../sessions/session-ownership';
import { AppConfig } from '../config/app-config';
import { deliveryJob } from './delivery-job';
import { DeliveryPageResponse, DeliveryResponse, ReplayResponse } from './dto/delivery.response';
import { CreateWebhookRequest, ReplayWebhookRequest, RotateWebhookSecretRequest, UpdateWebhookRequest } from './dto/webhook.requests';
import { CreatedWebhookResponse, WebhookPageResponse, WebhookResponse } from './dto/webhook.response';
import { NetworkPolicy, WebhookUrlRefusedError } from './network-policy';
import { wants } from './webhook-dispatcher';
import { formatSecret, newSigningKey } from './webhook-signing';
import { WebhookSecrets } from './webhook-secrets';
import { NewDelivery, WebhookChanges, WebhookRow, WebhooksRepository } from './webhooks.repository';
import { newUlid } from '../common/ulid';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const DEFAULT_OVERLAP_SECONDS = 86_400;
const MAX_REPLAY = 10_000;
const REPLAY_PAGE = 1000;

/** The webhooks API: what an org's admin creates, changes, inspects and replays. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly secrets: WebhookSecrets,
    private readonly policy: NetworkPolicy,
    private readonly sessions: SessionOwnership,
    private readonly log: EventLogRepository,
    private readonly tail: EventLogTail,
    private readonly jobs: JobQueue,
    private readonly cursors: CursorCodec,
    private readonly config: AppConfig,
  ) {}

  async create(orgId: string, request: CreateWebhookRequest): Promise<CreatedWebhookResponse> {
    const url = await this.checkUrl(request.url);
    const sessionId = request.sessionId === undefined ? null : await this.sessions.requireOwnedId(orgId, request.sessionId);
    const id = newUlid();
    const key = newSigningKey();
    const row = await this.webhooks.insert({
      id,
      org_id: orgId,
      url,
      event_types: [...new Set(request.eventTypes)],
      session_id: sessionId,
      description: request.description ?? null,
      enabled: request.enabled ?? true,
      secret: this.secrets.seal(id, key),
    });
    return { ...WebhookResponse.fromRow(row), secret: formatSecret(key) };
  }

  async list(orgId: string, page: PageQuery): Promise<WebhookPageResponse> {
    const scope = `webhooks:${orgId}`;
    const after = page.cursor === undefined ? undefined : this.cursors.decodeUlid(scope, page.cursor);
    const { rows: pageRows, hasMore } = pageOf(await this.webhooks.pageForOrg(orgId, rowsToRead(page.limit), after), page.limit);
    return {
      data: pageRows.map((row) => WebhookResponse.fromRow(row)),
      nextCursor: hasMore ? this.cursors.encodeUlid(scope, pageRows[pageRows.length - 1].id) : null,
    };
  }

  async get(orgId: string, rawId: string): Promise<WebhookResponse> {
    return WebhookResponse.fromRow(await this.require(orgId, rawId));
  }

  async update(orgId: string, rawId: string, request: UpdateWebhookRequest): Promise<WebhookResponse> {
    const id = (await this.require(orgId, rawId)).id;
    const changes: WebhookChanges = {
      url: request.url === undefined ? undefined : await this.checkUrl(request.url),
      event_types: request.eventTypes && [...new Set(request.eventTypes)],
      session_id:
        request.sessionId === undefined ? undefined : request.sessionId === null ? null : await this.sessions.requireOwnedId(orgId, request.sessionId),
      description: request.description,
      enabled: request.enabled,
    };
    const row = await this.webhooks.update(orgId, id, changes);
    if (!row) throw AppError.notFound('webhook');
    return WebhookResponse.fromRow(row);
  }

  async delete(orgId: string, rawId: string): Promise<void> {
    const id = normalizeId(rawId);
    if (!id || !(await this.webhooks.delete(orgId, id))) throw AppError.notFound('webhook');
  }

  /** A new secret, shown once; the old one keeps signing (beside it) for `overlapSeconds`. */
  async rotateSecret(orgId: string, rawId: string, request: RotateWebhookSecretRequest): Promise<CreatedWebhookResponse> {
    const current = await this.require(orgId, rawId);
    const key = newSigningKey();
    const overlapMs = (request.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS) * 1000;
    const row = await this.webhooks.rotateSecret(
      orgId,
      current.id,
      this.secrets.seal(current.id, key),
      this.secrets.seal(current.id, this.secrets.current(current)),
      new Date(Date.now() + overlapMs),
    );
    if (!row) throw AppError.notFound('webhook');
    return { ...WebhookResponse.fromRow(row), secret: formatSecret(key) };
  }

  async deliveries(orgId: string, rawId: string, page: PageQuery): Promise<DeliveryPageResponse> {
    const webhook = await this.require(orgId, rawId);
    const scope = `webhook-deliveries:${webhook.id}`;
    const before = page.cursor === undefined ? undefined : this.cursors.decodeUlid(scope, page.cursor);
    const { rows: pageRows, hasMore } = pageOf(await this.webhooks.deliveriesPage(webhook.id, rowsToRead(page.limit), before), page.limit);
    return {
      data: pageRows.map((row) => DeliveryResponse.fromRow(row)),
      nextCursor: hasMore ? this.cursors.encodeUlid(scope, pageRows[pageRows.length - 1].id) : null,
    };
  }

  /** Queues a new delivery of every event of [from, to) the webhook wants (the same webhook-id as the first time). */
  async replay(orgId: string, rawId: string, request: ReplayWebhookRequest): Promise<ReplayResponse> {
    const webhook = await this.require(orgId, rawId);
    const from = Date.parse(request.from);
    const to = Date.parse(request.to);
    if (!(to > from)) throw AppError.invalidArgument('to must be after from', { parameter: 'to' });
    const subscription = { ...webhook, starts_after_event: '0' };
    const deliveries: NewDelivery[] = [];
    let after = 0n;
    let truncated = false;
    const settled = await this.tail.settled();
    for (;;) {
      const events = await this.log.readForOrgBetween(orgId, from, to, after, settled, REPLAY_PAGE);
      for (const event of events) {
        if (!wants(subscription, event)) continue;
        if (deliveries.length === MAX_REPLAY) truncated = true;
        else deliveries.push({ id: newUlid(), webhook_id: webhook.id, event_id: event.id, replay: true });
      }
      if (events.length < REPLAY_PAGE || truncated) break;
      after = BigInt(events[events.length - 1].id);
    }
    const boss = await this.jobs.started();
    await this.webhooks.transaction(async (manager) => {
      await this.webhooks.insertDeliveries(manager, deliveries);
      if (deliveries.length > 0) {
        await boss.insert(
          deliveries.map((delivery) => deliveryJob(delivery.id, 1, this.config.webhooks.timeoutMs)),
          { db: jobQueueDb((sql, params) => manager.query(sql, params)) },
        );
      }
    });
    return { queued: deliveries.length, truncated };
  }

  private async require(orgId: string, rawId: string): Promise<WebhookRow> {
    const id = normalizeId(rawId);
    const row = id && (await this.webhooks.findForOrg(orgId, id));
    if (!row) throw AppError.notFound('webhook');
    return row;
  }

  private async checkUrl(raw: string): Promise<string> {
    try {
      return (await this.policy.checkUrl(raw)).toString();
    } catch (error) {
      if (error instanceof WebhookUrlRefusedError) throw AppError.invalidArgument(error.message, { parameter: 'url' });
      throw error;
    }
  }
}

function normalizeId(raw: string): string | undefined {
  const upper = raw.toUpperCase();
  return ULID.test(upper) ? upper : undefined;
}
