/**
 * The baselines of `npm run bench`: the List chats answer with nothing but `node:http` and `pg`.
 *
 *   GET /keyset/sessions/:session/chats?limit=&cursor=   the limit: the gateway's keyset query, the same
 *                                                        JSON bytes, no framework, no auth, no logging
 *   GET /offset/sessions/:session/chats?limit=&offset=   the peers' way: the same page by LIMIT/OFFSET
 *
 * Started by bench/run.ts as a child process (fork, IPC); it reports its port with `{ port }`.
 * Cursors are signed by the gateway's own codec with the gateway's secret, so a cursor works on
 * both servers and the harness can check that both answer byte for byte the same.
 */
import { BaselineRequest, baselinePool as pool, keysetAfter, pageBody, serveBaseline } from '../support/baseline-http';

const COLUMNS = 'id, jid, type, name, archived, muted_until, last_message_at, unread_count, marked_unread, sort_pin, sort_last';
const ORDER = 'ORDER BY sort_pin DESC, sort_last DESC, id DESC';
const KEYSET_FIRST = `SELECT ${COLUMNS} FROM chats WHERE session_id = $1 ${ORDER} LIMIT $2`;
const KEYSET_NEXT = `SELECT ${COLUMNS} FROM chats WHERE session_id = $1 AND (sort_pin, sort_last, id) < ($3, $4, $5) ${ORDER} LIMIT $2`;
const OFFSET_PAGE = `SELECT ${COLUMNS} FROM chats WHERE session_id = $1 ${ORDER} LIMIT $2 OFFSET $3`;
const ROUTE = /^\/(keyset|offset)\/sessions\/([^/]+)\/chats$/;

interface Row {
  id: string;
  jid: string;
  type: string;
  name: string | null;
  archived: boolean;
  muted_until: string | null;
  last_message_at: string | null;
  unread_count: number;
  marked_unread: boolean;
  sort_pin: string;
  sort_last: string;
}

function toChat(row: Row, sessionId: string) {
  return {
    archived: row.archived,
    id: Number(row.id),
    jid: row.jid,
    lastMessageAt: row.last_message_at === null ? null : Number(row.last_message_at),
    mutedUntil: row.muted_until === null ? null : Number(row.muted_until),
    name: row.name,
    pinned: row.sort_pin !== '-1',
    sessionId,
    type: row.type,
    unreadCount: row.marked_unread ? Math.max(row.unread_count, 1) : row.unread_count,
  };
}

async function listChats(request: BaselineRequest) {
  const [sessionId] = request.params;
  const scope = `chats:${sessionId}`;
  const limit = request.limit;
  let rows: Row[];
  if (request.mode === 'offset') {
    rows = (await pool.query<Row>(OFFSET_PAGE, [sessionId, limit + 1, Number(request.query.get('offset') || 0)])).rows;
  } else {
    const after = keysetAfter(request, scope, 3);
    rows = after
      ? (await pool.query<Row>(KEYSET_NEXT, [sessionId, limit + 1, after[0].toString(), after[1].toString(), after[2].toString()])).rows
      : (await pool.query<Row>(KEYSET_FIRST, [sessionId, limit + 1])).rows;
  }
  return pageBody(request, rows, {
    scope,
    keyOf: (last) => [BigInt(last.sort_pin), BigInt(last.sort_last), BigInt(last.id)],
    toItem: (row) => toChat(row, sessionId),
  });
}

serveBaseline(ROUTE, listChats);
