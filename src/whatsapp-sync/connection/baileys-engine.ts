import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import pino from 'pino';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import type { UserFacingSocketConfig } from 'baileys' with { 'resolution-mode': 'import' };
import { AppConfig } from '../../config/app-config';
import { PostgresAuthState, PostgresAuthStateStore } from '../auth-state/postgres-auth-state';
import { LeaseFence, LeaseLostError } from '../leases/lease-fence';
import { SYNC_EVENT_SINK } from '../sync-event-sink';
import type { BaileysEventBatch, SyncEventSink } from '../sync-event-sink';
import { Baileys, loadBaileys } from '../sync/baileys';
import { storableText } from '../sync/values';
import { BAILEYS_SOCKET_FACTORY } from './baileys-socket';
import type { BaileysSocket, BaileysSocketFactory, BaileysStanza } from './baileys-socket';
import { disconnectReasonName } from './disconnect-reason';
import { rememberCertificateChecks } from './certificate-check-cache';
import { unreachable } from './last-error';
import { ConnectionEvent, ConnectionListener, EngineConnection, MediaReuploadRequest, SentMessage, WhatsAppEngine, WriteRefusedError } from './whatsapp-engine';
import { withTimeout } from '../../common/async/with-timeout';
import { PendingWrites } from './pending-writes';
import { CHAT_CHANGE_ORDER } from '../../messages/sending/outgoing-message';
import type { ChatChanges, OutgoingContent, OutgoingKey, OutgoingLastMessage, OutgoingMessage } from '../../messages/sending/outgoing-message';
import { MUTED_FOREVER } from '../../chats/chat-type';

type ILogger = NonNullable<UserFacingSocketConfig['logger']>;

const CLOSE_TIMEOUT_MS = 5000;
const MAX_AWAITING_ACK = 10_000;

/**
 * The WhatsAppEngine on Baileys: one socket per connection, credentials in PostgreSQL (fenced by
 * the lease), every `sock.ev.process` batch handed to the SyncEventSink in order.
 */
@Injectable()
export class BaileysEngine implements WhatsAppEngine {
  private readonly logger = new Logger('WhatsApp');
  private readonly baileysLogger: ILogger;
  private readonly mediaAgent?: HttpsAgent;

  constructor(
    private readonly config: AppConfig,
    private readonly authStore: PostgresAuthStateStore,
    @Inject(BAILEYS_SOCKET_FACTORY) private readonly makeSocket: BaileysSocketFactory,
    @Optional() @Inject(SYNC_EVENT_SINK) private readonly sink?: SyncEventSink,
  ) {
    this.baileysLogger = pino({ level: config.whatsapp.logLevel, base: { component: 'baileys' } });
    this.mediaAgent = config.whatsapp.simulatorMediaCa ? new HttpsAgent({ ca: config.whatsapp.simulatorMediaCa }) : undefined;
    if (!sink) this.logger.warn('no SyncEventSink is registered: WhatsApp events are not stored');
  }

  async connect(fence: LeaseFence, listener: ConnectionListener): Promise<EngineConnection> {
    const baileys = await loadBaileys();
    // Tests and the demo: the simulator's certificate root (Baileys reads it when it checks a server hello).
    if (this.config.whatsapp.simulatorRootKey) baileys.WA_CERT_DETAILS.PUBLIC_KEY = this.config.whatsapp.simulatorRootKey;
    // The server's certificate chain is checked once per chain, not once per login (certificate-check-cache.ts).
    rememberCertificateChecks(baileys.Curve);
    const auth = await this.authStore.open(fence, baileys, () => listener.onLeaseLost());
    const logger = this.baileysLogger.child({ sessionId: fence.sessionId });
    const socket = this.makeSocket(
      baileys,
      {
        auth: { creds: auth.state.creds, keys: baileys.makeCacheableSignalKeyStore(auth.state.keys, logger) },
        logger,
        ...(this.config.whatsapp.webSocketUrl ? { waWebSocketUrl: this.config.whatsapp.webSocketUrl } : {}),
        // Tests and the demo: media uploads go to the simulator's media host, whose certificate it made itself.
        ...(this.mediaAgent ? { fetchAgent: this.mediaAgent } : {}),
        connectTimeoutMs: this.config.whatsapp.connectTimeoutMs,
        // A gateway should not make the account look online (the phone would stop notifying).
        markOnlineOnConnect: false,
        // A refused (fenced) write must not be retried for long.
        transactionOpts: { maxCommitRetries: 3, delayBetweenTriesMs: 200 },
      },
      fence.sessionId,
    );
    return new BaileysConnection(fence, socket, auth, listener, baileys, this.logger, this.sink);
  }

