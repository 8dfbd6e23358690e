import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { AppError } from '../../common/errors/app-error';
import { ChangeChatRequest, WriteResponse } from '../dto/message-writes.dto';
import { MessagesService } from '../messages.service';
import { IdempotentRequests } from './idempotency';
import type { IdempotencyClaim } from './idempotency';
import { OutboxRepository } from './outbox.repository';
import { OutboxStatusReader, toWriteResponse } from './outbox-status.reader';
import { normalizeSessionId } from '../../sessions/session-ownership';
import type { AcceptedWrite } from './outbox.repository';
import { CHAT_CHANGE_ORDER } from './outgoing-message';
import type { ChatChanges, OutgoingContent, OutgoingKey, OutgoingLastMessage } from './outgoing-message';
import { newWhatsAppMessageId } from './send-message.service';
import { expectedSendAt, sessionPacing } from './send-pacing';

/** WhatsApp lets the sender edit a message for 15 minutes. */
export const EDIT_WINDOW_MS = 15 * 60 * 1000;
/** WhatsApp lets the sender delete a message for everyone for about 2 days and 12 hours. */
export const DELETE_WINDOW_MS = 60 * 60 * 60 * 1000;

const MAX_INT64 = 2n ** 63n - 1n;

type OwnedMessage = Awaited<ReturnType<MessagesService['requireOwnedMessage']>>;

const refused = (reason: string, message: string) => new AppError('conflict', message, { reason });

/**
 * Reactions, edits, deletes for everyone and read receipts: checked against the stored copy,
 * then queued in the session's outbox (sent by the holder, fenced, once, paced with the messages;
 * the stored copy follows when WhatsApp took the change: whatsapp-sync/connection). With an
 * Idempotency-Key, as Send message (idempotency.ts): a replay is answered before the checks, so a
 * retried delete answers its first answer, not `message_deleted`.
 */
@Injectable()
export class MessageWritesService {
  constructor(
    private readonly messages: MessagesService,
    private readonly outbox: OutboxRepository,
    private readonly idempotency: IdempotentRequests,
    private readonly status: OutboxStatusReader,
    private readonly config: AppConfig,
  ) {}

  async react(orgId: string, rawSessionId: string, rawMessageId: string, emoji: string, idempotencyKey?: string): Promise<WriteResponse> {
    const target = await this.messages.requireOwnedMessage(orgId, rawSessionId, rawMessageId);
    const claim = this.claim(idempotencyKey, target, 'reaction', { emoji });
    return this.idempotency.run(orgId, claim, () => {
      if (target.message.deletedAt !== null) throw refused('message_deleted', 'the message was deleted for everyone; it takes no reactions');
      return this.queue(orgId, target, { kind: 'reaction', target: keyOf(target), emoji }, claim);
    });
  }

  async edit(orgId: string, rawSessionId: string, rawMessageId: string, text: string, idempotencyKey?: string): Promise<WriteResponse> {
    const target = await this.messages.requireOwnedMessage(orgId, rawSessionId, rawMessageId);
    const claim = this.claim(idempotencyKey, target, 'edit', { text });
    return this.idempotency.run(orgId, claim, () => {
      const { message } = target;
      if (!message.key.fromMe) throw refused('not_own_message', 'only messages this account sent can be edited');
      if (message.type !== 'text') throw refused('not_text_message', 'only text messages can be edited');
      this.requireSentAndPresent(message.status, message.deletedAt);
      if (Date.now() - message.timestamp > EDIT_WINDOW_MS)
        throw refused('edit_window_passed', 'WhatsApp lets a message be edited for 15 minutes after it was sent');
      return this.queue(orgId, target, { kind: 'edit', target: keyOf(target), text }, claim);
    });
  }

  async deleteForEveryone(
    orgId: string,
    rawSessionId: string,
    rawMessageId: string,
    forEveryone: string | undefined,
    idempotencyKey?: string,
  ): Promise<WriteResponse> {
    const target = await this.messages.requireOwnedMessage(orgId, rawSessionId, rawMessageId);
    if (forEveryone !== 'true') {
      throw AppError.invalidArgument('give forEveryone=true: a message is deleted for everyone (deleting it only here is not supported)', {
        parameter: 'forEveryone',
      });
    }
    const claim = this.claim(idempotencyKey, target, 'delete', {});
    return this.idempotency.run(orgId, claim, () => {
      const { message } = target;
      if (!message.key.fromMe) throw refused('not_own_message', 'only messages this account sent can be deleted for everyone');
      this.requireSentAndPresent(message.status, message.deletedAt);
      if (Date.now() - message.timestamp > DELETE_WINDOW_MS) {
        throw refused('delete_window_passed', 'WhatsApp lets a message be deleted for everyone for about 2 days and 12 hours after it was sent');
      }
      return this.queue(orgId, target, { kind: 'delete', target: keyOf(target) }, claim);
    });
  }

  async markChatRead(orgId: string, rawSessionId: string, rawChatId: string, idempotencyKey?: string): Promise<WriteResponse> {
    const { sessionId, chatId } = await this.messages.requireOwnedChat(orgId, rawSessionId, rawChatId);
    const claim = this.idempotency.claim(idempotencyKey, sessionId, { write: 'read', chat: chatId.toString() });
    return this.idempotency.run(orgId, claim, async () => {
      const chat = await this.outbox.chatById(sessionId, chatId);
      if (!chat) throw AppError.notFound('chat');
      const keys: OutgoingKey[] = (await this.outbox.unreadKeys(sessionId, chatId)).map((row) => ({
        remoteJid: row.remote_jid,
        waId: row.wa_id,
        fromMe: false,
        participant: row.participant,
      }));
      return this.accept(
        {
          orgId,
          sessionId,
          action: 'read',
          messageId: null,
          jid: chat.jid,
          outbox: { content: { kind: 'read', keys }, quoted: null },
          expiresInMs: this.config.sending.expiryMs,
          ...(claim ? { idempotency: claim } : {}),
        },
        Number(chatId),
      );
    });
  }

