import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import { AppError } from '../../common/errors/app-error';
import { SessionOwnership } from '../../sessions/session-ownership';
import { MAX_TEXT, SEND_TARGET, SendMessageRequest } from '../dto/send-message.request';
import type { StreamedBody } from '../../common/http/streamed-body';
import { firstUnstorableString } from '../../common/validation/unstorable-strings';
import type { MediaKind } from '../../config/app-config';
import { MediaForm, readMediaForm } from './media-form';
import { MediaStaging } from './media-staging';
import { SendMessageResponse } from '../dto/send-message.response';
import { toMessageResponse } from '../dto/message.response';
import { statusRank } from '../message-type';
import { IdempotentRequests } from './idempotency';
import { OutboxRepository } from './outbox.repository';
import { AcceptBatches } from './accept-batches';
import type { AcceptedMessage } from './outbox.repository';
import type { OutgoingContent } from './outgoing-message';
import { expectedSendAt, sessionPacing } from './send-pacing';

const MAX_INT64 = 2n ** 63n - 1n;
/** A gateway id (digits, already matched), when it fits int64. */
const int64 = (digits: string) => (BigInt(digits) <= MAX_INT64 ? BigInt(digits) : undefined);

/** A WhatsApp message id in the form WhatsApp Web's own use: 3EB0 and 18 hex digits. */
export function newWhatsAppMessageId(): string {
  return `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;
}

/** `+6281234567890` or `6281234567890@s.whatsapp.net` as a JID. */
const userJid = (value: string) => (value.startsWith('+') ? `${value.slice(1)}@s.whatsapp.net` : value);

/**
 * Send message: validates, resolves the chat, stores the message (status pending, its WhatsApp id
 * fixed) with its outbox row, and answers; the replica holding the session sends it
 * (whatsapp-sync/outbox). With an Idempotency-Key, the first answer is kept for 24 h.
 */
@Injectable()
export class SendMessageService {
  constructor(
    private readonly ownership: SessionOwnership,
    private readonly outbox: OutboxRepository,
    private readonly batches: AcceptBatches,
    private readonly idempotency: IdempotentRequests,
    private readonly config: AppConfig,
    private readonly staging: MediaStaging,
  ) {}

  async send(orgId: string, rawSessionId: string, request: SendMessageRequest, idempotencyKey: string | undefined): Promise<SendMessageResponse> {
    return this.idempotency.runOnOwnedSession(orgId, rawSessionId, idempotencyKey, request, async (sessionId, claim) => {
      const accepted = await this.resolve(orgId, sessionId, request);
      if (claim) accepted.idempotency = claim;
      return this.respondWith(accepted, sessionId);
    });
  }

  /**
   * Send message with a file (multipart/form-data, docs/sending.md "Media"): the form is read as it
   * streams, its file staged in PostgreSQL (media-staging.ts) and linked to the outbox row in the
   * acceptance transaction; a staged file that no message took is deleted before answering.
   * "The same request" for the Idempotency-Key is the same session, text fields and file content
   * type, and the same file bytes (their SHA-256, computed while they streamed in).
   */
  async sendMedia(orgId: string, rawSessionId: string, body: StreamedBody, idempotencyKey: string | undefined): Promise<SendMessageResponse> {
    let form: MediaForm | undefined;
    let linked = false;
    try {
      const sessionId = await this.ownership.requireOwnedId(orgId, rawSessionId);
      // A malformed key is refused before the body is read.
      this.idempotency.claim(idempotencyKey, sessionId, null);
      form = await readMediaForm(body, this.config.sending.media, {
        stage: (chunks, onChunk) => this.staging.stage(sessionId, chunks, onChunk),
        discard: (stagingId) => this.staging.discard(stagingId),
      });
      const staged = form;
      const request = mediaRequest(staged);
      const claim = this.idempotency.claim(idempotencyKey, sessionId, {
        media: { ...request, mimetype: staged.mimetype, sha256: staged.sha256.toString('hex') },
      });
      return await this.idempotency.run(orgId, claim, async () => {
        const accepted = await this.resolveMedia(orgId, sessionId, request, staged);
        if (claim) accepted.idempotency = claim;
        const response = await this.respondWith(accepted, sessionId);
        linked = response !== undefined;
        return response;
      });
    } catch (error) {
      // A refusal before the whole body was read: the rest is not read (the client may still be sending).
      body.closeConnection();
      throw error;
    } finally {
      if (form && !linked) await this.staging.discard(form.stagingId);
    }
  }

  /** Stores the message with its outbox row; its answer, with where it stands in the queue (undefined: a concurrent request took the key). */
  private respondWith(accepted: AcceptedMessage, sessionId: string): Promise<SendMessageResponse | undefined> {
    return this.batches.accept(accepted, ({ message, ahead, tat, pacing }) => ({
      ...toMessageResponse(message, sessionId),
      queue: { position: ahead, expectedSendAt: expectedSendAt(tat, Date.now(), ahead, sessionPacing(pacing, this.config.sending)) },
    }));
  }

  private async resolve(orgId: string, sessionId: string, request: SendMessageRequest): Promise<AcceptedMessage> {
    const given = [request.text !== undefined, request.location !== undefined, request.contact !== undefined].filter(Boolean).length;
    if (given !== 1) throw AppError.invalidArgument('give exactly one of text, location, contact', { parameter: 'body' });
    if (request.mentions !== undefined && request.text === undefined) throw AppError.invalidArgument('mentions go with text', { parameter: 'mentions' });
    const { jid, chatType } = await this.target(sessionId, request.to);
    const quoted = await this.quote(sessionId, request.replyTo, jid);
    const mentions = [...new Set((request.mentions ?? []).map(userJid))];
    let content: OutgoingContent;
    let body: string | null;
    if (request.text !== undefined) {
      content = { kind: 'text', text: request.text, mentions };
      body = request.text;
    } else if (request.location) {
      const { latitude, longitude, name, address } = request.location;
      content = { kind: 'location', latitude, longitude, name: name ?? null, address: address ?? null };
      body = name ?? null;
    } else {
      const { name, phone } = request.contact!;
      content = { kind: 'contact', name, phone };
      body = name;
    }
    return this.accepted({ orgId, sessionId, jid, chatType, type: content.kind, body, mentions, outbox: { content, quoted } });
  }

  /** A media message: its file staged already, the stored message carrying its metadata. */
  private async resolveMedia(orgId: string, sessionId: string, request: MediaRequest, form: MediaForm): Promise<AcceptedMessage> {
    const { jid, chatType } = await this.target(sessionId, request.to);
    const quoted = await this.quote(sessionId, request.replyTo, jid);
    const fileName = request.fileName ?? null;
    const caption = request.caption ?? null;
    const content: OutgoingContent = {
      kind: 'media',
      mediaType: request.type,
      stagingId: form.stagingId,
      mimetype: form.mimetype,
      size: form.size,
      fileName,
      caption,
    };
    return this.accepted({
      orgId,
      sessionId,
      jid,
      chatType,
      type: request.type,
      body: caption,
      mentions: [],
      media: { mimetype: form.mimetype, size: form.size, ...(fileName !== null ? { fileName } : {}) },
      stagingId: form.stagingId,
      outbox: { content, quoted },
    });
  }

  /** A message to store and send: its WhatsApp id fixed now (a send retried after a crash is the same message), pending until it expires. */
  private accepted(message: Omit<AcceptedMessage, 'waId' | 'expiresInMs' | 'pendingRank'>): AcceptedMessage {
    return { ...message, waId: newWhatsAppMessageId(), expiresInMs: this.config.sending.expiryMs, pendingRank: statusRank('pending') };
  }

  /** The stored message of the chat `jid` that `replyTo` names, as WhatsApp needs it to show the quote. */
  private async quote(sessionId: string, replyTo: string | undefined, jid: string): Promise<AcceptedMessage['outbox']['quoted']> {
    if (replyTo === undefined) return null;
    const id = int64(replyTo);
    const found = id === undefined ? undefined : await this.outbox.quotable(sessionId, id, jid);
    if (!found) throw AppError.invalidArgument('replyTo must be the id of a stored message of the same chat', { parameter: 'replyTo' });
    return { remoteJid: found.remote_jid, waId: found.wa_id, fromMe: found.from_me, participant: found.participant, text: found.body };
  }

  /** The chat `to` names: a stored chat by id, a group the session has, or a person (a chat made when new). */
  private async target(sessionId: string, to: string): Promise<{ jid: string; chatType: 'dm' | 'group' }> {
    if (/^\d+$/.test(to)) {
      const chatId = int64(to);
      const chat = chatId === undefined ? undefined : await this.outbox.chatById(sessionId, chatId);
      if (!chat || (chat.type !== 'dm' && chat.type !== 'group')) {
        throw AppError.invalidArgument('to: no chat of this session has this id (use an id from List chats, a JID or an E.164 number)', { parameter: 'to' });
      }
      return { jid: chat.jid, chatType: chat.type };
    }
    if (to.endsWith('@g.us')) {
      if (!(await this.outbox.chatExists(sessionId, to))) throw AppError.invalidArgument('to: the session is not in this group', { parameter: 'to' });
      return { jid: to, chatType: 'group' };
    }
    return { jid: userJid(to), chatType: 'dm' };
  }
}

/** The text fields of a media send, checked. */
interface MediaRequest {
  to: string;
  type: MediaKind;
  caption?: string;
  /** Documents only: the name the recipient sees. */
  fileName?: string;
  replyTo?: string;
}

/** Kinds WhatsApp shows a caption on. */
const CAPTIONED: ReadonlySet<MediaKind> = new Set(['image', 'video', 'document']);
const MAX_FILE_NAME = 255;

/** Checks a media form's text fields as the JSON body's are (send-message.request.ts). */
function mediaRequest(form: MediaForm): MediaRequest {
  const { to, caption, fileName, replyTo } = form.fields;
  const unstorable = firstUnstorableString(form.fields);
  if (unstorable !== undefined)
    throw AppError.invalidArgument(`${unstorable} must not contain NUL characters or unpaired surrogates`, { parameter: unstorable });
  if (to === undefined || !SEND_TARGET.test(to)) {
    throw AppError.invalidArgument('to must be a chat id, a JID (...@s.whatsapp.net or ...@g.us) or an E.164 number with its leading +', { parameter: 'to' });
  }
  if (caption !== undefined) {
    if (!CAPTIONED.has(form.kind)) throw AppError.invalidArgument('caption goes with an image, a video or a document', { parameter: 'caption' });
    if (caption.length < 1 || caption.length > MAX_TEXT)
      throw AppError.invalidArgument(`caption must be 1 to ${MAX_TEXT} characters`, { parameter: 'caption' });
  }
  if (fileName !== undefined) {
    if (form.kind !== 'document') throw AppError.invalidArgument('fileName goes with a document', { parameter: 'fileName' });
    if (
      fileName.length < 1 ||
      fileName.length > MAX_FILE_NAME ||
      [...fileName].some((c) => c === '/' || c === '\\' || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
    ) {
      throw AppError.invalidArgument(`fileName must be 1 to ${MAX_FILE_NAME} characters, without slashes or control characters`, { parameter: 'fileName' });
    }
  }
  if (replyTo !== undefined && !/^[1-9]\d{0,18}$/.test(replyTo))
    throw AppError.invalidArgument('replyTo must be a message id (digits)', { parameter: 'replyTo' });
  // A document's name: the field, else the part's file name; part of "the same request" for the Idempotency-Key.
  return { to, type: form.kind, caption, fileName: form.kind === 'document' ? (fileName ?? form.partFileName ?? 'file') : undefined, replyTo };
}
