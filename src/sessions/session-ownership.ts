import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { RawSessionView, SESSION_VIEW, SessionView, toSessionView } from './session-view';

/**
 * The ownership rule, in one place: a session belongs to exactly one org, and a session id that is
 * malformed, unknown, or owned by another org gives the same 404 (`sessionNotFound`), byte for
 * byte, so that a caller can never learn whether another org's session exists. Every module that
 * takes a session id from a caller (sessions, chats, and whatever reads or acts on a session next)
 * checks it through `SessionOwnership`, or, when it must check in its own SQL for speed, with
 * `ownedSessionCondition`.
 */

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** ULIDs are case-insensitive; the canonical form is upper case. Returns undefined when malformed. */
export function normalizeSessionId(raw: string): string | undefined {
  const upper = raw.toUpperCase();
  return ULID.test(upper) ? upper : undefined;
}

/** The one error of the ownership rule, for a malformed, unknown or foreign session id alike. */
export function sessionNotFound(): AppError {
  return AppError.notFound('session');
}

/**
 * The rule in SQL: the `sessions` row aliased `alias` has the id in parameter `$idParam` and
 * belongs to the org in `$orgParam` (or in the SQL expressions given as strings, for a statement
 * that checks several at once). For statements that check ownership and read in one go.
 */
export function ownedSessionCondition(alias: string, idParam: number | string, orgParam: number | string): string {
  const sql = (given: number | string) => (typeof given === 'number' ? `$${given}` : given);
  return `${alias}.id = ${sql(idParam)} AND ${alias}.org_id = ${sql(orgParam)}`;
}

const OWNED_SESSION_EXISTS = `SELECT 1 FROM sessions s WHERE ${ownedSessionCondition('s', 1, 2)}`;
const OWNED_SESSION_VIEW = `${SESSION_VIEW} WHERE ${ownedSessionCondition('s', 1, 2)}`;

@Injectable()
export class SessionOwnership {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The canonical id of a session `orgId` owns; else the ownership 404. One indexed lookup. */
  async requireOwnedId(orgId: string, rawSessionId: string): Promise<string> {
    const id = normalizeSessionId(rawSessionId);
    if (id === undefined) throw sessionNotFound();
    const rows: unknown[] = await this.dataSource.query(OWNED_SESSION_EXISTS, [id, orgId]);
    if (rows.length === 0) throw sessionNotFound();
    return id;
  }

  /** The session `orgId` owns, as the API shows it (with its holder); else the ownership 404. */
  async requireOwned(orgId: string, rawSessionId: string): Promise<SessionView> {
    const id = normalizeSessionId(rawSessionId);
    if (id === undefined) throw sessionNotFound();
    const rows: RawSessionView[] = await this.dataSource.query(OWNED_SESSION_VIEW, [id, orgId]);
    if (rows.length === 0) throw sessionNotFound();
    return toSessionView(rows[0]);
  }
}
