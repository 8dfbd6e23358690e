import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { BaileysKit, BinaryNode, loadBaileysKit } from './baileys-kit';
import { CertificateAuthority } from './certificate-chain';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { decryptMedia, MediaHost } from './media-host';
import { CodePairing, companionKeys, LinkingError, pairDeviceOffer, pairSuccess, parseQr, verifyPairDeviceSign } from './linking';
import { deviceListAnswer, groupMetadataAnswer, openSentMessage, preKeyBundlesAnswer, ReceivedMessage } from './outgoing-messages';
import { AppStateChange, AppStateUpload, LinkedDevice, PhoneAccount } from './phone-account';
import type { PhoneBook } from './phone-book';
import type { SignalPeer } from './signal-peer';
import { APP_STATE_COLLECTIONS, AppStateCollection, KeyPair, PAIRING_REFS, readBigEndian, SERVER_JID, STREAM_CODE } from './protocol';
import { ConnectionHandler, WaConnection } from './wa-connection';

export interface SimulatorOptions {
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  /** The root key of the certificate chain; default: a fresh one. */
  rootKey?: KeyPair;
  /** Conversations per history-sync chunk. */
  historyChunkSize?: number;
  log?: (line: string) => void;
}

export class SimulatorError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 = 400,
  ) {
    super(message);
  }
}

/** A linked device as the admin API reports it. */
export interface DeviceReport {
  jid: string;
  phone: string;
  deviceId: number;
  removed: boolean;
  /** Logged-in connections open right now (at most 1 unless a client misbehaves). */
  connections: number;
  logins: number;
  /** Logins that arrived while another connection of the device was still logged in. */
  overlaps: number;
  /** The most logged-in connections the device ever had at once. */
  maxConnections: number;
  pendingStanzas: number;
}

export interface SendMessageInput {
  /** The account (phone number digits) whose linked devices receive it. */
  to: string;
  /** The sender: phone digits or a user JID. */
  from: string;
  /** A text; or, instead, `message`. */
  text?: string;
  /** Any proto.Message as JSON (a location, a contact card, an image's metadata, ...), instead of `text`. */
  message?: Record<string, unknown>;
  /** A group JID to send in (the sender writes in that group). */
  group?: string;
  pushName?: string;
  /** Seconds; default now. */
  timestamp?: number;
  /**
   * The first copy each device gets does not decrypt (as one encrypted under a session the device
   * no longer has): the device asks for it again with a retry receipt, and the contact resends it.
   */
  undecryptableFirstCopy?: boolean;
}

/** The receipts a contact's phone sends for messages it received: delivered, read, played (a voice note listened to). */
export type ReceiptType = 'delivery' | 'read' | 'played';

type Build = () => Promise<BinaryNode>;

/** A contact's message, kept so that a device that could not decrypt it can be sent it again (as a phone does). */
interface ResendableMessage {
  peer: SignalPeer;
  buildFor: (device: LinkedDevice) => Build;
  /** Resends so far, per device jid. */
  resends: Map<string, number>;
}
/** Messages kept for resending, the oldest forgotten first; resends per message and device at most. */
const RESENDABLE_MESSAGES = 1000;
const MAX_RESENDS = 3;

/** What the simulator tracks of a device while it runs. */
interface DeviceRuntime {
  connections: Set<WaConnection>;
  /** The connection that finished its login queries and receives stanzas. */
  ready?: WaConnection;
  backlog: Build[];
  outbound: Promise<void>;
  logins: number;
  overlaps: number;
  maxConnections: number;
}

/**
 * A WhatsApp server on loopback, playing both WhatsApp's servers and the phones: the unmodified
 * Baileys socket connects to it (its WebSocket URL), links by QR or pairing code, logs in with
 * checked credentials, gets its queries answered, receives history, app-state patches and
 * Signal-encrypted messages. Admin calls (in process, or over AdminApi) act as the phones.
 *
 * Events: 'qr' (connection waiting for a scan), 'linked' (device jid), 'login' (device jid),
 * 'ready' (device jid: history and backlog delivered), 'closed' (device jid or undefined),
 * 'receipt' ({ device, ids, type }), 'retry' ({ device, id }): the device could not decrypt,
 * 'received' ({ phone, contact, message }): a contact decrypted what a linked device sent,
 * 'undecryptable' ({ device, id, recipient, error }): a copy of a sent message did not decrypt,
 * 'app-state' ({ phone, device, collection, version, changes }): the server took a device's app-state patch.
 */
/** The proto.Message fields that carry media, and the media type each is encrypted as. */
const MEDIA_FIELDS: Record<string, string> = {
  imageMessage: 'image',
  videoMessage: 'video',
  audioMessage: 'audio',
  documentMessage: 'document',
  stickerMessage: 'sticker',
};

/** GET over HTTPS trusting `ca`: the body, or an error for a status other than 200. */
function httpsGet(url: string, ca: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(url, { agent: new HttpsAgent({ ca }) }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => (response.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`GET ${url}: ${response.statusCode}`))));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

export class WhatsAppSimulator extends EventEmitter implements ConnectionHandler {
  private readonly accounts = new Map<string, PhoneAccount>();
  private readonly runtimes = new Map<string, DeviceRuntime>();
  private readonly unpaired = new Set<WaConnection>();
  private readonly codePairings = new Map<WaConnection, CodePairing>();
  private readonly receipts = new Map<string, Set<string>>();
  private readonly resendable = new Map<string, ResendableMessage>();
  private readonly log: (line: string) => void;

  private constructor(
    private readonly kit: BaileysKit,
    private readonly server: WebSocketServer,
    readonly ca: CertificateAuthority,
    private readonly options: SimulatorOptions,
    readonly media: MediaHost,
  ) {
    super();
    this.log = options.log ?? (() => undefined);
    server.on('connection', (socket) => {
      const connection = new WaConnection(kit.baileys, socket, ca, this, (error) => this.log(`connection error: ${error.message}`));
      void connection;
    });
  }

