import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import pino from 'pino';
import type { BaileysEventBatch } from '../../src/whatsapp-sync/sync-event-sink';

type Baileys = typeof import('baileys', { with: { 'resolution-mode': 'import' } });
type ProcessMessage = (message: any, context: any) => Promise<void>;

export interface Sink {
  handle(sessionId: string, batch: BaileysEventBatch): Promise<void>;
}

export interface ConversationSeed {
  id: string;
  name?: string;
  displayName?: string;
  /** seconds */
  conversationTimestamp?: number;
  unreadCount?: number;
  markedAsUnread?: boolean;
  /** seconds */
  pinned?: number;
  muteEndTime?: number;
  archived?: boolean;
  pnJid?: string;
  lidJid?: string;
  /** newest first: [text, seconds, fromMe] */
  messages?: {
    id?: string;
    text?: string;
    ts: number;
    fromMe?: boolean;
    participant?: string;
    content?: any;
    status?: number;
    pushName?: string;
    stubType?: number;
  }[];
}

export interface IncomingOptions {
  id?: string;
  /** seconds */
  ts: number;
  text?: string;
  fromMe?: boolean;
  pushName?: string;
  participant?: string;
  remoteJidAlt?: string;
  participantAlt?: string;
  stubType?: number;
  stubParameters?: string[];
  /** The message content (proto.IMessage); default `{ conversation: text }`. */
  content?: any;
}

let loaded: { baileys: Baileys; processMessage: ProcessMessage } | undefined;

export async function loadBaileysForTests(): Promise<{ baileys: Baileys; processMessage: ProcessMessage }> {
  if (!loaded) {
    const baileys = await import('baileys');
    const processMessage = (await import('baileys/lib/Utils/process-message.js')).default as unknown as ProcessMessage;
    loaded = { baileys, processMessage };
  }
  return loaded;
}

export const ME = { id: '15550000001:7@s.whatsapp.net', lid: '99990000001:7@lid', name: 'Gateway' };
export const ME_PN = '15550000001@s.whatsapp.net';

/**
 * A stand-in for the phone and the socket, built from Baileys' own machinery: its event buffer
 * (makeEventBuffer), history payloads encoded with proto.HistorySync, deflated inline the way
 * WhatsApp ships the initial bootstrap and turned into events by processMessage ->
 * processHistoryMessage, app-state patches built by chatModificationToAppPatch, encrypted by
 * encodeSyncdPatch, decrypted by decodeSyncdMutations and turned into events by processSyncAction,
 * live messages through processMessage exactly as the socket's upsertMessage does. Every batch the
 * buffer releases goes to `sink.handle(sessionId, batch)`, like the engine's `ev.process`.
 */
export class BaileysPhone {
  readonly ev: ReturnType<Baileys['makeEventBuffer']>;
  private readonly logger = pino({ level: 'silent' });
  private readonly pending = new Set<Promise<void>>();
  private readonly errors: unknown[] = [];
  private explicitBuffer = false;
  private readonly keyId = randomBytes(6).toString('base64');
  private readonly keyData = randomBytes(32);
  private readonly creds: any;
  private readonly upsertMessage: (message: any, type: 'notify' | 'append') => Promise<void>;
  private idCounter = 0;

  private constructor(
    private readonly baileys: Baileys,
    private readonly processMessage: ProcessMessage,
    private readonly sink: Sink,
    readonly sessionId: string,
  ) {
    this.creds = { me: ME, processedHistoryMessages: [], accountSettings: { unarchiveChats: false } };
    this.ev = baileys.makeEventBuffer(this.logger);
    this.ev.process(async (batch) => {
      const delivery = sink.handle(sessionId, batch);
      this.pending.add(delivery);
      try {
        await delivery;
      } catch (error) {
        this.errors.push(error);
      } finally {
        this.pending.delete(delivery);
      }
    });
    // Mirrors the socket's upsertMessage (Socket/chats.js): emit the message, the sender's push
    // name, then let processMessage derive the chat update and any protocol effects.
    this.upsertMessage = this.ev.createBufferedFunction(async (message: any, type: 'notify' | 'append') => {
      this.ev.emit('messages.upsert', { messages: [message], type });
      if (message.pushName && !message.key.fromMe) {
        const jid = baileys.jidNormalizedUser(message.key.participant || message.key.remoteJid);
        this.ev.emit('contacts.update', [{ id: jid, notify: message.pushName, verifiedName: message.verifiedBizName }]);
      }
      await processMessage(message, {
        shouldProcessHistoryMsg: true,
        ev: this.ev,
        creds: this.creds,
        keyStore: { get: async () => ({}), set: async () => undefined, transaction: async (work: () => Promise<unknown>) => work() },
        signalRepository: {
          lidMapping: { storeLIDPNMappings: async () => undefined, getPNForLID: async () => undefined, getLIDForPN: async () => undefined },
          migrateSession: async () => undefined,
        },
        logger: this.logger,
        options: {},
        getMessage: async () => undefined,
      });
    });
  }

