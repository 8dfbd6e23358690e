import type { BaileysKit, BinaryNode } from './baileys-kit';
import type { LinkedDevice, PhoneAccount } from './phone-account';
import { bigEndian, KEY_TYPE_DJB } from './protocol';
import type { PreKeyBundle, SignalPeer } from './signal-peer';

/**
 * What the server does with what a linked device sends (WhatsApp's side of Baileys'
 * `relayMessage`): the device list (usync) and pre-key bundle (`encrypt` key) queries a send
 * makes first, then the `message` stanza, whose `to` copies the simulated recipients decrypt.
 */

/** A message a simulated contact decrypted, as the simulator records it. */
export interface ReceivedMessage {
  /** WhatsApp's message id (the stanza id the sender chose). */
  id: string;
  /** The chat it was sent to (the stanza's `to`). */
  chat: string;
  /** The linked device that sent it. */
  fromDevice: string;
  /** When the server took it, seconds since the epoch. */
  t: number;
  /** The stanza's `type` (text, media, reaction, poll, ...). */
  stanzaType: string;
  /** `pkmsg` opened the Signal session (from a pre-key bundle), `msg` continued one, `skmsg` is a group copy under the sender's key. */
  encryption: 'pkmsg' | 'msg' | 'skmsg';
  /** The decrypted proto.Message as JSON (bytes as base64, 64-bit numbers as numbers). */
  message: Record<string, unknown>;
  /** What a person reads: `conversation` or `extendedTextMessage.text`; null for other kinds. */
  text: string | null;
  /** The account's own phone got its copy of the same message (1:1: a deviceSentMessage naming this chat; group: the group copy). */
  phoneCopy: boolean;
}

/** A recipient of a sent message that the simulator can decrypt for: the account's phone or a contact's phone. */
type Recipient = { kind: 'phone'; peer: SignalPeer } | { kind: 'contact'; peer: SignalPeer; userJid: string };

/** The key-index a device list names for the linked device (non-zero devices need one, Baileys drops them otherwise). */
const KEY_INDEX = '1';

/**
 * Answers a usync query: devices (a contact has its phone, device 0; the account has its phone
 * and the asking device, which Baileys leaves out) and, for a phone-number user, its LID (Baileys
 * 7 fetches pre-key bundles by LID only). Users named only by phone (no jid) are left out.
 */
export function deviceListAnswer(kit: BaileysKit, iq: BinaryNode, account: PhoneAccount, asking: LinkedDevice): BinaryNode[] {
  const { getBinaryNodeChild, getBinaryNodeChildren, jidDecode } = kit.baileys;
  const usync = getBinaryNodeChild(iq, 'usync');
  const query = getBinaryNodeChild(usync, 'query');
  const wantsDevices = !!getBinaryNodeChild(query, 'devices');
  const wantsLid = !!getBinaryNodeChild(query, 'lid');
  const users = getBinaryNodeChildren(getBinaryNodeChild(usync, 'list'), 'user').flatMap((user) => {
    const decoded = user.attrs.jid ? jidDecode(user.attrs.jid) : undefined;
    if (!decoded?.user || (decoded.server !== 's.whatsapp.net' && decoded.server !== 'lid')) return [];
    const userJid = `${decoded.user}@${decoded.server}`;
    const own = account.personJid(userJid) === account.jid;
    const devices: BinaryNode[] = [{ tag: 'device', attrs: { id: '0' } }];
    if (own) devices.push({ tag: 'device', attrs: { id: String(asking.id), 'key-index': KEY_INDEX } });
    const content: BinaryNode[] = [];
    if (wantsDevices) content.push({ tag: 'devices', attrs: {}, content: [{ tag: 'device-list', attrs: {}, content: devices }] });
    if (wantsLid && decoded.server === 's.whatsapp.net') content.push({ tag: 'lid', attrs: { val: account.lidOf(userJid) } });
    return [{ tag: 'user', attrs: { jid: userJid }, content }];
  });
  return [
    {
      tag: 'usync',
      attrs: { ...(usync?.attrs ?? {}), last: 'true', index: '0' },
      content: [{ tag: 'list', attrs: {}, content: users }],
    },
  ];
}

/**
 * Answers an `encrypt` key query: a pre-key bundle per asked device, each with a one-time pre-key
 * of its own (used once), or an item-not-found error for a device that does not exist.
 */
