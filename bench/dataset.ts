import { Client } from 'pg';
import { generateApiKey, hashSecret } from '../src/auth/api-keys/api-key-token';
import { MUTED_FOREVER } from '../src/chats/chat-type';
import { newSessionId } from '../src/sessions/session-id';

/** The reference "now" of the dataset: fixed, so that every run seeds the same rows. */
const NOW_MS = Date.UTC(2025, 5, 1);
const DAY_MS = 86_400_000;
const TWO_YEARS_MS = 730 * DAY_MS;
const PINNED_PER_SESSION = 3;

export interface Dataset {
  orgId: string;
  /** The session with the most chats: every case reads it. */
  bigSessionId: string;
  sessionIds: string[];
  chats: number;
  apiKey: string;
  seedSeconds: number;
}

/**
 * One org with `sessions` sessions: the first holds `bigChats` chats, the others `smallChats`.
 * Rows are generated inside PostgreSQL in one INSERT ... SELECT (seconds for 100,000s of rows):
 * about 80% DMs (a tenth of them LID JIDs), 15% groups, 3% broadcast lists, 2% channels; 3 pinned
 * per session; 10% archived; 8% muted until a date, 2% muted forever; last activity spread over the
 * two years before the reference date, 5% with none; 30% with unread messages, 1% marked unread.
 */
export async function seedDataset(databaseUrl: string, options: { sessions: number; bigChats: number; smallChats: number }): Promise<Dataset> {
  const started = process.hrtime.bigint();
  const orgId = 'bench-org';
  const sessionIds = Array.from({ length: options.sessions }, () => newSessionId());
  const counts = sessionIds.map((_, index) => (index === 0 ? options.bigChats : options.smallChats));
  const key = generateApiKey();
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO sessions (id, org_id, name, status) SELECT id, $2, 'bench number ' || ord, 'connected' FROM unnest($1::text[]) WITH ORDINALITY AS s(id, ord)`,
      [sessionIds, orgId],
    );
    await client.query(`INSERT INTO api_keys (id, org_id, name, secret_hash, capabilities) VALUES ($1, $2, 'bench', $3, '{read,send}')`, [
      key.id,
      orgId,
      hashSecret(key.secret),
    ]);
    await client.query('SELECT setseed(0.42)');
    const inserted = await client.query(
      `INSERT INTO chats (session_id, jid, type, name, pinned_at, archived, muted_until, last_message_at, unread_count, unread_base, marked_unread)
       SELECT session_id,
              CASE type
                WHEN 'dm' THEN CASE WHEN r_lid < 0.1 THEN (180000000000000 + i)::text || '@lid' ELSE '62' || (8100000000 + i)::text || '@s.whatsapp.net' END
                WHEN 'group' THEN '120363' || (100000000000 + i)::text || '@g.us'
                WHEN 'broadcast' THEN (1600000000 + i)::text || '@broadcast'
                ELSE '120363' || (900000000000 + i)::text || '@newsletter'
              END,
              type,
              CASE
                WHEN type = 'dm' AND r_name < 0.85 THEN 'Contact ' || i
                WHEN type = 'group' AND r_name < 0.98 THEN 'Group ' || i
                WHEN type = 'broadcast' AND r_name < 0.5 THEN 'Broadcast list ' || i
                WHEN type = 'newsletter' THEN 'Channel ' || i
              END,
              CASE WHEN i <= ${PINNED_PER_SESSION} THEN $3::bigint - i * ${DAY_MS} END,
              r_archived < 0.1,
              CASE WHEN r_muted < 0.02 THEN ${MUTED_FOREVER} WHEN r_muted < 0.1 THEN $3::bigint + floor(r_muted * 300 * ${DAY_MS})::bigint END,
              CASE WHEN r_last >= 0.05 THEN $3::bigint - floor((r_last - 0.05) / 0.95 * ${TWO_YEARS_MS})::bigint END,
              CASE WHEN r_unread >= 0.7 THEN 1 + floor((r_unread - 0.7) / 0.3 * 50)::int ELSE 0 END,
              -- the sync derives the count from this base (see TestApp.insertChats): the same here
              CASE WHEN r_unread >= 0.7 THEN 1 + floor((r_unread - 0.7) / 0.3 * 50)::int ELSE 0 END,
              r_unread >= 0.69 AND r_unread < 0.7
       FROM (
         SELECT session_id, i,
                CASE WHEN r_type < 0.8 THEN 'dm' WHEN r_type < 0.95 THEN 'group' WHEN r_type < 0.98 THEN 'broadcast' ELSE 'newsletter' END AS type,
                r_lid, r_name, r_archived, r_muted, r_last, r_unread
         FROM (
           SELECT s.id AS session_id, g.i, random() AS r_type, random() AS r_lid, random() AS r_name, random() AS r_archived,
                  random() AS r_muted, random() AS r_last, random() AS r_unread
           FROM unnest($1::text[], $2::int[]) AS s(id, n), generate_series(1, s.n) AS g(i)
         ) AS draws
       ) AS generated`,
      [sessionIds, counts, NOW_MS],
    );
    await client.query('VACUUM ANALYZE chats');
    await client.query('VACUUM ANALYZE sessions');
    await client.query('VACUUM ANALYZE api_keys');
    return {
      orgId,
      bigSessionId: sessionIds[0],
      sessionIds,
      chats: inserted.rowCount ?? 0,
      apiKey: key.token,
      seedSeconds: Number(process.hrtime.bigint() - started) / 1e9,
    };
  } finally {
    await client.end();
  }
}