  forgetCredentials(fence: LeaseFence): Promise<void> {
    return this.authStore.wipe(fence);
  }
}

class BaileysConnection implements EngineConnection {
  private queue: Promise<void> = Promise.resolve();
  private closing = false;
  private closed = false;
  private leaseLost = false;
  private pushName: string | null = null;
  private readonly closedPromise: Promise<void>;
  private markClosed!: () => void;

  private readonly sessionId: string;
  /** What to do on WhatsApp's ack of each message or write sent on this connection (by its id) whose ack has not come yet. */
  private readonly awaitingAck = new Map<string, (error: string | undefined) => void>();
  /** The same for read receipts (by the id of the receipt: its first message's). */
  private readonly awaitingReceiptAck = new Map<string, (error: string | undefined) => void>();
  /** Reactions, edits and deletes sent whose ack has not come: Baileys' echo of them is not stored before it (pending-writes.ts). */
  private readonly pendingWrites = new PendingWrites();
  /** A chat change's app-state patch is on its way (one at a time: the outbox sends one write at a time per session). */
  private changingChat = false;

  constructor(
    private readonly fence: LeaseFence,
    private readonly socket: BaileysSocket,
    private readonly auth: PostgresAuthState,
    private readonly listener: ConnectionListener,
    private readonly baileys: Baileys,
    private readonly logger: Logger,
    private readonly sink?: SyncEventSink,
  ) {
    this.sessionId = fence.sessionId;
    this.closedPromise = new Promise((resolve) => (this.markClosed = resolve));
    // Baileys does not await the handler: chain the batches so each is handled after the previous one.
    socket.ev.process((events) => {
      const batch = this.pendingWrites.withoutEchoes(events);
      this.queue = this.queue.then(() => this.handle(batch));
      return this.queue;
    });
    socket.ws.on('CB:ack,class:message', (node) => this.onServerAck(this.awaitingAck, node));
    socket.ws.on('CB:ack,class:receipt', (node) => this.onServerAck(this.awaitingReceiptAck, node));
    socket.ws.on('CB:iq,type:result,sync', (node) => this.onAppStateAnswer(node));
  }

  /**
   * WhatsApp refuses an app-state patch inside a result: `<sync><collection name type="error"><error
   * code text/>`. Baileys reads only an `<error>` of the iq itself, so it would take the refused
   * patch as accepted (keeping its version and emitting the change as done). While a chat change
   * is on its way, the collection's error is lifted onto the iq, before Baileys reads the answer
   * (listeners run as the stanza arrives, Baileys' query resumes after them): Baileys then throws
   * WhatsApp's code, keeps its previous version and emits nothing.
   */
  private onAppStateAnswer(node: BaileysStanza): void {
    if (!this.changingChat || !Array.isArray(node.content)) return;
    const children = node.content as BaileysStanza[];
    if (children.some((child) => child?.tag === 'error')) return;
    const sync = children.find((child) => child?.tag === 'sync');
    const collections = Array.isArray(sync?.content) ? (sync.content as BaileysStanza[]) : [];
    const refused = collections.find((collection) => collection?.tag === 'collection' && collection.attrs?.type === 'error');
    if (!refused) return;
    const error = Array.isArray(refused.content) ? (refused.content as BaileysStanza[]).find((child) => child?.tag === 'error') : undefined;
    const code = /^\d{3}$/.test(error?.attrs?.code ?? '') ? error!.attrs.code! : '500';
    children.push({ tag: 'error', attrs: { code, text: storableText(error?.attrs?.text ?? 'app state error', 100) || 'app state error' } });
  }

  /** WhatsApp's server ack of a message, write or receipt this connection sent (`error` set: refused). */
  private onServerAck(awaiting: Map<string, (error: string | undefined) => void>, node: BaileysStanza): void {
    const id = node.attrs.id;
    const onAck = id === undefined ? undefined : awaiting.get(id);
    if (id === undefined || onAck === undefined) return;
    awaiting.delete(id);
    onAck(node.attrs.error || undefined);
  }

