import { Injectable } from '@nestjs/common';
import { rowsToRead } from '../common/pagination/page-query';
import { INT8_AS_TEXT, PageReadPool } from '../database/page-read-pool';
import { ownedSessionCondition } from '../sessions/session-ownership';
import { MessageResponse, toMessageResponse } from './dto/message.response';
import type { StoredMessage } from './message.entity';

/** (ts, id): where a message stands in a chat's newest-first order, as a cursor carries it. */
export type MessagePosition = [ts: bigint, id: bigint];

export interface MessagePage {
  messages: MessageResponse[];
  next?: MessagePosition;
}

/** A stored message with what a download needs (never shown to a client). */
export interface MessageMediaSource {
  message: MessageResponse;
  remoteJid: string;
  waId: string;
  fromMe: boolean;
  participant: string | null;
  directPath: string | null;
  url: string | null;
  fileSha256: string | null;
  fileEncSha256: string | null;
  /** Encrypted with the credential cipher (mediaKeyContext). */
  encryptedMediaKey: Buffer | null;
}

const COLUMNS = `m.id, m.chat_id, m.wa_id, m.from_me, m.remote_jid, m.participant, m.sender_jid, m.push_name, m.ts, m.type, m.body,
  m.quoted_id, m.mentions, m.media, m.status, m.edited_at, m.deleted_at, m.reactions`;

// A page row's columns: COLUMNS but the chat's id, which the page's caller gave. pg returns the
// rows as arrays in this order (RawPageMessage): object rows cost pg a spread and a store by name
// per column, slow in this process where many row shapes go through the same code.
const PAGE_COLUMNS = `m.id, m.wa_id, m.from_me, m.remote_jid, m.participant, m.sender_jid, m.push_name, m.ts, m.type, m.body,
  m.quoted_id, m.mentions, m.media, m.status, m.edited_at, m.deleted_at, m.reactions`;

/** One page row as pg returns it in array mode, in the order of PAGE_COLUMNS (int8 columns as text). */
type RawPageMessage = [
  id: string | null,
  waId: string,
  fromMe: boolean,
  remoteJid: string,
  participant: string | null,
  senderJid: string | null,
  pushName: string | null,
  ts: string | null,
  type: string | null,
  body: string | null,
  quotedId: string | null,
  mentions: string[] | null,
  media: StoredMessage['media'],
  status: number | null,
  editedAt: string | null,
  deletedAt: string | null,
  reactions: StoredMessage['reactions'],
];

/** A page row as the stored message toMessageResponse maps (spelled out: a literal of one shape is cheap). */
function storedMessageOf(row: RawPageMessage, chatId: string): StoredMessage {
  return {
    id: row[0],
    chat_id: chatId,
    wa_id: row[1],
    from_me: row[2],
    remote_jid: row[3],
    participant: row[4],
    sender_jid: row[5],
    push_name: row[6],
    ts: row[7],
    type: row[8],
    body: row[9],
    quoted_id: row[10],
    mentions: row[11],
    media: row[12],
    status: row[13],
    edited_at: row[14],
    deleted_at: row[15],
    reactions: row[16],
  };
}

// One statement checks that the caller's org owns the session and that the chat is the session's
// (ownedSessionCondition, the ownership rule, and the chat's session)
// and reads the page: no session or chat, no row; an owned chat without messages, one row of
// NULLs. The page is a backward range scan of messages_chat_page from the cursor's position (the
// row comparison is an index condition) in the session's one partition: no sort, first or deep.
const chatPage = (keyset: string) => `
  SELECT page.*
  FROM sessions
  JOIN chats c ON c.session_id = sessions.id AND c.id = $2
  LEFT JOIN LATERAL (
    SELECT ${PAGE_COLUMNS}
    FROM messages m
    WHERE m.session_id = $1 AND m.chat_id = $2 AND m.ts IS NOT NULL${keyset}
    ORDER BY m.ts DESC, m.id DESC
    LIMIT $4
  ) AS page ON true
  WHERE ${ownedSessionCondition('sessions', 1, 3)}`;
const FIRST_PAGE = chatPage('');
const NEXT_PAGE = chatPage(' AND (m.ts, m.id) < ($5, $6)');

const ONE_MESSAGE = `
  SELECT ${COLUMNS}, m.media_key
  FROM sessions JOIN messages m ON m.session_id = sessions.id AND m.id = $2 AND m.ts IS NOT NULL
  WHERE ${ownedSessionCondition('sessions', 1, 3)}`;

// int8 columns stay PostgreSQL's text (INT8_AS_TEXT); toMessageResponse converts them itself.
const PAGE_TYPES = INT8_AS_TEXT;

/** The SQL and parameters of one page of a chat's messages: the repository runs it, the benchmark EXPLAINs it. */
export function chatMessagesPageQuery(orgId: string, sessionId: string, chatId: bigint, count: number, after?: readonly bigint[]) {
  return after
    ? { name: 'messages_chat_page_after', text: NEXT_PAGE, values: [sessionId, chatId.toString(), orgId, count, after[0].toString(), after[1].toString()] }
    : { name: 'messages_chat_page_first', text: FIRST_PAGE, values: [sessionId, chatId.toString(), orgId, count] };
}

@Injectable()
export class MessagesRepository {
  constructor(private readonly pool: PageReadPool) {}

  /**
   * Up to `limit` messages of the chat, newest first, after `after` when given; undefined when
   * `orgId` does not own the session or the chat is not the session's. Reads `rowsToRead(limit)`
   * rows (page-query.ts) and cuts them itself.
   */
  async findOwnedChatPage(orgId: string, sessionId: string, chatId: bigint, limit: number, after?: readonly bigint[]): Promise<MessagePage | undefined> {
    const query = chatMessagesPageQuery(orgId, sessionId, chatId, rowsToRead(limit), after);
    const { rows } = await this.pool.query<RawPageMessage>({ name: query.name, text: query.text, values: query.values, rowMode: 'array', types: PAGE_TYPES });
    if (rows.length === 0) return undefined;
    if (rows[0][0] === null) return { messages: [] };
    const chat = chatId.toString();
    const count = Math.min(rows.length, limit);
    const messages = new Array<MessageResponse>(count);
    for (let i = 0; i < count; i++) messages[i] = toMessageResponse(storedMessageOf(rows[i], chat), sessionId);
    if (rows.length <= limit) return { messages };
    const last = rows[count - 1];
    return { messages, next: [BigInt(last[7]!), BigInt(last[0]!)] };
  }

  /** One message of a session the org owns, with what downloading its media needs; undefined otherwise. */
  async findOwnedWithMedia(orgId: string, sessionId: string, messageId: bigint): Promise<MessageMediaSource | undefined> {
    const { rows } = await this.pool.query<StoredMessage & { media_key: Buffer | null }>({
      name: 'messages_one',
      text: ONE_MESSAGE,
      values: [sessionId, messageId.toString(), orgId],
      types: PAGE_TYPES,
    });
    const row = rows[0];
    if (!row) return undefined;
    const media = (row.media ?? {}) as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' ? value : null);
    return {
      message: toMessageResponse(row, sessionId),
      remoteJid: row.remote_jid,
      waId: row.wa_id,
      fromMe: row.from_me,
      participant: row.participant,
      directPath: text(media.directPath),
      url: text(media.url),
      fileSha256: text(media.fileSha256),
      fileEncSha256: text(media.fileEncSha256),
      encryptedMediaKey: row.media_key,
    };
  }
}
