import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { AppError } from '../common/errors/app-error';
import { CursorCodec } from '../common/pagination/cursor-codec';
import { PageQuery } from '../common/pagination/page-query';
import { connectorRefusalToApiError, SessionConnectorError } from '../sessions/session-connector';
import { normalizeSessionId } from '../sessions/session-ownership';
import { MessagePageResponse } from './dto/message-page.response';
import { MessageResponse } from './dto/message.response';
import { MEDIA_TYPES } from './message-type';
import { MESSAGE_MEDIA_FETCHER } from './message-media-fetcher';
import type { MessageMediaFetcher } from './message-media-fetcher';
import { MessagesRepository } from './messages.repository';
import { OutboxStatusReader } from './sending/outbox-status.reader';

const POSITION_KEYS = 2;
const INT64 = /^[1-9]\d{0,18}$/;
const MAX_INT64 = 2n ** 63n - 1n;

/**
 * One answer for every chat the caller may not read (a malformed or unknown id, a chat of another
 * session, a session of another org) and one for every such message: byte for byte the same, so
 * nothing tells whether another org's session, chat or message exists.
 */
const chatNotFound = () => AppError.notFound('chat');
const messageNotFound = () => AppError.notFound('message');

/** A gateway id from a path: a positive int64, else undefined. */
function parseId(raw: string): bigint | undefined {
  if (!INT64.test(raw)) return undefined;
  const id = BigInt(raw);
  return id <= MAX_INT64 ? id : undefined;
}

export interface MessageMediaStream {
  stream: Readable;
  mimetype: string;
  /** bytes, when WhatsApp gave the size */
  size: number | null;
  fileName: string | null;
}

@Injectable()
export class MessagesService {
  constructor(
    private readonly messages: MessagesRepository,
    private readonly cursors: CursorCodec,
    @Inject(MESSAGE_MEDIA_FETCHER) private readonly media: MessageMediaFetcher,
    private readonly outbox: OutboxStatusReader,
  ) {}

  /** One page of a chat's stored messages, newest first. Never calls WhatsApp. */
  async listForChat(orgId: string, rawSessionId: string, rawChatId: string, page: PageQuery): Promise<MessagePageResponse> {
    const sessionId = normalizeSessionId(rawSessionId);
    const chatId = parseId(rawChatId);
    if (sessionId === undefined || chatId === undefined) throw chatNotFound();
    const scope = `messages:${sessionId}:${chatId}`;
    let after: bigint[] | undefined;
    if (page.cursor !== undefined) {
      try {
        after = this.cursors.decode(scope, page.cursor, POSITION_KEYS);
      } catch (error) {
        // A bad cursor is 400, but only for a caller who may read the chat: for anyone else it does not exist.
        if ((await this.messages.findOwnedChatPage(orgId, sessionId, chatId, 1)) === undefined) throw chatNotFound();
        throw error;
      }
    }
    const found = await this.messages.findOwnedChatPage(orgId, sessionId, chatId, page.limit, after);
    if (found === undefined) throw chatNotFound();
    await this.outbox.annotate(sessionId, found.messages);
    return { data: found.messages, nextCursor: found.next ? this.cursors.encode(scope, found.next) : null };
  }

  async get(orgId: string, rawSessionId: string, rawMessageId: string): Promise<MessageResponse> {
    const { message } = await this.requireOwnedMessage(orgId, rawSessionId, rawMessageId);
    await this.outbox.annotate(message.sessionId, [message]);
    return message;
  }

  /**
   * The message's media, streamed from WhatsApp through the session's connection. 404 when the
   * message has none (or no longer: deleted for everyone), 409 when the session is not connected.
   */
  async openMedia(orgId: string, rawSessionId: string, rawMessageId: string): Promise<MessageMediaStream> {
    const source = await this.requireOwnedMessage(orgId, rawSessionId, rawMessageId);
    const { message } = source;
    if (!MEDIA_TYPES.has(message.type) || !message.media || !source.encryptedMediaKey || (!source.directPath && !source.url)) {
      throw AppError.notFound('media of the message');
    }
    const stream = await this.media.open(message.sessionId, source).catch((error: unknown) => {
      throw error instanceof SessionConnectorError ? connectorRefusalToApiError(error) : error;
    });
    return { stream, mimetype: message.media.mimetype ?? 'application/octet-stream', size: message.media.size, fileName: message.media.fileName };
  }

  /** The chat of a session the org owns; the one 404 for a chat otherwise. */
  async requireOwnedChat(orgId: string, rawSessionId: string, rawChatId: string): Promise<{ sessionId: string; chatId: bigint }> {
    const sessionId = normalizeSessionId(rawSessionId);
    const chatId = parseId(rawChatId);
    if (sessionId === undefined || chatId === undefined) throw chatNotFound();
    if ((await this.messages.findOwnedChatPage(orgId, sessionId, chatId, 1)) === undefined) throw chatNotFound();
    return { sessionId, chatId };
  }

  /** A message of a session the org owns, with its WhatsApp key; the one 404 for a message otherwise. */
  async requireOwnedMessage(orgId: string, rawSessionId: string, rawMessageId: string) {
    const sessionId = normalizeSessionId(rawSessionId);
    const messageId = parseId(rawMessageId);
    if (sessionId === undefined || messageId === undefined) throw messageNotFound();
    const source = await this.messages.findOwnedWithMedia(orgId, sessionId, messageId);
    if (source === undefined) throw messageNotFound();
    return source;
  }
}