  requestPairingCode(phoneNumber: string): Promise<string> {
    return this.socket.requestPairingCode(phoneNumber);
  }

  async reuploadMedia(request: MediaReuploadRequest): Promise<{ directPath: string | null; url: string | null }> {
    const content = { mediaKey: request.mediaKey, directPath: request.directPath ?? undefined, url: request.url ?? undefined };
    const key = { ...request.key, participant: request.key.participant ?? undefined };
    const updated = await this.socket.updateMediaMessage({ key, message: { [request.contentField]: content } });
    const media = (updated.message as Record<string, { directPath?: string | null; url?: string | null } | undefined> | null | undefined)?.[
      request.contentField
    ];
    return { directPath: media?.directPath ?? null, url: media?.url ?? null };
  }

  async sendMessage(message: OutgoingMessage): Promise<SentMessage> {
    const { content } = message;
    if (content.kind === 'chat') return this.changeChat(message.jid, content.changes, content.lastMessage);
    if (content.kind === 'read' || content.kind === 'reaction' || content.kind === 'edit' || content.kind === 'delete') return this.write(message, content);
    const quoted = message.quoted
      ? {
          key: {
            remoteJid: message.quoted.remoteJid,
            id: message.quoted.waId,
            fromMe: message.quoted.fromMe,
            participant: message.quoted.participant ?? undefined,
          },
          message: { conversation: message.quoted.text ?? '' },
        }
      : undefined;
    // The ack is fed to the sync as the `messages.update` Baileys would emit (it emits none for it),
    // keyed by the chat the message was sent to (the ack's `from` may name the recipient otherwise, e.g. by LID).
    // Straight to the sync, not through Baileys' event buffer: while it buffers (a first login
    // waits up to 20 s for history), it folds an update into a buffered copy of the message, and
    // the echo of the same message sent again replaces that copy, status and all.
    // A media message's file streams from where it was staged into Baileys, which encrypts it
    // to a temporary file and uploads that to the media host named by WhatsApp's media_conn.
    const media = content.kind === 'media' ? message.openMedia!() : undefined;
    const ack = this.expectAck(this.awaitingAck, message.waId, async (error) => {
      const { SERVER_ACK, ERROR } = this.baileys.proto.WebMessageInfo.Status;
      await this.feed({
        'messages.update': [{ key: { remoteJid: message.jid, id: message.waId, fromMe: true }, update: { status: error ? ERROR : SERVER_ACK } }],
      });
      return error ?? null;
    });
    try {
      await this.sent(this.awaitingAck, message.waId, () =>
        this.socket.sendMessage(message.jid, baileysContent(message.content, media) as never, { messageId: message.waId, ...(quoted ? { quoted } : {}) }),
      );
    } finally {
      media?.destroy();
    }
    return { ack };
  }

