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
import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { CursorCodec } from '../../src/common/pagination/cursor-codec';

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

const pool = new Pool({ connectionString: process.env.BASELINE_DATABASE_URL, max: Number(process.env.BASELINE_POOL_MAX ?? 10) });
const codec = new CursorCodec(createHash('sha256').update(process.env.BASELINE_CURSOR_SECRET ?? '').digest());

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

function send(response: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  response.end(json);
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = request.url ?? '/';
  const queryAt = url.indexOf('?');
  const route = ROUTE.exec(queryAt === -1 ? url : url.slice(0, queryAt));
  if (!route) return send(response, 404, { error: { code: 'not_found', message: 'route not found', details: {} } });
  const [, mode, sessionId] = route;
  const query = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
  const limit = Math.min(Math.max(Number(query.get('limit') || 50), 1), 200);
  const scope = `chats:${sessionId}`;
  let rows: Row[];
  if (mode === 'offset') {
    rows = (await pool.query<Row>(OFFSET_PAGE, [sessionId, limit + 1, Number(query.get('offset') || 0)])).rows;
  } else {
    const cursor = query.get('cursor');
    const after = cursor ? codec.decode(scope, cursor, 3) : undefined;
    rows = after
      ? (await pool.query<Row>(KEYSET_NEXT, [sessionId, limit + 1, after[0].toString(), after[1].toString(), after[2].toString()])).rows
      : (await pool.query<Row>(KEYSET_FIRST, [sessionId, limit + 1])).rows;
  }
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  let nextCursor: string | null = null;
  if (hasMore && mode === 'offset') nextCursor = String(Number(query.get('offset') || 0) + limit);
  if (hasMore && mode === 'keyset') nextCursor = codec.encode(scope, [BigInt(last.sort_pin), BigInt(last.sort_last), BigInt(last.id)]);
  send(response, 200, { data: page.map((row) => toChat(row, sessionId)), nextCursor });
}

const server = createServer((request, response) => {
  handle(request, response).catch((error: Error) => send(response, 500, { error: { code: 'internal', message: error.message, details: {} } }));
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
// The harness disconnects to stop it: exit normally, so that a --cpu-prof profile gets written.
process.on('disconnect', () => {
  server.close();
  server.closeAllConnections();
  void pool.end().finally(() => process.exit(0));
});
