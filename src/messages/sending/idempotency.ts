import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AppError } from '../../common/errors/app-error';
import { normalizeSessionId, SessionOwnership, sessionNotFound } from '../../sessions/session-ownership';
import { AnswerLookup, IdempotentAnswer, OutboxRepository } from './outbox.repository';
import { Batching } from '../../common/async/batching';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** Most look-ups one query makes. */
const MAX_LOOKUPS = 64;

/** An Idempotency-Key and the hash of the request it came with (`message_outbox.idempotency_key`, `request_hash`). */
export interface IdempotencyClaim {
  key: string;
  requestHash: Buffer;
}

/** JSON with sorted keys: the same body in any key order hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The one home of the Idempotency-Key rule of the outbox's write routes (Send message, reactions,
 * edit, delete for everyone, mark read, chat changes; docs/sending.md): a key is 1 to 255 printable ASCII
 * characters, kept 24 hours per organization; the same key with the same request (session and
 * body, key order aside) answers the first answer again and writes nothing; another request with
 * it is 409 `idempotency_key_reused`. Of two concurrent requests with one key the database lets
 * one insert (the unique index `message_outbox_idempotency`); the other waits for it and answers
 * its answer.
 */
@Injectable()
export class IdempotentRequests {
  /**
   * Concurrent requests' look-ups (ownership and first answer), one query per batch (common/async/batching.ts):
   * with the accepts written together, this query was the one round trip left per accept; batched,
   * gateway CPU per accept went 1.3-2.4 ms -> 0.9-2.1 ms in alternated runs on a loaded machine
   * (docs/performance.md, "Send message accept: group commit").
   */
  private readonly lookups = new Batching<AnswerLookup, { first: IdempotentAnswer | undefined } | undefined>(
    async (lookups) => (await this.outbox.firstAnswersOnOwnedSessions(lookups)).map((value) => ({ ok: true, value })),
    MAX_LOOKUPS,
  );

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly ownership: SessionOwnership,
  ) {}

  /**
   * The claim of a request to the session: undefined without a key, 400 for a malformed key.
   * `request` is what makes two requests the same: the body, and for the writes the route and its target.
   */
  claim(key: string | undefined, sessionId: string, request: unknown): IdempotencyClaim | undefined {
    if (key === undefined) return undefined;
    if (!IDEMPOTENCY_KEY.test(key))
      throw AppError.invalidArgument('Idempotency-Key must be 1 to 255 printable ASCII characters', { parameter: 'Idempotency-Key' });
    return { key, requestHash: createHash('sha256').update(sessionId).update('\n').update(canonical(request)).digest() };
  }

  /**
   * The first answer to the claim's key when there is one (409 when it answered another request);
   * else `accept`'s answer. `accept` stores the claim with its row (OutboxRepository) and answers
   * undefined when a concurrent request took the key first: that request's answer is given then.
   */
  async run<T>(orgId: string, claim: IdempotencyClaim | undefined, accept: () => Promise<T | undefined>): Promise<T> {
    if (claim) {
      const first = this.replay<T>(claim, await this.outbox.firstAnswer(orgId, claim.key));
      if (first !== undefined) return first;
    }
    return this.accepted(orgId, claim, accept);
  }

  /**
   * `run` for a request to the session `rawSessionId`, checked as SessionOwnership does (its 404
   * first, then a malformed key's 400): with a key, the check and the key's first answer are one query.
   */
  async runOnOwnedSession<T>(
    orgId: string,
    rawSessionId: string,
    key: string | undefined,
    request: unknown,
    accept: (sessionId: string, claim: IdempotencyClaim | undefined) => Promise<T | undefined>,
  ): Promise<T> {
    const sessionId = normalizeSessionId(rawSessionId);
    if (sessionId === undefined) throw sessionNotFound();
    if (key === undefined || !IDEMPOTENCY_KEY.test(key)) {
      await this.ownership.requireOwnedId(orgId, sessionId);
      const claim = this.claim(key, sessionId, request);
      return this.run(orgId, claim, () => accept(sessionId, claim));
    }
    const claim = this.claim(key, sessionId, request)!;
    const owned = await this.lookups.submit({ orgId, sessionId, key });
    if (!owned) throw sessionNotFound();
    const first = this.replay<T>(claim, owned.first);
    if (first !== undefined) return first;
    return this.accepted(orgId, claim, () => accept(sessionId, claim));
  }

  /** `accept`'s answer, else (a concurrent request took the key) that request's. */
  private async accepted<T>(orgId: string, claim: IdempotencyClaim | undefined, accept: () => Promise<T | undefined>): Promise<T> {
    const answer = await accept();
    if (answer !== undefined) return answer;
    const first = claim ? this.replay<T>(claim, await this.outbox.firstAnswer(orgId, claim.key)) : undefined;
    if (first === undefined)
      throw new AppError('conflict', 'a request with this Idempotency-Key is in progress; retry it', { reason: 'idempotency_key_in_use' });
    return first;
  }

  private replay<T>(claim: IdempotencyClaim, first: IdempotentAnswer | undefined): T | undefined {
    if (!first) return undefined;
    if (!first.requestHash.equals(claim.requestHash)) {
      throw new AppError('conflict', 'this Idempotency-Key was used with another request in the last 24 hours; use a new key for a new request', {
        reason: 'idempotency_key_reused',
        parameter: 'Idempotency-Key',
      });
    }
    return first.response as T;
  }
}