  /**
   * A change to stored messages, built with Baileys' own builders (`react`, `edit`, `delete` in
   * sendMessage's content; readMessages for receipts). The stored copy takes the change only on
   * WhatsApp's server ack of it (the ack of the protocol message; of each receipt), fed to the
   * sync as the event WhatsApp's echo of it gives (so it follows the sync's own merge rules; a
   * second copy of the event, from Baileys, merges to the same row). An error ack changes nothing.
   */
  private async write(
    message: OutgoingMessage,
    content: Exclude<OutgoingContent, { kind: 'text' | 'location' | 'contact' | 'chat' | 'media' }>,
  ): Promise<SentMessage> {
    const now = Date.now();
    if (content.kind === 'read') {
      const applied = () => this.feed({ 'chats.update': [{ id: message.jid, unreadCount: 0 }] });
      // One receipt per sender (chat and participant), its id its first message's: what WhatsApp acks.
      const bySender = new Map<string, OutgoingKey[]>();
      for (const key of content.keys) {
        const sender = `${key.remoteJid},${key.participant ?? ''}`;
        bySender.set(sender, [...(bySender.get(sender) ?? []), key]);
      }
      if (bySender.size === 0) {
        await applied();
        return { ack: Promise.resolve(null) };
      }
      const acks: Promise<string | null>[] = [];
      for (const keys of bySender.values()) {
        acks.push(this.expectAck(this.awaitingReceiptAck, keys[0].waId, (error) => error ?? null));
        await this.sent(this.awaitingReceiptAck, keys[0].waId, () => this.socket.readMessages(keys.map(baileysKey)));
      }
      const ack = Promise.all(acks).then(async (errors) => {
        const error = errors.find((each) => each !== null) ?? null;
        if (error === null) await applied();
        return error;
      });
      return { ack };
    }
    const target = baileysKey(content.target);
    const built =
      content.kind === 'reaction'
        ? { react: { text: content.emoji, key: target } }
        : content.kind === 'edit'
          ? { text: content.text, edit: target }
          : { delete: target };
    const change: BaileysEventBatch =
      content.kind === 'reaction'
        ? {
            'messages.reaction': [
              { key: target, reaction: { key: { remoteJid: message.jid, id: message.waId, fromMe: true }, text: content.emoji, senderTimestampMs: now } },
            ],
          }
        : content.kind === 'edit'
          ? {
              'messages.update': [
                { key: target, update: { message: { editedMessage: { message: { conversation: content.text } } }, messageTimestamp: Math.floor(now / 1000) } },
              ],
            }
          : { 'messages.update': [{ key: target, update: { message: null, messageStubType: this.baileys.proto.WebMessageInfo.StubType.REVOKE } }] };
    this.pendingWrites.add(message.waId, content.kind, content.target.waId);
    const ack = this.expectAck(this.awaitingAck, message.waId, async (error) => {
      if (error) {
        this.pendingWrites.refused(message.waId);
        return error;
      }
      this.pendingWrites.delete(message.waId);
      await this.feed(change);
      return null;
    });
    try {
      await this.sent(this.awaitingAck, message.waId, () => this.socket.sendMessage(message.jid, built, { messageId: message.waId }));
    } catch (error) {
      this.pendingWrites.delete(message.waId);
      throw error;
    }
    return { ack };
  }

  /** Waits for the ack of `id`; `onAck` says what it comes to. Bounded: an ack that never comes (the connection dropped) must not keep its entry forever. */
  private expectAck(
    awaiting: Map<string, (error: string | undefined) => void>,
    id: string,
    onAck: (error: string | undefined) => Promise<string | null> | string | null,
  ): Promise<string | null> {
    if (awaiting.size >= MAX_AWAITING_ACK) {
      const oldest = awaiting.keys().next().value!;
      awaiting.delete(oldest);
      this.pendingWrites.delete(oldest);
    }
    return new Promise((resolve, reject) =>
      awaiting.set(id, (error) => {
        Promise.resolve(error).then(onAck).then(resolve, reject);
      }),
    );
  }