export async function preKeyBundlesAnswer(kit: BaileysKit, iq: BinaryNode, account: PhoneAccount): Promise<BinaryNode[]> {
  const { getBinaryNodeChild, getBinaryNodeChildren } = kit.baileys;
  const users: BinaryNode[] = [];
  for (const user of getBinaryNodeChildren(getBinaryNodeChild(iq, 'key'), 'user')) {
    const jid = user.attrs.jid ?? '';
    const bundle = await bundleFor(kit, account, jid);
    users.push(
      bundle
        ? { tag: 'user', attrs: { jid }, content: bundleNodes(bundle) }
        : { tag: 'user', attrs: { jid }, content: [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }] },
    );
  }
  return [{ tag: 'list', attrs: {}, content: users }];
}

/**
 * Opens a `message` stanza a linked device sent. Each `to` copy meant for the account's phone or
 * a contact is decrypted (pkmsg/msg); in a 1:1 chat it holds the message (the phone's copy as a
 * deviceSentMessage), in a group it holds the sender's key, and every member the simulator plays
 * then decrypts the group copy (skmsg). Returns what each contact received; the phone's copy is
 * checked against it. Copies for devices the simulator does not play (another companion of the
 * account) are skipped.
 */
export async function openSentMessage(
  kit: BaileysKit,
  node: BinaryNode,
  account: PhoneAccount,
  sender: LinkedDevice,
): Promise<{ received: { contact: string; message: ReceivedMessage }[]; undecryptable: { recipient: string; error: string }[] }> {
  const { getBinaryNodeChild, getBinaryNodeChildren, proto } = kit.baileys;
  const chat = node.attrs.to ?? '';
  const group = chat.endsWith('@g.us');
  const t = Math.floor(Date.now() / 1000);
  const contacts: { contact: string; bytes: Buffer; encryption: ReceivedMessage['encryption'] }[] = [];
  const phoneCopies: Buffer[] = [];
  const undecryptable: { recipient: string; error: string }[] = [];
  for (const copy of getBinaryNodeChildren(getBinaryNodeChild(node, 'participants'), 'to')) {
    const recipientJid = copy.attrs.jid ?? '';
    const recipient = recipientFor(kit, account, recipientJid);
    const enc = getBinaryNodeChild(copy, 'enc');
    const type = enc?.attrs.type;
    if (!recipient || !enc || !(enc.content instanceof Uint8Array) || (type !== 'pkmsg' && type !== 'msg')) continue;
    try {
      const bytes = await recipient.peer.decryptFrom(sender.jid, type, enc.content);
      const distribution = proto.Message.decode(bytes).senderKeyDistributionMessage;
      if (group && distribution?.axolotlSenderKeyDistributionMessage) {
        await recipient.peer.receiveSenderKey(chat, sender.jid, distribution.axolotlSenderKeyDistributionMessage);
      } else if (recipient.kind === 'phone') phoneCopies.push(bytes);
      else contacts.push({ contact: recipient.userJid, bytes, encryption: type });
    } catch (error) {
      undecryptable.push({ recipient: recipientJid, error: (error as Error).message });
    }
  }
  const groupCopy = getBinaryNodeChildren(node, 'enc').find((enc) => enc.attrs.type === 'skmsg')?.content;
  if (group && groupCopy instanceof Uint8Array) {
    const members: Recipient[] = [
      { kind: 'phone', peer: account.phonePeer },
      ...account.membersOf(chat).map((userJid): Recipient => ({ kind: 'contact', peer: account.peer(userJid), userJid })),
    ];
    for (const member of members) {
      try {
        const bytes = await member.peer.decryptFromGroup(chat, sender.jid, groupCopy);
        if (member.kind === 'phone') phoneCopies.push(bytes);
        else contacts.push({ contact: member.userJid, bytes, encryption: 'skmsg' });
      } catch (error) {
        undecryptable.push({ recipient: member.kind === 'phone' ? account.jid : member.userJid, error: (error as Error).message });
      }
    }
  }
  // Both sides re-encoded, so that the comparison does not depend on how the sender ordered fields.
  const encode = (message: Parameters<typeof proto.Message.encode>[0]) => Buffer.from(proto.Message.encode(message).finish());
  // The phone's copy: in a 1:1 chat a deviceSentMessage naming the chat, in a group the group message itself.
  const phoneMessages = phoneCopies.map((bytes) => {
    const decoded = proto.Message.decode(bytes);
    return group
      ? encode(decoded)
      : decoded.deviceSentMessage?.destinationJid === chat && decoded.deviceSentMessage.message
        ? encode(decoded.deviceSentMessage.message)
        : undefined;
  });
  const received = contacts.map(({ contact, bytes, encryption }) => {
    const decoded = proto.Message.decode(bytes);
    const phoneCopy = phoneMessages.some((copy) => copy?.equals(encode(decoded)));
    const json = proto.Message.toObject(decoded, { longs: Number, bytes: String, defaults: false }) as Record<string, unknown>;
    const text = decoded.conversation ?? decoded.extendedTextMessage?.text ?? null;
    const message: ReceivedMessage = {
      id: node.attrs.id ?? '',
      chat,
      fromDevice: sender.jid,
      t,
      stanzaType: node.attrs.type ?? 'text',
      encryption,
      message: json,
      text,
      phoneCopy,
    };
    return { contact, message };
  });
  return { received, undecryptable };
}

