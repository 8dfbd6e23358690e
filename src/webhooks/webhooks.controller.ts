import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { RequireCapability } from '../auth/require-capability.decorator';
import { ApiErrorResponses } from '../common/errors/api-error-responses.decorator';
import { PageQueryPipe } from '../common/pagination/page-query';
import { ValidatedBodyPipe } from '../common/validation/validated-body.pipe';
import { DELIVERY_EXAMPLE, DeliveryPageResponse, ReplayResponse } from './dto/delivery.response';
import { DeliveryPageQuery, WebhookPageQuery } from './dto/webhook-page.query';
import { CreateWebhookRequest, ReplayWebhookRequest, RotateWebhookSecretRequest, UpdateWebhookRequest } from './dto/webhook.requests';
import { CreatedWebhookResponse, SECRET_EXAMPLE, WEBHOOK_EXAMPLE, WebhookPageResponse, WebhookResponse } from './dto/webhook.response';
import { WebhooksService } from './webhooks.service';

const ID_PARAM = {
  name: 'id',
  type: 'string',
  example: '01JB4T6R8S1V3W5X7Y9Z0A2B4C',
  description: 'The webhook id; one of another organization is 404.',
} as const;

@ApiTags('Webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @RequireCapability('admin')
  @ApiOperation({
    operationId: 'createWebhook',
    summary: 'Create a webhook',
    description:
      'Events of the chosen types are POSTed to `url` as they are committed, signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`), at least once, retried on a schedule for about three days (docs/events.md). The response carries the signing secret **once**. A URL that resolves to a private, loopback or link-local address is refused (400) unless WEBHOOK_ALLOWED_NETWORKS names its network.',
  })
  @ApiBody({
    type: CreateWebhookRequest,
    examples: {
      crm: {
        summary: 'Chats and session status',
        value: { url: WEBHOOK_EXAMPLE.url, eventTypes: ['chat.updated', 'session.status'], description: 'CRM sync' },
      },
    },
  })
  @ApiCreatedResponse({
    type: CreatedWebhookResponse,
    description: 'The webhook, with its secret shown this once.',
    example: { ...WEBHOOK_EXAMPLE, secret: SECRET_EXAMPLE },
  })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found')
  createWebhook(
    @CurrentPrincipal() principal: Principal,
    @Body(new ValidatedBodyPipe(CreateWebhookRequest)) body: CreateWebhookRequest,
  ): Promise<CreatedWebhookResponse> {
    return this.webhooks.create(principal.orgId, body);
  }

  @Get()
  @RequireCapability('admin')
  @ApiOperation({
    operationId: 'listWebhooks',
    summary: 'List webhooks',
    description: "The organization's webhooks in creation order, never their secrets. Paginated like List chats.",
  })
  @ApiOkResponse({ type: WebhookPageResponse, description: 'A page of webhooks.', example: { data: [WEBHOOK_EXAMPLE], nextCursor: null } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden')
  listWebhooks(@CurrentPrincipal() principal: Principal, @Query(PageQueryPipe) page: WebhookPageQuery): Promise<WebhookPageResponse> {
    return this.webhooks.list(principal.orgId, page);
  }

  @Get(':id')
  @RequireCapability('admin')
  @ApiOperation({ operationId: 'getWebhook', summary: 'Get a webhook' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: WebhookResponse, description: 'The webhook.', example: WEBHOOK_EXAMPLE })
  @ApiErrorResponses('unauthenticated', 'forbidden', 'not_found')
  getWebhook(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<WebhookResponse> {
    return this.webhooks.get(principal.orgId, id);
  }

  @Patch(':id')
  @RequireCapability('admin')
  @ApiOperation({
    operationId: 'updateWebhook',
    summary: 'Change a webhook',
    description:
      'Changes the given fields only. A new URL is checked like at creation. Setting `enabled: true` on a webhook the gateway disabled clears its failure state.',
  })
  @ApiParam(ID_PARAM)
  @ApiBody({ type: UpdateWebhookRequest, examples: { disable: { summary: 'Pause deliveries', value: { enabled: false } } } })
  @ApiOkResponse({ type: WebhookResponse, description: 'The webhook as changed.', example: { ...WEBHOOK_EXAMPLE, enabled: false } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found')
  updateWebhook(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body(new ValidatedBodyPipe(UpdateWebhookRequest)) body: UpdateWebhookRequest,
  ): Promise<WebhookResponse> {
    return this.webhooks.update(principal.orgId, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireCapability('admin')
  @ApiOperation({
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook',
    description: 'Deletes the webhook and its deliveries; queued attempts are dropped.',
  })
  @ApiParam(ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrorResponses('unauthenticated', 'forbidden', 'not_found')
  deleteWebhook(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.webhooks.delete(principal.orgId, id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @RequireCapability('admin')
  @ApiOperation({
    operationId: 'rotateWebhookSecret',
    summary: 'Rotate the signing secret',
    description:
      'A new secret, shown once. For `overlapSeconds` (default one day) every delivery is signed with both secrets (two entries in `webhook-signature`), so the receiver can switch without losing one.',
  })
  @ApiParam(ID_PARAM)
  @ApiBody({ type: RotateWebhookSecretRequest, examples: { day: { summary: 'One day of overlap', value: { overlapSeconds: 86400 } } } })
  @ApiOkResponse({
    type: CreatedWebhookResponse,
    description: 'The webhook, with its new secret shown this once.',
    example: { ...WEBHOOK_EXAMPLE, previousSecretExpiresAt: '2025-06-30T12:00:00.000Z', secret: SECRET_EXAMPLE },
  })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found')
  rotateWebhookSecret(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body(new ValidatedBodyPipe(RotateWebhookSecretRequest)) body: RotateWebhookSecretRequest,
  ): Promise<CreatedWebhookResponse> {
    return this.webhooks.rotateSecret(principal.orgId, id, body);
  }

  @Get(':id/deliveries')
  @RequireCapability('admin')
  @ApiOperation({
    operationId: 'listWebhookDeliveries',
    summary: 'List deliveries',
    description:
      "The webhook's deliveries, newest first: status, attempts, the last attempt's response code and duration. Kept as long as their event (EVENTS_RETENTION_HOURS).",
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: DeliveryPageResponse, description: 'A page of deliveries.', example: { data: [DELIVERY_EXAMPLE], nextCursor: null } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found')
  listWebhookDeliveries(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query(PageQueryPipe) page: DeliveryPageQuery,
  ): Promise<DeliveryPageResponse> {
    return this.webhooks.deliveries(principal.orgId, id, page);
  }

  @Post(':id/replay')
  @HttpCode(202)
  @RequireCapability('admin')
  @ApiOperation({
    operationId: 'replayWebhook',
    summary: 'Replay a time range',
    description:
      'Queues a new delivery of every event committed in [from, to) that the webhook wants (its types and session), with the same `webhook-id` as before, whether or not it was delivered. At most 10,000 per call. Events older than EVENTS_RETENTION_HOURS are gone.',
  })
  @ApiParam(ID_PARAM)
  @ApiBody({
    type: ReplayWebhookRequest,
    examples: { twoHours: { summary: 'Two hours', value: { from: '2025-06-29T10:00:00.000Z', to: '2025-06-29T12:00:00.000Z' } } },
  })
  @ApiAcceptedResponse({ type: ReplayResponse, description: 'The deliveries were queued.', example: { queued: 120, truncated: false } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden', 'not_found')
  replayWebhook(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body(new ValidatedBodyPipe(ReplayWebhookRequest)) body: ReplayWebhookRequest,
  ): Promise<ReplayResponse> {
    return this.webhooks.replay(principal.orgId, id, body);
  }
}
