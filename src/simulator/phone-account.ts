import { createHash, randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { BaileysKit } from './baileys-kit';
import { AppStateCollection, APP_STATE_COLLECTIONS, KeyPair } from './protocol';
import type { ReceivedMessage } from './outgoing-messages';
import type { ChatSeed, ContactSeed, PhoneBook } from './phone-book';
import { DeviceKeys, SignalPeer } from './signal-peer';

/** A companion device linked to an account (the gateway's socket is one). */
export interface LinkedDevice extends DeviceKeys {
  id: number;
  lidJid: string;
  /** The Noise static key the device proved at pairing; a login must present the same key. */
  noiseKey: Buffer;
  advSecret: Buffer;
  platform: string;
  linkedAt: number;
  /** Removed by the phone (or by the device's own logout): its logins are refused. */
  removed: boolean;
  /** The initial history was delivered (it is sent once, on the first login). */
  bootstrapped: boolean;
}

type LtHashState = ReturnType<BaileysKit['baileys']['newLTHashState']>;
type PatchCreate = Parameters<BaileysKit['baileys']['encodeSyncdPatch']>[0];

/** The server's copy of one app-state collection: its version and every patch since version 0. */
interface Collection {
  state: LtHashState;
  patches: Buffer[];
}

/** A change the phone makes in app state (what WhatsApp syncs between a user's devices). */
export type AppStateChange =
  | { action: 'pin'; jid: string; value: boolean }
  | { action: 'archive'; jid: string; value: boolean }
  | { action: 'mute'; jid: string; value: boolean; muteEndTime?: number }
  | { action: 'markRead'; jid: string; value: boolean }
  | { action: 'delete'; jid: string }
  | { action: 'pushName'; name: string };

/** The parts of a proto.SyncActionValue the simulated phone plays. */
interface SyncActionValue {
  pinAction?: { pinned?: boolean | null } | null;
  archiveChatAction?: { archived?: boolean | null } | null;
  markChatAsReadAction?: { read?: boolean | null } | null;
  /** muteEndTimestamp: an int64 (a number or a Long). */
  muteAction?: { muted?: boolean | null; muteEndTimestamp?: unknown } | null;
}

/** A device's app-state patch the server took: who sent it, into which collection, and the changes it carried. */
export interface AppStateUpload {
  device: string;
  collection: AppStateCollection;
  version: number;
  changes: AppStateChange[];
}

/** What the server answers a device's app-state patch: the collection's new version, or a refusal. */
export type AppStateUploadAnswer = { accepted: true; version: number } | { accepted: false; code: number; text: string; version: number };

/** WhatsApp's words for the error codes of an app-state answer. */
const APP_STATE_ERROR_TEXT: Record<number, string> = {
  400: 'bad-request',
  403: 'forbidden',
  405: 'not-allowed',
  409: 'conflict',
  500: 'internal-server-error',
};

/**
 * One simulated WhatsApp account: its own phone (primary device, device 0), the companions linked
 * to it, the phone book its history comes from, and its app state (the key shared with linked
 * devices and the versioned collections of syncd patches).
 */
export class PhoneAccount {
  readonly jid: string;
  readonly lidUser: string;
  /** The phone's identity key: signs linked devices (ADV) and is its Signal identity. */
  readonly accountKey: KeyPair;
  readonly phonePeer: SignalPeer;
  readonly devices = new Map<number, LinkedDevice>();
  readonly chats = new Map<string, ChatSeed>();
  readonly contacts: ContactSeed[];
  readonly appStateKey = { id: randomBytes(6), data: randomBytes(32), timestamp: Date.now() };
  private readonly collections = new Map<AppStateCollection, Collection>();
  private readonly peers = new Map<string, SignalPeer>();
  /** WhatsApp's LID for each phone-number user the account knows (and back): from the phone book, else derived. */
  private readonly lidByPn = new Map<string, string>();
  private readonly pnByLid = new Map<string, string>();
  /** Each group's members besides the account, as the simulator knows them. */
  private readonly groupMembers = new Map<string, Set<string>>();
  /** Chats whose messages from the linked devices the server refuses, with the error code its ack carries. */
  readonly refusals = new Map<string, number>();
  /** The error code the server refuses the linked devices' app-state patches with, from now on; undefined: it accepts them. */
  appStateRefusal: number | undefined;
  /** The app-state patches the server took from the linked devices, in order. */
  readonly appStateUploads: AppStateUpload[] = [];
  /** Chats whose acks the server holds back (until released), with the acks held so far. */
  readonly heldAcks = new Map<string, (() => Promise<void>)[]>();
  /** What each contact received from the account's linked devices, in arrival order. */
  private readonly received = new Map<string, ReceivedMessage[]>();
  private nextDeviceId = 1;

  constructor(
    private readonly kit: BaileysKit,
    readonly phone: string,
    public pushName: string,
    phoneBook: PhoneBook,
    lidUser?: string,
  ) {
    this.jid = `${phone}@s.whatsapp.net`;
    this.lidUser = lidUser ?? `9${phone}`.slice(0, 15);
    this.accountKey = kit.baileys.Curve.generateKeyPair();
    this.phonePeer = new SignalPeer(kit, this.jid, this.accountKey);
    for (const chat of phoneBook.chats) this.chats.set(chat.jid, { ...chat });
    this.mapLid(this.jid, `${this.lidUser}@lid`);
    for (const chat of phoneBook.chats) if (chat.jid.endsWith('@lid') && chat.pnJid) this.mapLid(chat.pnJid, chat.jid);
    for (const chat of phoneBook.chats) for (const member of chat.participants ?? []) this.addGroupMember(chat.jid, member);
    this.contacts = phoneBook.contacts.map((contact) => ({ ...contact }));
    for (const name of APP_STATE_COLLECTIONS) this.collections.set(name, { state: kit.baileys.newLTHashState(), patches: [] });
  }

  allocateDeviceId(): number {
    return this.nextDeviceId++;
  }

  deviceJid(id: number): string {
    return `${this.phone}:${id}@s.whatsapp.net`;
  }

  /** The simulated phone of another user (a contact), with its own Signal state; one per person, whether named by phone or LID. */
  peer(userJid: string): SignalPeer {
    const jid = this.personJid(userJid);
    let peer = this.peers.get(jid);
    if (!peer) {
      peer = new SignalPeer(this.kit, jid);
      this.peers.set(jid, peer);
    }
    return peer;
  }

  /** A person's JID as the simulator keys them: the phone JID when a LID's phone is known. */
  personJid(userJid: string): string {
    return this.pnByLid.get(userJid) ?? userJid;
  }

  /**
   * The LID of a phone-number user, as WhatsApp's usync answers it: the phone book's mapping, or
   * one derived from the number (stable for the account's life).
   */
  lidOf(pnJid: string): string {
    let lid = this.lidByPn.get(pnJid);
    if (!lid) {
      const digits = BigInt(`0x${createHash('sha256').update(pnJid).digest('hex').slice(0, 12)}`)
        .toString()
        .padStart(14, '0');
      lid = `1${digits.slice(0, 14)}@lid`;
      this.mapLid(pnJid, lid);
    }
    return lid;
  }

  private mapLid(pnJid: string, lidJid: string): void {
    this.lidByPn.set(pnJid, lidJid);
    this.pnByLid.set(lidJid, pnJid);
  }

  addGroupMember(groupJid: string, userJid: string): void {
    const jid = this.personJid(userJid);
    if (jid === this.jid) return;
    let members = this.groupMembers.get(groupJid);
    if (!members) this.groupMembers.set(groupJid, (members = new Set()));
    members.add(jid);
  }

  /** A group's members besides the account. */
  membersOf(groupJid: string): string[] {
    return [...(this.groupMembers.get(groupJid) ?? [])];
  }

  recordReceived(contactJid: string, message: ReceivedMessage): void {
    const jid = this.personJid(contactJid);
    let list = this.received.get(jid);
    if (!list) this.received.set(jid, (list = []));
    list.push(message);
  }

  receivedBy(contactJid: string): readonly ReceivedMessage[] {
    return this.received.get(this.personJid(contactJid)) ?? [];
  }

  /**
   * The initial history a newly linked device receives, as WhatsApp sends it: the conversations in
   * chunks (the first an INITIAL_BOOTSTRAP, the rest RECENT, the last at progress 100), then the
   * contacts' push names in a PUSH_NAME sync. Each is a deflated proto.HistorySync.
   */
  historySyncs(chunkSize: number): { syncType: number; chunkOrder: number; progress?: number; payload: Buffer }[] {
    const { proto } = this.kit.baileys;
    const { INITIAL_BOOTSTRAP, RECENT, PUSH_NAME } = proto.HistorySync.HistorySyncType;
    const chats = [...this.chats.values()];
    const chunks = Math.max(1, Math.ceil(chats.length / chunkSize));
    const syncs = [];
    for (let chunk = 0; chunk < chunks; chunk++) {
      const slice = chats.slice(chunk * chunkSize, (chunk + 1) * chunkSize);
      const syncType = chunk === 0 ? INITIAL_BOOTSTRAP : RECENT;
      const progress = Math.round(((chunk + 1) / chunks) * 100);
      const history = proto.HistorySync.encode({
        syncType,
        chunkOrder: chunk,
        progress,
        conversations: slice.map((chat) => this.conversation(chat)),
        phoneNumberToLidMappings: slice.filter((c) => c.pnJid).map((c) => ({ lidJid: c.jid, pnJid: c.pnJid })),
      }).finish();
      syncs.push({ syncType, chunkOrder: chunk, progress, payload: deflateSync(history) });
    }
    const pushnames = this.contacts.filter((contact) => contact.notify).map((contact) => ({ id: contact.jid, pushname: contact.notify }));
    if (pushnames.length > 0) {
      const history = proto.HistorySync.encode({ syncType: PUSH_NAME, pushnames }).finish();
      syncs.push({ syncType: PUSH_NAME, chunkOrder: 0, progress: undefined, payload: deflateSync(history) });
    }
    return syncs;
  }

  /** Applies a change on the phone: its chat list, and a syncd patch in the collection it belongs to. */
  async changeAppState(change: AppStateChange, nowMs: number): Promise<AppStateCollection> {
    const create = this.patchFor(change, nowMs);
    this.applyToPhone(change, nowMs);
    const collection = this.collections.get(create.type)!;
    const { encodeSyncdPatch, proto } = this.kit.baileys;
    const keyId = this.appStateKey.id.toString('base64');
    const { patch, state } = await encodeSyncdPatch(create, keyId, collection.state, async (id) =>
      id === keyId ? { keyData: this.appStateKey.data } : undefined,
    );
    collection.state = state;
    collection.patches.push(Buffer.from(proto.SyncdPatch.encode({ ...patch, version: { version: state.version } }).finish()));
    return create.type;
  }

  /**
   * A linked device's patch (`proto.SyncdPatch`, no version) uploaded on top of `fromVersion`: the
   * server takes it as the collection's next version when the device was up to date (else 409
   * conflict), its MACs check out under the account's app-state key (else 400), and the server is
   * not told to refuse (refuseAppStatePatches). The phone applies its changes to its chat list.
   */
  async takeDevicePatch(device: string, name: AppStateCollection, fromVersion: number, bytes: Uint8Array): Promise<AppStateUploadAnswer> {
    const collection = this.collections.get(name)!;
    const current = collection.state.version;
    const refuse = (code: number): AppStateUploadAnswer => ({ accepted: false, code, text: APP_STATE_ERROR_TEXT[code] ?? 'error', version: current });
    if (this.appStateRefusal !== undefined) return refuse(this.appStateRefusal);
    if (fromVersion !== current) return refuse(409);
    const { proto, decodeSyncdPatch } = this.kit.baileys;
    const keyId = this.appStateKey.id.toString('base64');
    const changes: AppStateChange[] = [];
    let patch: ReturnType<typeof proto.SyncdPatch.decode>;
    let decoded: { hash: Buffer; indexValueMap: LtHashState['indexValueMap'] };
    let mutations = 0;
    try {
      patch = proto.SyncdPatch.decode(bytes);
      patch.version = { version: current + 1 };
      decoded = await decodeSyncdPatch(
        patch,
        name,
        collection.state,
        async (id) => (id === keyId ? { keyData: this.appStateKey.data } : undefined),
        (mutation: { syncAction: { value?: SyncActionValue | null }; index: string[] }) => {
          mutations++;
          const change = changeOfMutation(mutation.index, mutation.syncAction.value ?? undefined);
          if (change) changes.push(change);
        },
        true,
      );
    } catch {
      return refuse(400);
    }
    // A mutation whose MAC did not check out is skipped by the decoder: the patch is refused whole.
    if (mutations !== patch.mutations.length) return refuse(400);
    collection.state = { version: current + 1, hash: decoded.hash, indexValueMap: decoded.indexValueMap };
    collection.patches.push(Buffer.from(proto.SyncdPatch.encode(patch).finish()));
    for (const change of changes) this.applyToPhone(change, Date.now());
    this.appStateUploads.push({ device, collection: name, version: current + 1, changes });
    return { accepted: true, version: current + 1 };
  }

  /** A change as the phone's chat list shows it. */
  private applyToPhone(change: AppStateChange, nowMs: number): void {
    const chat = 'jid' in change ? this.chats.get(change.jid) : undefined;
    if (chat) {
      if (change.action === 'pin') chat.pinnedAt = change.value ? Math.floor(nowMs / 1000) : undefined;
      if (change.action === 'archive') chat.archived = change.value;
      if (change.action === 'mute') chat.muteEndTime = change.value ? (change.muteEndTime ?? -1) : undefined;
      if (change.action === 'markRead') Object.assign(chat, change.value ? { unreadCount: 0, markedUnread: false } : { markedUnread: true });
    }
    if (change.action === 'delete') this.chats.delete(change.jid);
    if (change.action === 'pushName') this.pushName = change.name;
  }

  /** The patches of a collection after `fromVersion` (versions are 1-based: patch i is version i + 1). */
  patchesAfter(name: AppStateCollection, fromVersion: number): { version: number; patches: Buffer[] } {
    const collection = this.collections.get(name)!;
    return { version: collection.state.version, patches: collection.patches.slice(Math.max(0, fromVersion)) };
  }

  /** Records a message in the phone's chat list (the next linked device's history shows it). */
  noteMessage(chatJid: string, seconds: number, incoming: boolean, name?: string): void {
    const chat = this.chats.get(chatJid) ?? { jid: chatJid, name };
    chat.lastMessageAt = Math.max(chat.lastMessageAt ?? 0, seconds);
    if (incoming) chat.unreadCount = (chat.unreadCount ?? 0) + 1;
    this.chats.set(chatJid, chat);
  }

  private conversation(chat: ChatSeed): Record<string, unknown> {
    const isPerson = chat.jid.endsWith('@s.whatsapp.net') || chat.jid.endsWith('@lid');
    return {
      id: chat.jid,
      name: chat.name,
      conversationTimestamp: chat.lastMessageAt,
      unreadCount: chat.unreadCount ?? 0,
      markedAsUnread: chat.markedUnread ?? false,
      pinned: chat.pinnedAt,
      archived: chat.archived ?? false,
      muteEndTime: chat.muteEndTime,
      pnJid: chat.pnJid,
      messages: chat.messages
        ? chat.messages.map((message) => ({
            message: {
              key: { remoteJid: chat.jid, fromMe: message.fromMe ?? false, id: message.id, participant: message.fromMe ? undefined : message.participant },
              participant: message.fromMe ? undefined : message.participant,
              messageTimestamp: message.timestamp,
              pushName: message.pushName,
              message: message.message ?? { conversation: message.text },
            },
          }))
        : chat.lastMessageAt && isPerson
          ? [
              {
                message: {
                  key: { remoteJid: chat.jid, fromMe: !chat.unreadCount, id: randomBytes(8).toString('hex').toUpperCase() },
                  messageTimestamp: chat.lastMessageAt,
                  message: { conversation: '…' },
                },
              },
            ]
          : [],
    };
  }

  /** The syncd mutation for a change: index, action, collection and version as WhatsApp defines them. */
  private patchFor(change: AppStateChange, nowMs: number): PatchCreate {
    const set = this.kit.baileys.proto.SyncdMutation.SyncdOperation.SET;
    const chat = 'jid' in change ? this.chats.get(change.jid) : undefined;
    const lastMessageTimestamp = Math.floor(chat?.lastMessageAt ?? nowMs / 1000);
    const messageRange = { lastMessageTimestamp, messages: [] };
    const base = { operation: set };
    switch (change.action) {
      case 'pin':
        return {
          ...base,
          type: 'regular_low',
          apiVersion: 5,
          index: ['pin_v1', change.jid],
          syncAction: { timestamp: nowMs, pinAction: { pinned: change.value } },
        };
      case 'archive':
        return {
          ...base,
          type: 'regular_low',
          apiVersion: 3,
          index: ['archive', change.jid],
          syncAction: { timestamp: nowMs, archiveChatAction: { archived: change.value, messageRange } },
        };
      case 'mute':
        return {
          ...base,
          type: 'regular_high',
          apiVersion: 2,
          index: ['mute', change.jid],
          syncAction: { timestamp: nowMs, muteAction: { muted: change.value, muteEndTimestamp: change.value ? (change.muteEndTime ?? -1) : undefined } },
        };
      case 'markRead':
        return {
          ...base,
          type: 'regular_low',
          apiVersion: 3,
          index: ['markChatAsRead', change.jid],
          syncAction: { timestamp: nowMs, markChatAsReadAction: { read: change.value, messageRange } },
        };
      case 'pushName':
        return {
          ...base,
          type: 'critical_block',
          apiVersion: 1,
          index: ['setting_pushName'],
          syncAction: { timestamp: nowMs, pushNameSetting: { name: change.name } },
        };
      case 'delete':
        return {
          ...base,
          type: 'regular_high',
          apiVersion: 6,
          index: ['deleteChat', change.jid, '1'],
          syncAction: { timestamp: nowMs, deleteChatAction: { messageRange } },
        };
    }
  }
}

/**
 * The change a device's mutation makes, by its index (`[action, chat JID]`) and value
 * (proto.SyncActionValue); undefined for one the simulated phone does not play. A mute's end comes
 * in milliseconds (-1: forever); the phone keeps seconds.
 */
function changeOfMutation(index: string[], value: SyncActionValue | undefined): AppStateChange | undefined {
  const [action, jid] = index;
  if (typeof jid !== 'string' || !value) return undefined;
  if (action === 'pin_v1' && value.pinAction) return { action: 'pin', jid, value: value.pinAction.pinned === true };
  if (action === 'archive' && value.archiveChatAction) return { action: 'archive', jid, value: value.archiveChatAction.archived === true };
  if (action === 'markChatAsRead' && value.markChatAsReadAction) return { action: 'markRead', jid, value: value.markChatAsReadAction.read === true };
  if (action === 'mute' && value.muteAction) {
    if (value.muteAction.muted !== true) return { action: 'mute', jid, value: false };
    const end = Number(value.muteAction.muteEndTimestamp ?? -1);
    return { action: 'mute', jid, value: true, muteEndTime: end < 0 ? -1 : end >= 1e11 ? Math.floor(end / 1000) : end };
  }
  return undefined;
}
