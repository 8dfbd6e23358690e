/**
 * The baselines of the List messages benchmark: the same page with nothing but `node:http` and `pg`.
 *
 *   GET /keyset/sessions/:session/chats/:chat/messages?limit=&cursor=   the gateway's keyset query
 *       (the same statement text), the same JSON bytes, no framework, no auth, no logging
 *   GET /offset/sessions/:session/chats/:chat/messages?limit=&offset=   the same page by LIMIT/OFFSET
 *
 * Started by bench/messages/messages-bench.ts as a child process (fork, IPC); it reports its port
 * with `{ port }`. Cursors are signed by the gateway's codec with the gateway's secret.
 */
import { INT8_AS_TEXT } from '../../src/database/page-read-pool';
import { toMessageResponse } from '../../src/messages/dto/message.response';
import type { StoredMessage } from '../../src/messages/message.entity';
import { BaselineRequest, baselinePool as pool, keysetAfter, pageBody, serveBaseline } from '../support/baseline-http';

const COLUMNS = `m.id, m.chat_id, m.wa_id, m.from_me, m.remote_jid, m.participant, m.sender_jid, m.push_name, m.ts, m.type, m.body,
  m.quoted_id, m.mentions, m.media, m.status, m.edited_at, m.deleted_at, m.reactions`;
const WHERE = 'm.session_id = $1 AND m.chat_id = $2 AND m.ts IS NOT NULL';
const ORDER = 'ORDER BY m.ts DESC, m.id DESC';
const KEYSET_FIRST = `SELECT ${COLUMNS} FROM messages m WHERE ${WHERE} ${ORDER} LIMIT $3`;
const KEYSET_NEXT = `SELECT ${COLUMNS} FROM messages m WHERE ${WHERE} AND (m.ts, m.id) < ($4, $5) ${ORDER} LIMIT $3`;
const OFFSET_PAGE = `SELECT ${COLUMNS} FROM messages m WHERE ${WHERE} ${ORDER} LIMIT $3 OFFSET $4`;
const ROUTE = /^\/(keyset|offset)\/sessions\/([^/]+)\/chats\/(\d+)\/messages$/;
const TYPES = INT8_AS_TEXT;

async function listMessages(request: BaselineRequest) {
  const [sessionId, chatId] = request.params;
  const scope = `messages:${sessionId}:${chatId}`;
  const limit = request.limit;
  let rows: StoredMessage[];
  if (request.mode === 'offset') {
    const offset = Number(request.query.get('offset') || 0);
    rows = (await pool.query<StoredMessage>({ text: OFFSET_PAGE, values: [sessionId, chatId, limit + 1, offset], types: TYPES })).rows;
  } else {
    const after = keysetAfter(request, scope, 2);
    rows = after
      ? (await pool.query<StoredMessage>({ text: KEYSET_NEXT, values: [sessionId, chatId, limit + 1, after[0].toString(), after[1].toString()], types: TYPES }))
          .rows
      : (await pool.query<StoredMessage>({ text: KEYSET_FIRST, values: [sessionId, chatId, limit + 1], types: TYPES })).rows;
  }
  return pageBody(request, rows, {
    scope,
    keyOf: (last) => [BigInt(last.ts!), BigInt(last.id!)],
    toItem: (row) => toMessageResponse(row, sessionId),
  });
}

serveBaseline(ROUTE, listMessages);