  static async create(sink: Sink, sessionId: string): Promise<BaileysPhone> {
    const { baileys, processMessage } = await loadBaileysForTests();
    return new BaileysPhone(baileys, processMessage, sink, sessionId);
  }

  get proto(): Baileys['proto'] {
    return this.baileys.proto;
  }

  /** Start buffering, as the socket does while the initial sync runs. */
  buffer(): void {
    this.explicitBuffer = true;
    this.ev.buffer();
  }

  /** Release the buffer as one consolidated batch and wait until the sink stored it. */
  async flush(): Promise<void> {
    this.explicitBuffer = false;
    this.ev.flush();
    await this.settle();
  }

  /** Waits for every batch handed to the sink so far; rethrows the first failure. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.errors.length > 0) throw this.errors.splice(0)[0];
  }

  /**
   * A history sync chunk, as WhatsApp sends the initial bootstrap: a proto.HistorySync, encoded,
   * deflated, inline in a HISTORY_SYNC_NOTIFICATION from our own phone.
   */
  async historySync(options: {
    syncType?: number;
    conversations?: ConversationSeed[];
    pushnames?: { id: string; pushname: string }[];
    lidMappings?: { pnJid: string; lidJid: string }[];
    progress?: number;
    chunkOrder?: number;
  }): Promise<void> {
    const { proto } = this.baileys;
    const syncType = options.syncType ?? proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP;
    const history = proto.HistorySync.fromObject({
      syncType,
      conversations: (options.conversations ?? []).map((conversation) => this.conversation(conversation)),
      pushnames: options.pushnames ?? [],
      phoneNumberToLidMappings: options.lidMappings ?? [],
      progress: options.progress,
      chunkOrder: options.chunkOrder,
    });
    const payload = deflateSync(proto.HistorySync.encode(history).finish());
    await this.deliver(
      {
        key: { remoteJid: ME_PN, fromMe: true, id: this.nextId('HIST') },
        messageTimestamp: Math.floor(Date.now() / 1000),
        message: {
          protocolMessage: {
            type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
            historySyncNotification: { syncType, initialHistBootstrapInlinePayload: payload, progress: options.progress, chunkOrder: options.chunkOrder },
          },
        },
      },
      'notify',
    );
    // The socket signals the milestones itself (Socket/chats.js), outside the buffer.
    const { INITIAL_BOOTSTRAP, RECENT } = proto.HistorySync.HistorySyncType;
    if (syncType === INITIAL_BOOTSTRAP || (syncType === RECENT && options.progress === 100)) {
      this.ev.emit('messaging-history.status', { syncType, status: 'complete', explicit: true });
      await this.afterEmit();
    }
  }

  /** A message arriving on the socket (or sent by us from another device when fromMe). */
  async message(remoteJid: string, options: IncomingOptions, type: 'notify' | 'append' = 'notify'): Promise<{ key: any; messageTimestamp: number }> {
    const message: any = {
      key: {
        remoteJid,
        fromMe: options.fromMe ?? false,
        id: options.id ?? this.nextId('MSG'),
        participant: options.participant,
        remoteJidAlt: options.remoteJidAlt,
        participantAlt: options.participantAlt,
      },
      messageTimestamp: options.ts,
      pushName: options.pushName,
    };
    if (options.stubType !== undefined) {
      message.messageStubType = options.stubType;
      message.messageStubParameters = options.stubParameters ?? [];
    } else {
      message.message = options.content ?? { conversation: options.text ?? 'hello' };
    }
    await this.deliver(message, type);
    return { key: message.key, messageTimestamp: options.ts };
  }