  static async start(options: SimulatorOptions = {}): Promise<WhatsAppSimulator> {
    const kit = await loadBaileysKit();
    const server = new WebSocketServer({ host: options.host ?? '127.0.0.1', port: options.port ?? 0, maxPayload: 64 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const media = await MediaHost.start(options.host ?? '127.0.0.1');
    return new WhatsAppSimulator(kit, server, new CertificateAuthority(kit.baileys, options.rootKey), options, media);
  }

  /** What WHATSAPP_SIMULATOR_MEDIA_CA should be: the media host's certificate (PEM). */
  get mediaCertificatePem(): string {
    return this.media.certificatePem;
  }

  /** What WHATSAPP_WS_URL should be. */
  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `ws://${address.includes(':') ? `[${address}]` : address}:${port}/ws/chat`;
  }

  /** What WHATSAPP_SIMULATOR_ROOT_KEY should be. */
  get rootPublicKeyHex(): string {
    return this.ca.rootPublicKeyHex;
  }

  async stop(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.media.stop();
  }

  // ---- accounts and linking ------------------------------------------------------------------

  /** Creates a simulated phone (an account) holding `phoneBook`, or returns the existing one. */
  async createAccount(input: { phone: string; pushName?: string; phoneBook: PhoneBook; lid?: string }): Promise<PhoneAccount> {
    if (!/^\d{6,15}$/.test(input.phone)) throw new SimulatorError('phone must be 6-15 digits');
    const existing = this.accounts.get(input.phone);
    if (existing) return existing;
    const account = new PhoneAccount(this.kit, input.phone, input.pushName ?? `Phone ${input.phone.slice(-4)}`, input.phoneBook, input.lid);
    this.accounts.set(input.phone, account);
    await account.changeAppState({ action: 'pushName', name: account.pushName }, Date.now());
    return account;
  }

  account(phone: string): PhoneAccount {
    const account = this.accounts.get(phone);
    if (!account) throw new SimulatorError(`no account ${phone}`, 404);
    return account;
  }

  /** QR refs currently offered to unlinked clients. */
  waitingRefs(): string[] {
    return [...this.unpaired].flatMap((connection) => connection.pairing?.refs ?? []);
  }

  /** The phone scans a QR string a companion shows: checks it against the waiting connection, links the device. */
  async scan(qr: string, phone: string): Promise<string> {
    const account = this.account(phone);
    let parsed: ReturnType<typeof parseQr>;
    try {
      parsed = parseQr(qr);
    } catch (error) {
      throw new SimulatorError((error as Error).message);
    }
    const { ref, noiseKey, identityKey, advSecret } = parsed;
    this.log(`scan of ${ref} for ${phone} (${this.unpaired.size} waiting)`);
    const connection = [...this.unpaired].find((candidate) => candidate.pairing?.refs.includes(ref));
    if (!connection?.pairing) throw new SimulatorError('no client is waiting with this QR (expired or already used)', 404);
    if (!connection.pairing.noiseKey.equals(noiseKey)) throw new SimulatorError('the QR names another noise key than its connection proved', 409);
    if (!Buffer.from(connection.pairing.registration.eIdent ?? []).equals(identityKey)) {
      throw new SimulatorError('the QR names another identity key than the client registered', 409);
    }
    return this.link(connection, account, advSecret, identityKey);
  }

  /** The user types the pairing code the companion shows into the phone `phone`. */
  async typePairingCode(phone: string, code: string): Promise<void> {
    const account = this.account(phone);
    const entry = [...this.codePairings].find(([connection, pairing]) => pairing.account === account && !connection.closed);
    if (!entry) throw new SimulatorError(`no client asked for a pairing code for ${phone}`, 404);
    const [connection, pairing] = entry;
    await connection.send(await pairing.primaryHello(code.replace(/[\s-]/g, '').toUpperCase()));
  }

  private async link(connection: WaConnection, account: PhoneAccount, advSecret: Buffer, identityKey: Buffer): Promise<string> {
    const registration = companionKeys(this.kit, connection.pairing!.registration);
    if (!registration.identityKey.equals(identityKey)) throw new SimulatorError('identity key differs from the registration', 409);
    this.unpaired.delete(connection);
    this.codePairings.delete(connection);
    const id = account.allocateDeviceId();
    const device: LinkedDevice = {
      id,
      jid: account.deviceJid(id),
      lidJid: `${account.lidUser}:${id}@lid`,
      noiseKey: connection.pairing!.noiseKey,
      advSecret,
      platform: 'web',
      linkedAt: Math.floor(Date.now() / 1000),
      removed: false,
      bootstrapped: false,
      preKeys: new Map(),
      ...registration,
    };
    const { node, details } = pairSuccess(this.kit, account, device);
    const reply = await connection.query(node);
    this.log(`pair-success answered: ${reply ? JSON.stringify(reply.attrs) : 'closed'}`);
    try {
      verifyPairDeviceSign(this.kit, reply, device, account, details);
    } catch (error) {
      await connection.failure(STREAM_CODE.loggedOut);
      throw new SimulatorError((error as Error).message, 409);
    }
    account.devices.set(id, device);
    this.log(`linked ${device.jid}`);
    this.emit('linked', device.jid);
    // WhatsApp asks the freshly paired client to reconnect and log in.
    await connection.streamError(STREAM_CODE.restartRequired);
    return device.jid;
  }

  // ---- the phones act ------------------------------------------------------------------------

  /** A contact (or a group member) writes; every linked device of the account receives it, Signal-encrypted. */
  async sendMessage(input: SendMessageInput): Promise<string> {
    const account = this.account(input.to);
    const fromJid = input.from.includes('@') ? input.from : `${input.from}@s.whatsapp.net`;
    if (!/^\d{5,20}@(s\.whatsapp\.net|lid)$/.test(fromJid)) throw new SimulatorError('from must be phone digits or a user JID');
    if (input.group && !input.group.endsWith('@g.us')) throw new SimulatorError('group must be a @g.us JID');
    const content = messageContent(this.kit, input);
    const id = `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
    const t = input.timestamp ?? Math.floor(Date.now() / 1000);
    const peer = account.peer(fromJid);
    const payload = Buffer.from(this.kit.baileys.proto.Message.encode(content).finish());
    account.noteMessage(input.group ?? fromJid, t, true);
    if (input.group) account.addGroupMember(input.group, fromJid);
    const attrs = { id, t: String(t), type: 'text', ...(input.pushName ? { notify: input.pushName } : {}) };
    const garbled = new Set<string>();
    const buildFor =
      (device: LinkedDevice): Build =>
      async () => {
        if (input.undecryptableFirstCopy && !garbled.has(device.jid)) {
          garbled.add(device.jid);
          const enc = { tag: 'enc', attrs: { v: '2', type: 'msg' }, content: randomBytes(64) };
          return { tag: 'message', attrs: { ...attrs, ...(input.group ? { from: input.group, participant: fromJid } : { from: fromJid }) }, content: [enc] };
        }
        if (!input.group) {
          const { type, ciphertext } = await peer.encryptTo(device, payload);
          return { tag: 'message', attrs: { ...attrs, from: fromJid }, content: [{ tag: 'enc', attrs: { v: '2', type }, content: ciphertext }] };
        }
        const { ciphertext, senderKeyDistribution } = await peer.encryptForGroup(input.group, payload);
        const distribution = this.kit.baileys.proto.Message.encode({
          senderKeyDistributionMessage: { groupId: input.group, axolotlSenderKeyDistributionMessage: senderKeyDistribution },
        }).finish();
        const direct = await peer.encryptTo(device, distribution);
        return {
          tag: 'message',
          attrs: { ...attrs, from: input.group, participant: fromJid },
          content: [
            { tag: 'enc', attrs: { v: '2', type: direct.type }, content: direct.ciphertext },
            { tag: 'enc', attrs: { v: '2', type: 'skmsg' }, content: ciphertext },
          ],
        };
      };
    this.rememberForResend(id, { peer, buildFor, resends: new Map() });
    this.toDevices(account, buildFor);
    return id;
  }

  /** Someone creates a group with the account in it. */
  async createGroup(phone: string, input: { subject: string; creator: string; jid?: string }): Promise<string> {
    const account = this.account(phone);
    const jid = input.jid ?? `120363${Date.now()}${randomBytes(2).readUInt16BE()}`.slice(0, 18) + '@g.us';
    const creator = input.creator.includes('@') ? input.creator : `${input.creator}@s.whatsapp.net`;
    const t = Math.floor(Date.now() / 1000);
    account.chats.set(jid, { jid, name: input.subject, lastMessageAt: t });
    account.addGroupMember(jid, creator);
    const group: BinaryNode = {
      tag: 'group',
      attrs: { id: jid.split('@')[0], subject: input.subject, s_t: String(t), s_o: creator, creation: String(t), creator },
      content: [
        { tag: 'participant', attrs: { jid: creator, type: 'superadmin' } },
        { tag: 'participant', attrs: { jid: account.jid } },
      ],
    };
    this.notify(account, { type: 'w:gp2', from: jid, participant: creator }, [{ tag: 'create', attrs: {}, content: [group] }]);
    return jid;
  }

  async renameGroup(phone: string, jid: string, subject: string, by: string): Promise<void> {
    const account = this.account(phone);
    const chat = account.chats.get(jid);
    if (!chat) throw new SimulatorError(`no group ${jid}`, 404);
    chat.name = subject;
    const participant = by.includes('@') ? by : `${by}@s.whatsapp.net`;
    this.notify(account, { type: 'w:gp2', from: jid, participant }, [{ tag: 'subject', attrs: { subject, s_t: String(Math.floor(Date.now() / 1000)) } }]);
  }

  /** The phone pins, archives, mutes, marks (un)read or deletes a chat: a syncd patch, announced to the devices. */
  async changeAppState(phone: string, change: AppStateChange): Promise<number> {
    const account = this.account(phone);
    const collection = await account.changeAppState(change, Date.now());
    const { version } = account.patchesAfter(collection, 0);
    this.notify(account, { type: 'server_sync', from: SERVER_JID }, [{ tag: 'collection', attrs: { name: collection, version: String(version) } }]);
    return version;
  }

  /** What a contact (phone digits or user JID) decrypted from the account's linked devices, in arrival order. */
  received(phone: string, contact: string): readonly ReceivedMessage[] {
    return this.account(phone).receivedBy(contactJid(contact));
  }

  /**
   * The contact's phone opens a media message it received, as WhatsApp's app does: downloads the
   * encrypted file from the message's URL on the media host (over HTTPS, trusting its certificate),
   * checks its hashes and MAC and decrypts it with the message's media key. Returns the file.
   */
  async downloadMedia(phone: string, contact: string, messageId: string): Promise<{ type: string; mimetype: string | null; bytes: Buffer }> {
    const message = this.received(phone, contact).find((candidate) => candidate.id === messageId);
    if (!message) throw new SimulatorError(`${contactJid(contact)} received no message ${messageId}`, 404);
    const field = Object.keys(MEDIA_FIELDS).find((name) => message.message[name] !== undefined);
    if (!field) throw new SimulatorError(`message ${messageId} carries no media`, 409);
    const media = message.message[field] as { url?: string; mediaKey?: string; fileEncSha256?: string; fileSha256?: string; mimetype?: string };
    if (!media.url || !media.mediaKey || !media.fileEncSha256 || !media.fileSha256)
      throw new SimulatorError(`message ${messageId} lacks its media location or keys`, 409);
    const encrypted = await httpsGet(media.url, this.media.certificatePem);
    const bytes = decryptMedia(
      encrypted,
      {
        mediaKey: Buffer.from(media.mediaKey, 'base64'),
        fileEncSha256: Buffer.from(media.fileEncSha256, 'base64'),
        fileSha256: Buffer.from(media.fileSha256, 'base64'),
      },
      MEDIA_FIELDS[field],
    );
    return { type: MEDIA_FIELDS[field], mimetype: media.mimetype ?? null, bytes };
  }

  /**
   * The contact's phone reports messages it received as delivered, read or played: a receipt to
   * every linked device of the account (kept for a device that is away), one per chat (in a
   * group, from the group with the contact as participant). Only ids the contact received can
   * be reported. Returns the number of devices each receipt goes to.
   */
  sendReceipt(phone: string, contact: string, ids: string[], type: ReceiptType): number {
    const account = this.account(phone);
    const from = contactJid(contact);
    if (!['delivery', 'read', 'played'].includes(type)) throw new SimulatorError('type must be delivery, read or played');
    if (!Array.isArray(ids) || ids.length === 0 || ids.some((id) => typeof id !== 'string'))
      throw new SimulatorError('ids must be a non-empty array of message ids');
    const chatOf = new Map(account.receivedBy(from).map((message) => [message.id, message.chat]));
    const unknown = ids.filter((id) => !chatOf.has(id));
    if (unknown.length > 0) throw new SimulatorError(`${from} received no message ${unknown.join(', ')}`, 404);
    // One receipt per chat: a group's comes from the group, naming the member as participant.
    const byChat = new Map<string, string[]>();
    for (const id of ids) byChat.set(chatOf.get(id)!, [...(byChat.get(chatOf.get(id)!) ?? []), id]);
    const t = String(Math.floor(Date.now() / 1000));
    const receipts: BinaryNode[] = [...byChat].map(([chat, [first, ...rest]]) => ({
      tag: 'receipt',
      // A delivery receipt carries no type.
      attrs: { ...(chat.endsWith('@g.us') ? { from: chat, participant: from } : { from }), id: first, t, ...(type === 'delivery' ? {} : { type }) },
      content: rest.length ? [{ tag: 'list', attrs: {}, content: rest.map((id) => ({ tag: 'item', attrs: { id } })) }] : undefined,
    }));
    let devices = 0;
    for (const receipt of receipts) {
      devices = 0;
      this.toDevices(account, () => {
        devices++;
        return async () => receipt;
      });
    }
    return devices;
  }

  /**
   * From now on the server refuses what the account's linked devices send to `chat` (a contact
   * or a group): the ack carries `error` (e.g. 479, 463) and nobody receives it. `undefined` ends that.
   */
  refuseMessagesTo(phone: string, chat: string, error: number | undefined): void {
    const account = this.account(phone);
    const jid = this.chatJid(account, chat);
    if (error === undefined) account.refusals.delete(jid);
    else if (Number.isInteger(error) && error >= 400 && error <= 599) account.refusals.set(jid, error);
    else throw new SimulatorError('error must be an integer 400-599');
  }

  /**
   * From now on the server refuses the app-state patches the account's linked devices upload (a
   * chat archived, pinned, muted, marked read or unread from a companion) with `error` (e.g. 400,
   * 405, 409): their collection comes back with type="error", the phone's state stays as it was.
   * `undefined` ends that.
   */
  refuseAppStatePatches(phone: string, error: number | undefined): void {
    const account = this.account(phone);
    if (error !== undefined && !(Number.isInteger(error) && error >= 400 && error <= 599)) throw new SimulatorError('error must be an integer 400-599');
    account.appStateRefusal = error;
  }

  /** The app-state patches the server took from the account's linked devices, in order. */
  appStateUploads(phone: string): readonly AppStateUpload[] {
    return this.account(phone).appStateUploads;
  }

  /**
   * The server delivers what the linked devices send to `chat` but holds its acks back (the
   * sender sees no "sent") until `releaseAcks`. Returns nothing; acks held for a connection that
   * closed meanwhile are lost, as they would be.
   */
  holdAcks(phone: string, chat: string): void {
    const account = this.account(phone);
    const jid = this.chatJid(account, chat);
    if (!account.heldAcks.has(jid)) account.heldAcks.set(jid, []);
  }

  /** Sends the acks held for `chat` and stops holding them; returns how many were sent. */
  async releaseAcks(phone: string, chat: string): Promise<number> {
    const account = this.account(phone);
    const jid = this.chatJid(account, chat);
    const held = account.heldAcks.get(jid) ?? [];
    account.heldAcks.delete(jid);
    for (const send of held) await send();
    return held.length;
  }

  private chatJid(account: PhoneAccount, chat: string): string {
    return chat.endsWith('@g.us') ? chat : account.personJid(contactJid(chat));
  }

  // ---- the server acts on a device's connection --------------------------------------------

  dropConnection(deviceJid: string): number {
    return this.liveConnections(deviceJid).map((connection) => connection.drop()).length;
  }

  async streamError(deviceJid: string, code: number): Promise<number> {
    const connections = this.liveConnections(deviceJid);
    await Promise.all(connections.map((connection) => connection.streamError(code)));
    return connections.length;
  }

  /** The phone unlinks the device: its connection is ended with 401 and its logins refused from now on. */
  async removeDevice(deviceJid: string): Promise<void> {
    const device = this.device(deviceJid);
    device.removed = true;
    await Promise.all(
      this.liveConnections(deviceJid).map((connection) =>
        connection.streamError(STREAM_CODE.loggedOut, { tag: 'conflict', attrs: { type: 'device_removed' } }),
      ),
    );
  }

  devices(phone?: string): DeviceReport[] {
    const reports: DeviceReport[] = [];
    for (const account of this.accounts.values()) {
      if (phone && account.phone !== phone) continue;
      for (const device of account.devices.values()) {
        const runtime = this.runtime(device.jid);
        reports.push({
          jid: device.jid,
          phone: account.phone,
          deviceId: device.id,
          removed: device.removed,
          connections: runtime.connections.size,
          logins: runtime.logins,
          overlaps: runtime.overlaps,
          maxConnections: runtime.maxConnections,
          pendingStanzas: runtime.backlog.length,
        });
      }
    }
    return reports;
  }

  /** Message ids a device acknowledged with a delivery receipt. */
  receiptsOf(deviceJid: string): ReadonlySet<string> {
    return this.receipts.get(deviceJid) ?? new Set();
  }

  // ---- ConnectionHandler ---------------------------------------------------------------------

  async onHandshake(
    connection: WaConnection,
    clientStaticKey: Buffer,
    payload: ReturnType<BaileysKit['baileys']['proto']['ClientPayload']['decode']>,
  ): Promise<void> {
    if (payload.devicePairingData) {
      try {
        companionKeys(this.kit, payload.devicePairingData);
      } catch (error) {
        this.log(`registration refused: ${(error as Error).message}`);
        return connection.failure(STREAM_CODE.loggedOut);
      }
      const refs = Array.from({ length: PAIRING_REFS }, () => `2@${randomBytes(24).toString('base64')}`);
      connection.pairing = { refs, noiseKey: clientStaticKey, registration: payload.devicePairingData };
      this.log(`connection ${connection.id}: unlinked client registered, offering QR refs`);
      this.unpaired.add(connection);
      await connection.send(pairDeviceOffer(refs));
      this.emit('qr', refs[0]);
      return;
    }
    const phone = payload.username === null || payload.username === undefined ? '' : String(payload.username);
    const account = this.accounts.get(phone);
    const device = account?.devices.get(payload.device ?? 0);
    // WhatsApp refuses a device it does not know, one the phone removed, or one whose noise key differs.
    if (!account || !device || device.removed || !device.noiseKey.equals(clientStaticKey)) {
      this.log(`login refused for ${phone}:${payload.device ?? 0}`);
      return connection.failure(STREAM_CODE.loggedOut);
    }
    const runtime = this.runtime(device.jid);
    if (runtime.connections.size > 0) {
      runtime.overlaps++;
      this.log(`device ${device.jid} logged in while ${runtime.connections.size} connection(s) of it were open: replacing`);
      for (const old of runtime.connections) await old.streamError(440, { tag: 'conflict', attrs: { type: 'replaced' } });
    }
    connection.deviceJid = device.jid;
    this.log(`connection ${connection.id}: ${device.jid} logged in`);
    runtime.connections.add(connection);
    runtime.maxConnections = Math.max(runtime.maxConnections, runtime.connections.size);
    runtime.logins++;
    await connection.send({
      tag: 'success',
      attrs: { t: String(Math.floor(Date.now() / 1000)), props: '0', abprops: '0', location: 'sim', creation: String(device.linkedAt), lid: device.lidJid },
    });
    this.emit('login', device.jid);
  }

  async onStanza(connection: WaConnection, node: BinaryNode): Promise<void> {
    switch (node.tag) {
      case 'iq':
        if (node.attrs.type === 'get' || node.attrs.type === 'set') await this.answerIq(connection, node);
        return;
      case 'receipt':
        this.noteReceipt(connection, node);
        await connection.send({ tag: 'ack', attrs: { id: node.attrs.id, class: 'receipt', from: node.attrs.to ?? SERVER_JID } });
        return;
      case 'message':
        await this.receiveFromDevice(connection, node);
        return;
      default:
        // presence, chatstate, ib (unified_session), ack: nothing to answer.
        return;
    }
  }

  onClose(connection: WaConnection): void {
    this.log(`connection ${connection.id} closed${connection.deviceJid ? ` (${connection.deviceJid})` : ''}`);
    this.unpaired.delete(connection);
    this.codePairings.delete(connection);
    if (!connection.deviceJid) return;
    const runtime = this.runtime(connection.deviceJid);
    runtime.connections.delete(connection);
    if (runtime.ready === connection) runtime.ready = undefined;
    this.emit('closed', connection.deviceJid);
  }

  // ---- queries -------------------------------------------------------------------------------

  private async answerIq(connection: WaConnection, iq: BinaryNode): Promise<void> {
    const { getBinaryNodeChild } = this.kit.baileys;
    const [child] = Array.isArray(iq.content) ? iq.content : [];
    const device = connection.deviceJid ? this.device(connection.deviceJid) : undefined;
    switch (iq.attrs.xmlns) {
      case 'encrypt':
        if (!device) return connection.reply(iq);
        if (child?.tag === 'key') return connection.reply(iq, await preKeyBundlesAnswer(this.kit, iq, this.accountOf(device)));
        if (child?.tag === 'count') return connection.reply(iq, [{ tag: 'count', attrs: { value: String(device.preKeys.size) } }]);
        if (child?.tag === 'digest') return connection.reply(iq, [{ tag: 'digest', attrs: {} }]);
        if (getBinaryNodeChild(iq, 'list')) {
          this.storePreKeys(iq, device);
          return connection.reply(iq);
        }
        return connection.reply(iq);
      case 'passive':
        await connection.reply(iq);
        if (device && child?.tag === 'active') this.startDelivering(connection, device);
        return;
      case 'abt':
        return connection.reply(iq, [{ tag: 'props', attrs: { protocol: '1', hash: 'simulator' } }]);
      case 'blocklist':
        return connection.reply(iq, [{ tag: 'list', attrs: {} }]);
      case 'privacy':
        return connection.reply(iq, [{ tag: 'privacy', attrs: {} }]);
      case 'w:sync:app:state':
        return connection.reply(iq, device ? await this.appStateAnswer(iq, device) : undefined);
      case 'md':
        return this.answerMd(connection, iq, child);
      case 'w:g2':
        if (device && child?.tag === 'query' && iq.attrs.to?.endsWith('@g.us')) {
          return connection.reply(iq, groupMetadataAnswer(this.accountOf(device), iq.attrs.to));
        }
        return connection.reply(iq);
      case 'usync':
        return connection.reply(iq, device ? deviceListAnswer(this.kit, iq, this.accountOf(device), device) : undefined);
      case 'w:m':
        // Where to upload media, and the token to upload with (Baileys' refreshMediaConn).
        if (child?.tag !== 'media_conn') return connection.reply(iq);
        return connection.reply(iq, [
          {
            tag: 'media_conn',
            attrs: { auth: this.media.auth, ttl: '300', auth_ttl: '21600', max_buckets: '12' },
            content: [{ tag: 'host', attrs: { hostname: this.media.hostname, maxContentLengthBytes: String(256 * 1024 * 1024) } }],
          },
        ]);
      default:
        // w:p pings, privacy tokens, profile pictures, ...: an empty result.
        return connection.reply(iq);
    }
  }

  private async answerMd(connection: WaConnection, iq: BinaryNode, child: BinaryNode | undefined): Promise<void> {
    const { getBinaryNodeChildBuffer } = this.kit.baileys;
    if (child?.tag === 'remove-companion-device' && connection.deviceJid) {
      // The device logs itself out.
      this.device(connection.deviceJid).removed = true;
      return connection.reply(iq);
    }
    if (child?.tag !== 'link_code_companion_reg' || !connection.pairing) return connection.reply(iq);
    if (child.attrs.stage === 'companion_hello') {
      const phone = (child.attrs.jid ?? '').split('@')[0];
      const account = this.accounts.get(phone);
      const wrapped = getBinaryNodeChildBuffer(child, 'link_code_pairing_wrapped_companion_ephemeral_pub');
      const noiseKey = getBinaryNodeChildBuffer(child, 'companion_server_auth_key_pub');
      if (!account || !wrapped || !noiseKey || !Buffer.from(noiseKey).equals(connection.pairing.noiseKey)) {
        return connection.send({
          tag: 'iq',
          attrs: { from: SERVER_JID, type: 'error', id: iq.attrs.id },
          content: [{ tag: 'error', attrs: { code: '400', text: 'bad-request' } }],
        });
      }
      const pairing = new CodePairing(this.kit, account, Buffer.from(wrapped));
      this.codePairings.set(connection, pairing);
      this.emit('pairing-code-requested', phone);
      return connection.reply(iq, [
        { tag: 'link_code_companion_reg', attrs: {}, content: [{ tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(pairing.ref) }] },
      ]);
    }
    if (child.attrs.stage === 'companion_finish') {
      const pairing = this.codePairings.get(connection);
      const bundle = getBinaryNodeChildBuffer(child, 'link_code_pairing_wrapped_key_bundle');
      const identity = getBinaryNodeChildBuffer(child, 'companion_identity_public');
      await connection.reply(iq);
      if (!pairing || !bundle || !identity) return;
      let finished: { identityKey: Buffer; advSecret: Buffer };
      try {
        finished = pairing.finish(Buffer.from(bundle), Buffer.from(identity));
      } catch (error) {
        this.log(`pairing code refused: ${(error as Error).message}`);
        this.emit('pairing-failed', (error as Error).message);
        return;
      }
      // Not awaited: linking waits for the client's answer, which arrives on this same inbound queue.
      this.link(connection, pairing.account, finished.advSecret, finished.identityKey).catch((error: Error) => {
        this.log(`linking by code failed: ${error.message}`);
        this.emit('pairing-failed', error.message);
      });
      return;
    }
    return connection.reply(iq);
  }

  private storePreKeys(iq: BinaryNode, device: LinkedDevice): void {
    const { getBinaryNodeChild, getBinaryNodeChildren, getBinaryNodeChildBuffer } = this.kit.baileys;
    const identity = getBinaryNodeChildBuffer(iq, 'identity');
    if (identity && !Buffer.from(identity).equals(device.identityKey)) throw new LinkingError('pre-keys uploaded under another identity');
    for (const key of getBinaryNodeChildren(getBinaryNodeChild(iq, 'list'), 'key')) {
      const id = getBinaryNodeChildBuffer(key, 'id');
      const value = getBinaryNodeChildBuffer(key, 'value');
      if (id?.length === 3 && value?.length === 32) device.preKeys.set(readBigEndian(id), Buffer.from(value));
    }
  }

  /**
   * `w:sync:app:state`: a resync names collections and the version the device has; the answer
   * holds the patches after it. A device's own change carries a `<patch>` in its collection, on
   * top of the version it has: accepted, the answer names the new version and the account's
   * other devices hear of it (server_sync); refused, the collection comes back with
   * `type="error"` and an `<error code text>` (a 409 conflict also holds the patches the device
   * missed), as WhatsApp answers.
   */
  private async appStateAnswer(iq: BinaryNode, device: LinkedDevice): Promise<BinaryNode[]> {
    const { getBinaryNodeChild, getBinaryNodeChildren } = this.kit.baileys;
    const account = this.accountOf(device);
    const collections: BinaryNode[] = [];
    for (const node of getBinaryNodeChildren(getBinaryNodeChild(iq, 'sync'), 'collection')) {
      const name = node.attrs.name as AppStateCollection;
      if (!APP_STATE_COLLECTIONS.includes(name)) continue;
      const from = Math.max(0, Number(node.attrs.version) || 0);
      const patchesOf = (after: number): BinaryNode[] => {
        const { patches } = account.patchesAfter(name, after);
        return patches.length ? [{ tag: 'patches', attrs: {}, content: patches.map((patch) => ({ tag: 'patch', attrs: {}, content: patch })) }] : [];
      };
      const upload = getBinaryNodeChild(node, 'patch');
      if (upload && ArrayBuffer.isView(upload.content)) {
        const answer = await account.takeDevicePatch(device.jid, name, from, upload.content);
        if (answer.accepted) {
          this.log(`${device.jid} changed ${name} to v${answer.version}`);
          collections.push({ tag: 'collection', attrs: { name, version: String(answer.version) } });
          this.notify(
            account,
            { type: 'server_sync', from: SERVER_JID },
            [{ tag: 'collection', attrs: { name, version: String(answer.version) } }],
            device.jid,
          );
          this.emit('app-state', { phone: account.phone, ...account.appStateUploads[account.appStateUploads.length - 1] });
        } else {
          this.log(`refused ${device.jid}'s patch of ${name} v${from} with ${answer.code}`);
          collections.push({
            tag: 'collection',
            attrs: { name, version: String(answer.version), type: 'error' },
            content: [{ tag: 'error', attrs: { code: String(answer.code), text: answer.text } }, ...(answer.code === 409 ? patchesOf(from) : [])],
          });
        }
        continue;
      }
      const { version } = account.patchesAfter(name, from);
      collections.push({ tag: 'collection', attrs: { name, version: String(Math.max(version, from)) }, content: patchesOf(from) });
    }
    return [{ tag: 'sync', attrs: {}, content: collections }];
  }

  // ---- what a device sends ------------------------------------------------------------------

  /**
   * A message a linked device sends: the simulated recipients decrypt their copies and the
   * contacts' copies are recorded, then the server's ack (what the sender takes as "sent").
   * The ack comes after the record, so whoever sees the ack finds the message recorded. A chat
   * the server refuses (refuseMessagesTo) gets an ack with an error and no copy is opened; one
   * whose acks are held (holdAcks) gets its ack on releaseAcks.
   */
  private async receiveFromDevice(connection: WaConnection, node: BinaryNode): Promise<void> {
    const device = connection.deviceJid ? this.device(connection.deviceJid) : undefined;
    const t = String(Math.floor(Date.now() / 1000));
    const ack: BinaryNode = { tag: 'ack', attrs: { id: node.attrs.id, class: 'message', from: node.attrs.to ?? SERVER_JID, t } };
    const account = device ? this.accountOf(device) : undefined;
    const refusal = account?.refusals.get(account.personJid(node.attrs.to ?? ''));
    if (refusal !== undefined) {
      this.log(`refused ${node.attrs.id} to ${node.attrs.to} with ${refusal}`);
      return connection.send({ ...ack, attrs: { ...ack.attrs, error: String(refusal) } });
    }
    if (device && account) {
      const { received, undecryptable } = await openSentMessage(this.kit, node, account, device);
      for (const { contact, message } of received) {
        account.recordReceived(contact, message);
        account.noteMessage(message.chat, message.t, false);
        this.log(`${contact} received ${message.id} from ${device.jid} (${message.encryption})`);
        this.emit('received', { phone: account.phone, contact, message });
      }
      for (const failure of undecryptable) {
        this.log(`a copy of ${node.attrs.id} for ${failure.recipient} did not decrypt: ${failure.error}`);
        this.emit('undecryptable', { device: device.jid, id: node.attrs.id, ...failure });
      }
      if (received.length === 0 && undecryptable.length === 0) this.log(`${device.jid} sent ${node.attrs.id} to ${node.attrs.to}: no copy the simulator plays`);
    }
    const held = account?.heldAcks.get(account.personJid(node.attrs.to ?? ''));
    if (held) held.push(() => connection.send(ack));
    else await connection.send(ack);
  }

  // ---- delivery ------------------------------------------------------------------------------

  /** After the login queries: stanzas kept while the device was away, the offline marker, then (once) app-state key and history. */
  private startDelivering(connection: WaConnection, device: LinkedDevice): void {
    const runtime = this.runtime(device.jid);
    if (runtime.ready === connection) return;
    runtime.ready = connection;
    const backlog = runtime.backlog.splice(0);
    const account = this.accountOf(device);
    this.enqueue(runtime, async () => {
      for (const build of backlog) {
        const node = await build();
        node.attrs.offline = '1';
        if (!(await this.sendOrKeep(runtime, connection, node))) return;
      }
      await connection.send({ tag: 'ib', attrs: {}, content: [{ tag: 'offline', attrs: { count: String(backlog.length) } }] });
      if (!device.bootstrapped) {
        await connection.send(await this.phoneMessage(account, device, this.keyShare(account)));
        for (const sync of account.historySyncs(this.options.historyChunkSize ?? 5000)) {
          await connection.send(await this.phoneMessage(account, device, this.historyNotification(sync)));
        }
        if (!connection.closed) device.bootstrapped = true;
      }
      if (!connection.closed) this.emit('ready', device.jid);
    });
  }

  /** Sends to every linked device of the account now, or keeps it until the device is back. */
  private toDevices(account: PhoneAccount, buildFor: (device: LinkedDevice) => Build, exceptDevice?: string): void {
    for (const device of account.devices.values()) {
      if (device.removed || device.jid === exceptDevice) continue;
      const runtime = this.runtime(device.jid);
      const build = buildFor(device);
      const connection = runtime.ready;
      if (!connection || connection.closed) {
        runtime.backlog.push(build);
        continue;
      }
      this.enqueue(runtime, async () => {
        const node = await build();
        await this.sendOrKeep(runtime, connection, node);
      });
    }
  }

  /** A notification to the account's devices (but `exceptDevice`, the one whose own change it announces). */
  private notify(account: PhoneAccount, attrs: Record<string, string>, content: BinaryNode[], exceptDevice?: string): void {
    const t = String(Math.floor(Date.now() / 1000));
    const id = randomBytes(8).toString('hex');
    this.toDevices(account, () => async () => ({ tag: 'notification', attrs: { ...attrs, id, t }, content }), exceptDevice);
  }

  private async sendOrKeep(runtime: DeviceRuntime, connection: WaConnection, node: BinaryNode): Promise<boolean> {
    if (!connection.closed) {
      await connection.send(node);
      if (!connection.closed) return true;
    }
    // Encrypted already (the sender's ratchet moved): keep the very stanza for the next login.
    runtime.backlog.push(async () => node);
    return false;
  }

  private rememberForResend(id: string, message: ResendableMessage): void {
    if (this.resendable.size >= RESENDABLE_MESSAGES) this.resendable.delete(this.resendable.keys().next().value!);
    this.resendable.set(id, message);
  }

  /**
   * A linked device asked for a contact's message again (a retry receipt: it could not decrypt it,
   * e.g. it had not stored the session its own last message opened yet). As a phone does, the
   * contact drops its session with that device and sends the message again, under a session opened
   * from a fresh pre-key of the device (a pkmsg), a few times at most.
   */
  private resend(connection: WaConnection, id: string): void {
    const message = this.resendable.get(id);
    if (!message || !connection.deviceJid) return;
    const device = this.device(connection.deviceJid);
    const resends = message.resends.get(device.jid) ?? 0;
    if (resends >= MAX_RESENDS) return;
    message.resends.set(device.jid, resends + 1);
    const runtime = this.runtime(device.jid);
    const build = message.buildFor(device);
    this.enqueue(runtime, async () => {
      await message.peer.forget(device.jid);
      await this.sendOrKeep(runtime, connection, await build());
    });
  }

  private enqueue(runtime: DeviceRuntime, work: () => Promise<void>): void {
    runtime.outbound = runtime.outbound.then(work).catch((error: Error) => this.log(`delivery failed: ${error.stack ?? error.message}`));
  }

  private async phoneMessage(account: PhoneAccount, device: LinkedDevice, message: Record<string, unknown>): Promise<BinaryNode> {
    const { type, ciphertext } = await account.phonePeer.encryptTo(device, this.kit.baileys.proto.Message.encode(message).finish());
    return {
      tag: 'message',
      attrs: {
        from: account.jid,
        id: `3EB0${randomBytes(8).toString('hex').toUpperCase()}`,
        t: String(Math.floor(Date.now() / 1000)),
        type: 'text',
        category: 'peer',
      },
      content: [{ tag: 'enc', attrs: { v: '2', type }, content: ciphertext }],
    };
  }

  private keyShare(account: PhoneAccount): Record<string, unknown> {
    const { proto } = this.kit.baileys;
    return {
      protocolMessage: {
        type: proto.Message.ProtocolMessage.Type.APP_STATE_SYNC_KEY_SHARE,
        appStateSyncKeyShare: {
          keys: [
            {
              keyId: { keyId: account.appStateKey.id },
              keyData: {
                keyData: account.appStateKey.data,
                fingerprint: { rawId: 1, currentIndex: 0, deviceIndexes: [0] },
                timestamp: account.appStateKey.timestamp,
              },
            },
          ],
        },
      },
    };
  }

  private historyNotification(sync: { syncType: number; chunkOrder: number; progress?: number; payload: Buffer }): Record<string, unknown> {
    const { proto } = this.kit.baileys;
    return {
      protocolMessage: {
        type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
        historySyncNotification: {
          syncType: sync.syncType,
          chunkOrder: sync.chunkOrder,
          progress: sync.progress,
          initialHistBootstrapInlinePayload: sync.payload,
        },
      },
    };
  }

  private noteReceipt(connection: WaConnection, node: BinaryNode): void {
    if (!connection.deviceJid) return;
    const { getBinaryNodeChild, getBinaryNodeChildren } = this.kit.baileys;
    const ids = [node.attrs.id, ...getBinaryNodeChildren(getBinaryNodeChild(node, 'list'), 'item').map((item) => item.attrs.id)].filter(Boolean);
    if (node.attrs.type === 'retry') {
      this.log(`device ${connection.deviceJid} could not decrypt ${node.attrs.id}`);
      this.emit('retry', { device: connection.deviceJid, id: node.attrs.id });
      this.resend(connection, node.attrs.id);
      return;
    }
    let seen = this.receipts.get(connection.deviceJid);
    if (!seen) this.receipts.set(connection.deviceJid, (seen = new Set()));
    for (const id of ids) seen.add(id);
    this.emit('receipt', { device: connection.deviceJid, ids, type: node.attrs.type ?? 'delivery' });
  }

  // ---- lookups -------------------------------------------------------------------------------

  private runtime(deviceJid: string): DeviceRuntime {
    let runtime = this.runtimes.get(deviceJid);
    if (!runtime)
      this.runtimes.set(deviceJid, (runtime = { connections: new Set(), backlog: [], outbound: Promise.resolve(), logins: 0, overlaps: 0, maxConnections: 0 }));
    return runtime;
  }

  private liveConnections(deviceJid: string): WaConnection[] {
    this.device(deviceJid);
    return [...this.runtime(deviceJid).connections];
  }

  private device(deviceJid: string): LinkedDevice {
    const [user, server] = deviceJid.split('@');
    const [phone, id] = user.split(':');
    const device = server === 's.whatsapp.net' ? this.accounts.get(phone)?.devices.get(Number(id)) : undefined;
    if (!device) throw new SimulatorError(`no linked device ${deviceJid}`, 404);
    return device;
  }

  private accountOf(device: LinkedDevice): PhoneAccount {
    return this.account(device.jid.split(':')[0]);
  }
}