  /** Writes to the socket; a write that failed awaits no ack (a retry expects it anew). */
  private async sent(awaiting: Map<string, unknown>, id: string, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      awaiting.delete(id);
      throw error;
    }
  }

  /**
   * A chat change: one app-state patch per field, built and sent by Baileys' chatModify, which
   * resolves once WhatsApp accepted the patch; Baileys then emits the change (chats.update, as for
   * any patch of the account's), and the sync stores it. A refusal throws WriteRefusedError (a
   * conflict, 409, is WhatsApp saying this copy is behind: a retry resyncs first).
   */
  private async changeChat(jid: string, changes: ChatChanges, lastMessage: OutgoingLastMessage | null): Promise<SentMessage> {
    const lastMessages = lastMessage ? [{ key: baileysKey(lastMessage), messageTimestamp: lastMessage.timestamp }] : [];
    for (const field of CHAT_CHANGE_ORDER) {
      const value = changes[field];
      if (value === undefined) continue;
      const modification =
        field === 'archived'
          ? { archive: value === true, lastMessages }
          : field === 'pinned'
            ? { pin: value === true }
            : field === 'mutedUntil'
              ? // WhatsApp's "always" is -1; null unmutes.
                { mute: typeof value === 'number' ? (value >= MUTED_FOREVER ? -1 : value) : null }
              : { markRead: value !== true, lastMessages };
      this.changingChat = true;
      try {
        await this.socket.chatModify(modification, jid);
      } catch (error) {
        const code = (error as { data?: unknown }).data;
        // Baileys' error for an <error> in WhatsApp's answer carries its code as data.
        if (typeof code === 'number' && code !== 409) throw new WriteRefusedError(code, (error as Error).message);
        throw error;
      } finally {
        this.changingChat = false;
      }
    }
    // Accepted: acknowledged once the chats.update Baileys emitted meanwhile is stored (behind it in the queue).
    return { ack: this.queue.then(() => null) };
  }

  /** Events the gateway knows WhatsApp's echo would give, handed to the sync behind the batches before them; resolves once stored. */
  private feed(batch: BaileysEventBatch): Promise<void> {
    this.queue = this.queue.then(() => this.handle(batch));
    return this.queue;
  }

  async logout(): Promise<void> {
    await this.socket.logout();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    await withTimeout(this.socket.end(undefined), CLOSE_TIMEOUT_MS).catch((error: Error) =>
      this.logger.warn(`closing the socket of session ${this.sessionId} failed: ${error.message}`),
    );
    await withTimeout(this.closedPromise, CLOSE_TIMEOUT_MS).catch(() => undefined);
    await this.auth.flush();
  }

  private async handle(batch: BaileysEventBatch): Promise<void> {
    try {
      const credsUpdate = batch['creds.update'];
      if (credsUpdate) {
        await this.auth.saveCreds().catch((error: Error) => {
          if (error instanceof LeaseLostError) this.leaseLost = true;
          else this.logger.error(`saving credentials of session ${this.sessionId} failed: ${error.message}`);
        });
        const name = ownPushName(credsUpdate.me?.name);
        if (name && name !== this.pushName && !this.closed) {
          this.pushName = name;
          await this.listener.onEvent({ type: 'profile', pushName: name });
        }
      }
      const update = batch['connection.update'];
      if (update) {
        for (const event of this.translate(update)) await this.listener.onEvent(event);
      }
      // A replica that lost the lease must not write the stored copy either: each batch's
      // transaction is fenced by the lease, so a batch queued before the loss is refused too.
      if (this.sink && !this.leaseLost) await this.sink.handle(this.sessionId, batch, this.fence);
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.leaseLost = true;
        this.listener.onLeaseLost();
        return;
      }
      this.logger.error(`handling WhatsApp events of session ${this.sessionId} failed: ${(error as Error).message}`, (error as Error).stack);
    }
  }

  private translate(update: NonNullable<BaileysEventBatch['connection.update']>): ConnectionEvent[] {
    const events: ConnectionEvent[] = [];
    if (update.connection === 'connecting') events.push({ type: 'connecting' });
    if (update.qr) events.push({ type: 'qr', qr: update.qr });
    if (update.connection === 'open') {
      const me = this.socket.user ?? this.auth.state.creds.me;
      const name = ownPushName(me?.name);
      this.pushName = name;
      events.push({ type: 'open', phoneJid: me?.id ? this.baileys.jidNormalizedUser(me.id) : null, pushName: name });
    }
    if (update.connection === 'close' && !this.closed) {
      this.closed = true;
      this.markClosed();
      // Baileys closes with a Boom error whose output.statusCode is the DisconnectReason.
      const error = update.lastDisconnect?.error as CloseError | undefined;
      const code = error?.output?.statusCode ?? null;
      const { origin, message } = originOf(error);
      if (origin === 'network') {
        // One line per failed attempt, saying its cause: Baileys' 408 (connectionLost) for a socket
        // failure does not. The socket's own error (address and all) is the operator's detail.
        this.logger.warn({ sessionId: this.sessionId, cause: message ?? 'network error', err: error?.data ?? error }, unreachable(message));
      } else if (origin === 'gateway') {
        this.logger.warn({ sessionId: this.sessionId, code, err: error }, 'WhatsApp connection closed by a gateway error');
      }
      events.push({
        type: 'close',
        code,
        reason: disconnectReasonName(code),
        origin,
        message,
        intentional: this.closing && !error,
      });
    }
    return events;
  }
}

/** A stored message's key as Baileys' WAMessageKey. */
function baileysKey(key: OutgoingKey): { remoteJid: string; id: string; fromMe: boolean; participant?: string } {
  return { remoteJid: key.remoteJid, id: key.waId, fromMe: key.fromMe, ...(key.participant ? { participant: key.participant } : {}) };
}