  /** What makes two writes to a message the same request: the route, the message, the body. */
  private claim(key: string | undefined, target: OwnedMessage, write: 'reaction' | 'edit' | 'delete', body: Record<string, unknown>) {
    return this.idempotency.claim(key, target.message.sessionId, { write, message: String(target.message.id), ...body });
  }

  /**
   * Archive, pin, mute, mark (un)read: queued as one outbox row whose fields the holder writes to
   * WhatsApp as app-state patches; the stored chat follows when WhatsApp accepted each one.
   */
  async changeChat(orgId: string, rawSessionId: string, rawChatId: string, body: ChangeChatRequest, idempotencyKey?: string): Promise<WriteResponse> {
    const changes: ChatChanges = {};
    for (const field of CHAT_CHANGE_ORDER) if (body[field] !== undefined) Object.assign(changes, { [field]: body[field] });
    if (Object.keys(changes).length === 0) {
      throw AppError.invalidArgument(`give at least one of ${CHAT_CHANGE_ORDER.join(', ')}`, { parameter: 'body' });
    }
    if (typeof changes.mutedUntil === 'number' && changes.mutedUntil <= Date.now()) {
      throw AppError.invalidArgument('mutedUntil must be in the future (null unmutes)', { parameter: 'mutedUntil' });
    }
    const { sessionId, chatId } = await this.messages.requireOwnedChat(orgId, rawSessionId, rawChatId);
    const claim = this.idempotency.claim(idempotencyKey, sessionId, { write: 'chat', chat: chatId.toString(), ...changes });
    return this.idempotency.run(orgId, claim, async () => {
      const chat = await this.outbox.chatById(sessionId, chatId);
      if (!chat) throw AppError.notFound('chat');
      const newest = await this.outbox.newestMessage(sessionId, chatId);
      // A group message from someone else without its sender cannot be named to WhatsApp: the change then names none.
      const lastMessage: OutgoingLastMessage | null =
        newest && (newest.from_me || newest.participant !== null || !chat.jid.endsWith('@g.us'))
          ? {
              remoteJid: newest.remote_jid,
              waId: newest.wa_id,
              fromMe: newest.from_me,
              participant: newest.participant,
              timestamp: Math.floor(Number(newest.ts) / 1000),
            }
          : null;
      return this.accept(
        {
          orgId,
          sessionId,
          action: 'chat',
          messageId: null,
          jid: chat.jid,
          outbox: { content: { kind: 'chat', changes, lastMessage }, quoted: null },
          expiresInMs: this.config.sending.expiryMs,
          ...(claim ? { idempotency: claim } : {}),
        },
        Number(chatId),
      );
    });
  }

  private requireSentAndPresent(status: string | null, deletedAt: number | null): void {
    if (deletedAt !== null) throw refused('message_deleted', 'the message was deleted for everyone');
    if (status === 'pending' || status === 'failed') throw refused('not_sent', 'the message has not been sent (it is pending or failed)');
  }

  private queue(orgId: string, target: OwnedMessage, content: OutgoingContent & { kind: 'reaction' | 'edit' | 'delete' }, claim: IdempotencyClaim | undefined) {
    const { message } = target;
    return this.accept(
      {
        orgId,
        sessionId: message.sessionId,
        action: content.kind,
        messageId: String(message.id),
        jid: target.remoteJid,
        outbox: { content, quoted: null, protocolId: newWhatsAppMessageId() },
        expiresInMs: this.config.sending.expiryMs,
        ...(claim ? { idempotency: claim } : {}),
      },
      message.chatId,
    );
  }

  /** Undefined when a concurrent request with the same Idempotency-Key stored its write first. */
  private accept(write: AcceptedWrite, chatId: number): Promise<WriteResponse | undefined> {
    return this.outbox.acceptWrite(write, ({ outboxId, ahead, tat, pacing }) =>
      toWriteResponse(
        { id: outboxId, action: write.action, message_id: write.messageId, chat_id: String(chatId), state: 'pending', failure_reason: null, acked: false },
        { position: ahead, expectedSendAt: expectedSendAt(tat, Date.now(), ahead, sessionPacing(pacing, this.config.sending)) },
      ),
    );
  }

  /** Get write: a write of a session the org owns; one 404 for an unknown write, a message's row, another org's session alike. */
  async get(orgId: string, rawSessionId: string, rawWriteId: string): Promise<WriteResponse> {
    const sessionId = normalizeSessionId(rawSessionId);
    const writeId = /^[1-9]\d{0,18}$/.test(rawWriteId) ? BigInt(rawWriteId) : undefined;
    const write = sessionId === undefined || writeId === undefined || writeId > MAX_INT64 ? undefined : await this.status.write(orgId, sessionId, writeId);
    if (!write) throw AppError.notFound('write');
    return write;
  }
}

function keyOf(target: { remoteJid: string; waId: string; fromMe: boolean; participant: string | null }): OutgoingKey {
  return { remoteJid: target.remoteJid, waId: target.waId, fromMe: target.fromMe, participant: target.participant };
}
