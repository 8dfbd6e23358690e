import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { refusalApiCode, SessionConnectorError } from '../../sessions/session-connector';
import type { SessionConnectorRefusal } from '../../sessions/session-connector';
import { AppConfig } from '../../config/app-config';
import type { LeaseFence } from '../leases/lease-fence';

export type HolderCommandKind = 'stop' | 'logout' | 'pairing_code' | 'media_reupload';

export interface HolderCommand {
  id: string;
  sessionId: string;
  targetEpoch: string;
  kind: HolderCommandKind;
  payload: Record<string, unknown>;
}

/**
 * What the holder answers: a value, a refusal to pass on (the connector's own, see
 * SessionConnectorError), a failure, or "I do not hold that lease (any more)".
 */
export type HolderCommandResult =
  | { ok: true; value?: Record<string, unknown> }
  | { ok: false; refusal: SessionConnectorRefusal; message: string; status?: string }
  | { ok: false; failed: true }
  | { moved: true };

/**
 * The answers of the release before typed refusals: an API error (`code`, `message`, `details`).
 * During a rolling deploy replicas of both releases send each other commands, so a holder writes
 * both forms and a sender reads both.
 */
interface PreviousReleaseRefusal {
  ok: false;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** What a holder writes for a refusal: the typed one, and the API error the previous release reads. */
export function refusalAnswer(error: SessionConnectorError): HolderCommandResult & PreviousReleaseRefusal {
  return {
    ok: false,
    refusal: error.reason,
    message: error.message,
    status: error.status,
    code: refusalApiCode(error.reason),
    details: error.status === undefined ? {} : { status: error.status },
  };
}

/** What a holder writes when the command failed unexpectedly (the previous release reads `code`: a 500). */
export function failedAnswer(): HolderCommandResult & PreviousReleaseRefusal {
  return { ok: false, failed: true, code: 'internal', message: 'internal error' };
}

/** The error a sender raises for a holder's refusal, whichever release wrote it. */
export function refusalError(
  result: Exclude<HolderCommandResult, { ok: true } | { moved: true }> | PreviousReleaseRefusal,
  kind: string,
  sessionId: string,
): Error {
  if ('refusal' in result) return new SessionConnectorError(result.refusal, result.message, result.status);
  if ('failed' in result || (result.code !== 'conflict' && result.code !== 'unavailable')) {
    return new Error(`the replica holding session ${sessionId} failed to run the ${kind} command`);
  }
  // The previous release's API error: a refusal that maps back to the same code, message and status.
  const status = typeof result.details?.status === 'string' ? result.details.status : undefined;
  return new SessionConnectorError(result.code === 'conflict' ? 'busy' : 'holder_silent', result.message, status);
}

/** The holder does not hold the lease the command was addressed to: look the holder up again. */
export class HolderMovedError extends Error {
  constructor() {
    super('the session moved to another replica');
  }
}

const STALE_COMMANDS = `interval '10 minutes'`;

/**
 * How a replica asks the replica holding a session to act on it (stop, logout, pairing code): a
 * row addressed to the holder and the epoch it holds. The holder polls for its commands every
 * SESSION_COMMAND_POLL_MS; the sender waits for the answer up to SESSION_COMMAND_TIMEOUT_MS.
 * Plain rows and polling: works behind PgBouncer, where LISTEN/NOTIFY does not.
 */
@Injectable()
export class HolderCommands {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  async send(holder: LeaseFence, kind: HolderCommandKind, payload: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const [{ id }] = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO session_commands (session_id, target_owner, target_epoch, kind, payload) VALUES ($1, $2, $3, $4, $5) RETURNING id::text AS id`,
      [holder.sessionId, holder.owner, holder.epoch, kind, JSON.stringify(payload)],
    );
    const deadline = Date.now() + this.config.sessions.commandTimeoutMs;
    const every = Math.max(20, Math.min(100, this.config.sessions.commandPollMs));
    try {
      while (Date.now() < deadline) {
        await sleep(every);
        const rows: { result: HolderCommandResult | PreviousReleaseRefusal | null }[] = await this.dataSource.query(
          `SELECT result FROM session_commands WHERE id = $1 AND completed_at IS NOT NULL`,
          [id],
        );
        if (rows.length === 0) continue;
        const result = rows[0].result!;
        if ('moved' in result) throw new HolderMovedError();
        if (!result.ok) throw refusalError(result, kind, holder.sessionId);
        return result.value ?? {};
      }
      throw new SessionConnectorError('holder_silent', 'the replica holding this session did not answer in time; retry later');
    } finally {
      await this.dataSource.query(`DELETE FROM session_commands WHERE id = $1`, [id]).catch(() => undefined);
    }
  }

  /** Takes this replica's pending commands (each is handed out once). */
  async takePending(owner: string): Promise<HolderCommand[]> {
    // TypeORM answers an UPDATE with [rows, affected count].
    const [rows]: [{ id: string; session_id: string; target_epoch: string; kind: HolderCommandKind; payload: Record<string, unknown> }[], number] =
      await this.dataSource.query(
        `UPDATE session_commands SET picked_at = now()
         WHERE id IN (SELECT id FROM session_commands WHERE target_owner = $1 AND picked_at IS NULL ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED)
         RETURNING id::text AS id, session_id, target_epoch::text AS target_epoch, kind, payload`,
        [owner],
      );
    return rows.map((row) => ({ id: row.id, sessionId: row.session_id, targetEpoch: row.target_epoch, kind: row.kind, payload: row.payload }));
  }

  async complete(id: string, result: HolderCommandResult): Promise<void> {
    await this.dataSource.query(`UPDATE session_commands SET completed_at = now(), result = $2 WHERE id = $1`, [id, JSON.stringify(result)]);
  }

  /** Commands nobody waits for any more (their sender died). */
  async pruneStale(): Promise<void> {
    await this.dataSource.query(`DELETE FROM session_commands WHERE created_at < now() - ${STALE_COMMANDS}`);
  }
}