/** The gateway's outgoing content as Baileys' AnyMessageContent: text without a link preview, a location, a contact card, media from `media`. */
function baileysContent(content: OutgoingContent, media?: Readable): Record<string, unknown> {
  switch (content.kind) {
    case 'media':
      return baileysMedia(content, { stream: media! });
    case 'text':
      return { text: content.text, mentions: content.mentions, linkPreview: null };
    case 'location':
      return {
        location: {
          degreesLatitude: content.latitude,
          degreesLongitude: content.longitude,
          ...(content.name ? { name: content.name } : {}),
          ...(content.address ? { address: content.address } : {}),
        },
      };
    case 'contact': {
      const digits = content.phone.replace(/^\+/, '');
      const name = content.name.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');
      const vcard = `BEGIN:VCARD\nVERSION:3.0\nFN:${name}\nTEL;type=CELL;type=VOICE;waid=${digits}:+${digits}\nEND:VCARD`;
      return { contacts: { displayName: content.name, contacts: [{ displayName: content.name, vcard }] } };
    }
    default:
      throw new Error(`not a message: ${content.kind}`);
  }
}

/** A media message as Baileys' content: WhatsApp shows a caption on images, videos and documents; a voice note is push-to-talk Opus audio. */
function baileysMedia(content: Extract<OutgoingContent, { kind: 'media' }>, media: { stream: Readable }): Record<string, unknown> {
  const { mimetype } = content;
  const caption = content.caption !== null ? { caption: content.caption } : {};
  switch (content.mediaType) {
    case 'image':
      return { image: media, mimetype, ...caption };
    case 'video':
      return { video: media, mimetype, ...caption };
    case 'audio':
      return { audio: media, mimetype };
    case 'voice':
      return { audio: media, mimetype: mimetype === 'audio/ogg' ? 'audio/ogg; codecs=opus' : mimetype, ptt: true };
    case 'document':
      return { document: media, mimetype, fileName: content.fileName ?? 'file', ...caption };
    case 'sticker':
      return { sticker: media, mimetype };
  }
}

type CloseError = Error & { output?: { statusCode?: number }; data?: unknown; code?: unknown };

/** How Baileys' promiseTimeout fails (DisconnectReason.timedOut). */
const BAILEYS_TIMEOUT_CODE = 408;
const BAILEYS_TIMEOUT_MESSAGE = 'Timed Out';

/**
 * Who closed the connection (ConnectionEvent `origin`). Baileys wraps a socket failure in a Boom
 * whose `data` is the socket's error (its `code` is the system error: ENOTFOUND, ECONNREFUSED);
 * its other Booms carry WhatsApp's reason in fixed words; anything else (a database error while
 * validating the connection, a bug) is the gateway's own and is not shown to the tenant.
 */
function originOf(error: CloseError | undefined): { origin: 'whatsapp' | 'network' | 'gateway'; message: string | null } {
  if (!error) return { origin: 'whatsapp', message: null };
  // Baileys' own timer (WHATSAPP_CONNECT_TIMEOUT_MS) ran out waiting for WhatsApp's answer: a 408
  // "Timed Out" that WhatsApp never said.
  if (error.output?.statusCode === BAILEYS_TIMEOUT_CODE && error.message === BAILEYS_TIMEOUT_MESSAGE) return { origin: 'network', message: 'ETIMEDOUT' };
  // By shape, not instanceof: Baileys may run in another realm (Jest's VM modules).
  const data = typeof error.data === 'object' && error.data !== null ? (error.data as CloseError) : undefined;
  if (data && typeof data.message === 'string') {
    // The WebSocket library's "Opening handshake has timed out" carries no system error code.
    return { origin: 'network', message: systemErrorCode(data.code) ?? (/timed out/i.test(data.message) ? 'ETIMEDOUT' : null) };
  }
  if (!error.output && systemErrorCode(error.code)) return { origin: 'network', message: systemErrorCode(error.code) };
  if (typeof error.output?.statusCode === 'number') return { origin: 'whatsapp', message: error.message || null };
  return { origin: 'gateway', message: null };
}

/** Node's system error code (ENOTFOUND, ECONNREFUSED, ...), not a database's SQLSTATE. */
function systemErrorCode(code: unknown): string | null {
  return typeof code === 'string' && /^E[A-Z_]{2,30}$/.test(code) ? code : null;
}

/** The linked account's own push name, as WhatsApp sends it ('~' is none), cleaned like any WhatsApp text. */
function ownPushName(raw: string | null | undefined): string | null {
  const name = typeof raw === 'string' && raw !== '~' ? storableText(raw) : '';
  return name.trim() === '' ? null : name;
}
