import { Injectable } from '@nestjs/common';
import { Gauge, Histogram } from 'prom-client';
import { GatewayMetrics } from '../../metrics/gateway-metrics';
import { Batching, Settled } from '../../common/async/batching';
import { BatchRolledBack, OutboxRepository } from './outbox.repository';
import type { AcceptedMessage, AcceptedRow, ToAccept } from './outbox.repository';

/**
 * Most messages one transaction accepts. The bench's 32 concurrent connections fill about one
 * batch while the one before is written.
 */
const MAX_BATCH = 64;

/**
 * Send message's accepts, written by group commit (common/async/batching.ts): the messages that arrive while
 * a batch is being written go together in the next one, one transaction for all of them
 * (OutboxRepository.acceptTogether). Each request is still answered only once its own rows are
 * committed, with its own answer or its own error. One transaction, one event publication and one
 * NOTIFY per batch instead of per message: gateway CPU per accept 4.1-5.2 ms -> 1.3-1.6 ms in
 * alternated runs on a loaded machine (docs/performance.md, "Send message accept: group commit").
 *
 * The Idempotency-Key rule is IdempotentRequests'; this keeps what it relies on: of concurrent
 * requests with one key, one is written and the others answer undefined (the key was taken), also
 * when they land in one batch. A media message goes alone (its staged file is linked and checked
 * in its own transaction).
 */
@Injectable()
export class AcceptBatches {
  private readonly batches = new Batching<ToAccept<unknown>, unknown>((items) => this.write(items), MAX_BATCH);
  private readonly batchSize: Histogram;

  constructor(
    private readonly outbox: OutboxRepository,
    metrics: GatewayMetrics,
  ) {
    const batches = this.batches;
    new Gauge({
      name: 'gateway_send_accepts_waiting',
      help: 'Send message accepts waiting for the batch being written to commit (group commit).',
      registers: [metrics.registry],
      collect() {
        this.set(batches.waiting);
      },
    });
    this.batchSize = new Histogram({
      name: 'gateway_send_accept_batch_size',
      help: 'Send message accepts written per transaction (group commit).',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [metrics.registry],
    });
  }

  /**
   * Stores the message with its outbox row, and `respond`'s answer for its key (as
   * OutboxRepository.accept does); undefined when a concurrent request took the key.
   */
  accept<T>(accepted: AcceptedMessage, respond: (row: AcceptedRow) => T): Promise<T | undefined> {
    if (accepted.stagingId !== undefined) return this.outbox.accept(accepted, respond);
    return this.batches.submit({ accepted, respond }) as Promise<T | undefined>;
  }

  /**
   * One batch. Alone, a message is accepted as ever (one statement, or its transaction with a
   * key). Of several with one key, the first is written and the others answer undefined once it
   * is committed. When the batch was not committed, each message is accepted alone, in order, so
   * that a bad one fails only itself; when the COMMIT's outcome is unknown (the connection lost),
   * every message of the batch answers that error, as it would alone.
   */
  private async write(items: ToAccept<unknown>[]): Promise<Settled<unknown>[]> {
    this.batchSize.observe(items.length);
    if (items.length === 1) return [await settle(() => this.outbox.accept(items[0].accepted, items[0].respond))];
    const keys = new Set<string>();
    const written = items.filter(({ accepted }) => {
      if (!accepted.idempotency) return true;
      const key = `${accepted.orgId}\n${accepted.idempotency.key}`;
      if (keys.has(key)) return false;
      keys.add(key);
      return true;
    });
    let answers: unknown[];
    try {
      answers = await this.outbox.acceptTogether(written);
    } catch (error) {
      if (!(error instanceof BatchRolledBack)) return items.map(() => ({ ok: false, error }));
      const settled: Settled<unknown>[] = [];
      for (const item of items) settled.push(await settle(() => this.outbox.accept(item.accepted, item.respond)));
      return settled;
    }
    return items.map((item) => {
      const index = written.indexOf(item);
      return { ok: true, value: index >= 0 ? answers[index] : undefined };
    });
  }
}

async function settle<T>(run: () => Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error };
  }
}
