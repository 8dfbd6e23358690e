import type { EntityManager } from 'typeorm';

/**
 * Per-organization quotas (one home for the rule): an org may have at most `maxSessions`
 * sessions, and at most `maxRunningSessions` of them meant to run (API) or held by a replica
 * (lease claims). The configured defaults (ORG_MAX_SESSIONS, ORG_MAX_RUNNING_SESSIONS) apply
 * unless the org has a row in `org_quotas`; a NULL column there keeps the default.
 */
export interface OrgQuotaDefaults {
  maxSessions: number;
  maxRunningSessions: number;
}

export type QuotaName = 'sessions' | 'running_sessions';

export interface QuotaExceeded {
  quota: QuotaName;
  limit: number;
}

/** SQL: the running-session quota of the org in `orgColumn`, with `defaultParam` as the configured default. */
export function runningQuotaSql(orgColumn: string, defaultParam: string): string {
  return `COALESCE((SELECT q.max_running_sessions FROM org_quotas q WHERE q.org_id = ${orgColumn}), ${defaultParam})`;
}

/** Serializes quota decisions of one org (create, start) for the rest of the transaction. */
const LOCK_ORG_QUOTA = `SELECT pg_advisory_xact_lock(hashtextextended('org-quota:' || $1, 0))`;

const ORG_COUNTS = `
  SELECT (SELECT count(*)::int FROM sessions WHERE org_id = $1) AS sessions,
         (SELECT count(*)::int FROM sessions WHERE org_id = $1 AND desired_state = 'running' AND id <> $4) AS running,
         COALESCE((SELECT max_sessions FROM org_quotas WHERE org_id = $1), $2) AS max_sessions,
         ${runningQuotaSql('$1', '$3')} AS max_running`;

/**
 * Within the caller's transaction: locks the org's quota decisions and says which quota one more
 * session (`adding`) or one more running session (`running`; `sessionId` is the one to start, not
 * counted against itself) would exceed, if any.
 */
export async function checkOrgQuota(
  manager: Pick<EntityManager, 'query'>,
  orgId: string,
  defaults: OrgQuotaDefaults,
  change: { adding: boolean; running: boolean; sessionId?: string },
): Promise<QuotaExceeded | undefined> {
  await manager.query(LOCK_ORG_QUOTA, [orgId]);
  const [row]: { sessions: number; running: number; max_sessions: number; max_running: number }[] = await manager.query(ORG_COUNTS, [
    orgId,
    defaults.maxSessions,
    defaults.maxRunningSessions,
    change.sessionId ?? '',
  ]);
  if (change.adding && row.sessions >= row.max_sessions) return { quota: 'sessions', limit: row.max_sessions };
  if (change.running && row.running >= row.max_running) return { quota: 'running_sessions', limit: row.max_running };
  return undefined;
}