/** A contact named by phone digits or by a user JID. */
function contactJid(contact: string): string {
  const jid = typeof contact === 'string' && contact.includes('@') ? contact : `${contact}@s.whatsapp.net`;
  if (!/^\d{5,20}@(s\.whatsapp\.net|lid)$/.test(jid)) throw new SimulatorError('contact must be phone digits or a user JID');
  return jid;
}

/** The proto.Message a contact sends: a text, or a message given as JSON. */
function messageContent(kit: BaileysKit, input: SendMessageInput): ReturnType<BaileysKit['baileys']['proto']['Message']['fromObject']> {
  const { proto } = kit.baileys;
  if (input.message !== undefined) {
    if (input.text !== undefined) throw new SimulatorError('give text or message, not both');
    if (input.message === null || typeof input.message !== 'object' || Array.isArray(input.message)) throw new SimulatorError('message must be an object');
    let message: ReturnType<typeof proto.Message.fromObject>;
    try {
      message = proto.Message.fromObject(input.message);
    } catch (error) {
      throw new SimulatorError(`message: ${(error as Error).message}`);
    }
    // fromObject drops unknown fields: a message naming none of Message's is a mistake.
    if (proto.Message.encode(message).finish().length === 0) throw new SimulatorError('message names no field of proto.Message');
    return message;
  }
  if (typeof input.text !== 'string' || input.text.length === 0) throw new SimulatorError('text (or message) is required');
  return proto.Message.fromObject({ conversation: input.text });
}