  /**
   * A change made on the phone (pin, mute, archive, markRead, delete, contact, ...) arriving
   * through app-state sync. `initialSync` processes it as during the initial app-state sync.
   */
  async appState(modification: any, jid: string, options: { initialSync?: boolean } = {}): Promise<void> {
    const { chatModificationToAppPatch, encodeSyncdPatch, decodeSyncdMutations, newLTHashState, processSyncAction } = this.baileys;
    const getKey = async (id: string) => (id === this.keyId ? ({ keyData: this.keyData } as never) : undefined);
    const create = chatModificationToAppPatch(modification, jid);
    const { patch } = await encodeSyncdPatch(create, this.keyId, newLTHashState(), getKey);
    const mutations: any[] = [];
    await decodeSyncdMutations(patch.mutations ?? [], newLTHashState(), getKey, (mutation) => mutations.push(mutation), true);
    const initial = options.initialSync ? { accountSettings: this.creds.accountSettings } : undefined;
    for (const mutation of mutations) processSyncAction(mutation, this.ev, ME, initial, this.logger);
    await this.afterEmit();
  }

  /** WhatsApp telling the socket that a LID and a phone number are one person. */
  async lidMapping(lid: string, pn: string): Promise<void> {
    this.ev.emit('lid-mapping.update', { lid, pn });
    await this.afterEmit();
  }

  /** The socket's handling of a group "create" notification (Socket/messages-recv.js). */
  async groupCreated(jid: string, subject: string, creation: number, owner = '15550009999@s.whatsapp.net'): Promise<void> {
    const { WAMessageStubType } = this.baileys;
    this.ev.emit('chats.upsert', [{ id: jid, name: subject, conversationTimestamp: creation }]);
    this.ev.emit('groups.upsert', [{ id: jid, subject, creation, owner, participants: [] }]);
    await this.message(jid, { ts: creation, participant: owner, stubType: WAMessageStubType.GROUP_CREATE, stubParameters: [subject] });
  }

  /** A group subject change, as the notification the socket turns into a stub message. */
  async groupRenamed(jid: string, subject: string, ts: number, by = '15550009999@s.whatsapp.net'): Promise<void> {
    const { WAMessageStubType } = this.baileys;
    await this.message(jid, { ts, participant: by, stubType: WAMessageStubType.GROUP_CHANGE_SUBJECT, stubParameters: [subject] });
  }

  /** Any raw event, emitted through the buffer. */
  async emit(event: string, data: unknown): Promise<void> {
    this.ev.emit(event as never, data as never);
    await this.afterEmit();
  }

  private async deliver(message: any, type: 'notify' | 'append'): Promise<void> {
    await this.upsertMessage(message, type);
    await this.afterEmit();
  }

  private async afterEmit(): Promise<void> {
    if (this.explicitBuffer) return;
    this.ev.flush();
    await this.settle();
  }

  private conversation(seed: ConversationSeed): Record<string, unknown> {
    const messages = (seed.messages ?? []).map((m) => ({
      message: {
        key: { remoteJid: seed.id, fromMe: m.fromMe ?? false, id: m.id ?? this.nextId('H'), participant: m.participant },
        messageTimestamp: m.ts,
        pushName: m.pushName,
        status: m.status,
        ...(m.stubType !== undefined ? { messageStubType: m.stubType } : { message: m.content ?? { conversation: m.text ?? 'history' } }),
      },
    }));
    return {
      id: seed.id,
      name: seed.name,
      displayName: seed.displayName,
      conversationTimestamp: seed.conversationTimestamp,
      unreadCount: seed.unreadCount,
      markedAsUnread: seed.markedAsUnread,
      pinned: seed.pinned,
      muteEndTime: seed.muteEndTime,
      archived: seed.archived,
      pnJid: seed.pnJid,
      lidJid: seed.lidJid,
      messages,
    };
  }

  private nextId(prefix: string): string {
    this.idCounter++;
    return `${prefix}${this.idCounter.toString(16).toUpperCase().padStart(6, '0')}${randomBytes(5).toString('hex').toUpperCase()}`;
  }
}