/**
 * Answers a group-metadata query (`w:g2`, `<query>`) for a group of the account: its subject and
 * members, addressed by phone number (so the sender's key is named by its phone-number device JID).
 */
export function groupMetadataAnswer(account: PhoneAccount, groupJid: string): BinaryNode[] {
  const chat = account.chats.get(groupJid);
  if (!chat || !groupJid.endsWith('@g.us')) return [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }];
  const created = String(chat.lastMessageAt ?? Math.floor(Date.now() / 1000));
  const members = [account.jid, ...account.membersOf(groupJid)];
  return [
    {
      tag: 'group',
      attrs: { id: groupJid.split('@')[0], subject: chat.name ?? '', s_t: created, creation: created, addressing_mode: 'pn', size: String(members.length) },
      content: members.map((jid) => ({ tag: 'participant', attrs: { jid } })),
    },
  ];
}

function recipientFor(kit: BaileysKit, account: PhoneAccount, jid: string): Recipient | undefined {
  const decoded = kit.baileys.jidDecode(jid);
  if (!decoded?.user || decoded.device || (decoded.server !== 's.whatsapp.net' && decoded.server !== 'lid')) return undefined;
  const userJid = account.personJid(`${decoded.user}@${decoded.server}`);
  if (userJid === account.jid) return { kind: 'phone', peer: account.phonePeer };
  return { kind: 'contact', peer: account.peer(userJid), userJid };
}

async function bundleFor(kit: BaileysKit, account: PhoneAccount, jid: string): Promise<PreKeyBundle | undefined> {
  const decoded = kit.baileys.jidDecode(jid);
  if (!decoded?.user) return undefined;
  if (account.personJid(`${decoded.user}@${decoded.server}`) === account.jid && decoded.device) {
    const device = account.devices.get(decoded.device);
    return device && !device.removed ? linkedDeviceBundle(device) : undefined;
  }
  return recipientFor(kit, account, jid)?.peer.preKeyBundle();
}

/** A linked device's bundle from what it registered and uploaded (one of its pre-keys, handed out once). */
function linkedDeviceBundle(device: LinkedDevice): PreKeyBundle | undefined {
  const next = device.preKeys.entries().next();
  if (next.done) return undefined;
  const [keyId, publicKey] = next.value;
  device.preKeys.delete(keyId);
  return {
    registrationId: device.registrationId,
    identityKey: Buffer.from(device.identityKey),
    signedPreKey: {
      keyId: device.signedPreKey.keyId,
      publicKey: Buffer.from(device.signedPreKey.publicKey),
      signature: Buffer.from(device.signedPreKey.signature),
    },
    preKey: { keyId, publicKey: Buffer.from(publicKey) },
  };
}

function bundleNodes(bundle: PreKeyBundle): BinaryNode[] {
  const bytes = (tag: string, content: Buffer): BinaryNode => ({ tag, attrs: {}, content });
  return [
    bytes('registration', bigEndian(bundle.registrationId, 4)),
    bytes('type', Buffer.from([KEY_TYPE_DJB])),
    bytes('identity', raw32(bundle.identityKey)),
    {
      tag: 'skey',
      attrs: {},
      content: [
        bytes('id', bigEndian(bundle.signedPreKey.keyId, 3)),
        bytes('value', raw32(bundle.signedPreKey.publicKey)),
        bytes('signature', bundle.signedPreKey.signature),
      ],
    },
    { tag: 'key', attrs: {}, content: [bytes('id', bigEndian(bundle.preKey.keyId, 3)), bytes('value', raw32(bundle.preKey.publicKey))] },
  ];
}

/** WhatsApp carries public keys as their 32 bytes, without Signal's type prefix. */
function raw32(key: Buffer): Buffer {
  return key.length === 33 ? key.subarray(1) : key;
}
