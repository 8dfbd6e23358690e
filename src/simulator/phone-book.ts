/**
 * What a simulated phone holds: its chats and contacts, the source of the history a newly linked
 * device receives. Times are seconds since the epoch, as WhatsApp sends them.
 */
export interface ChatSeed {
  /** user@s.whatsapp.net, user@lid, id@g.us, id@broadcast, id@newsletter */
  jid: string;
  /** A group's subject, or the conversation name the phone shows for a person. */
  name?: string;
  lastMessageAt?: number;
  unreadCount?: number;
  markedUnread?: boolean;
  /** When it was pinned; unset = not pinned. */
  pinnedAt?: number;
  archived?: boolean;
  /** When the mute ends; -1 = muted forever; unset = not muted. */
  muteEndTime?: number;
  /** For an @lid chat: the person's phone JID (WhatsApp's mapping). */
  pnJid?: string;
  /** A group's members besides the account (user JIDs); others join as they write in it. */
  participants?: string[];
  /** The messages the history carries for this chat; unset = one placeholder for a person's chat with a lastMessageAt. */
  messages?: MessageSeed[];
}

/** A message of a chat's history: a text, or any proto.Message given as JSON. */
export interface MessageSeed {
  /** WhatsApp's message id. */
  id: string;
  /** Seconds since the epoch. */
  timestamp: number;
  text?: string;
  /** A proto.Message as JSON (a location, an image's metadata, ...), instead of `text`. */
  message?: Record<string, unknown>;
  /** Sent by the account (from the phone or a linked device). */
  fromMe?: boolean;
  /** In a group, the member who wrote it (not for own messages). */
  participant?: string;
  pushName?: string;
}

export interface ContactSeed {
  jid: string;
  /** The push name the contact chose. */
  notify?: string;
}

export interface PhoneBook {
  chats: ChatSeed[];
  contacts: ContactSeed[];
}

const HOUR = 3600;
const DAY = 24 * HOUR;

/**
 * A realistic small phone: DMs, groups, a broadcast list, a channel, @lid chats with their phone
 * mappings, pinned, archived, muted (for a while and forever), unread and marked unread.
 */
export function samplePhoneBook(nowSeconds: number): PhoneBook {
  const ago = (seconds: number) => nowSeconds - seconds;
  const dm = (phone: string) => `${phone}@s.whatsapp.net`;
  return {
    chats: [
      { jid: dm('14155550101'), name: 'Alice Johnson', lastMessageAt: ago(5 * 60), unreadCount: 2, pinnedAt: ago(30 * DAY) },
      { jid: '120363041234567890@g.us', name: 'Family', lastMessageAt: ago(20 * 60), unreadCount: 14, pinnedAt: ago(2 * DAY) },
      { jid: dm('14155550102'), lastMessageAt: ago(1 * HOUR), unreadCount: 0, muteEndTime: nowSeconds + 8 * HOUR },
      { jid: '120363041234567891@g.us', name: 'Support team', lastMessageAt: ago(2 * HOUR), unreadCount: 5 },
      { jid: dm('447700900123'), name: 'Charlotte (London office)', lastMessageAt: ago(3 * HOUR), unreadCount: 0, markedUnread: true },
      { jid: '120363041234567892@g.us', name: 'Neighbourhood watch', lastMessageAt: ago(5 * HOUR), unreadCount: 48, muteEndTime: -1 },
      { jid: '205839201847561@lid', name: 'Dieter', pnJid: dm('4915112345678'), lastMessageAt: ago(9 * HOUR), unreadCount: 1 },
      { jid: '120363041234567893@g.us', name: 'Project Phoenix', lastMessageAt: ago(1 * DAY), unreadCount: 0, muteEndTime: nowSeconds + 7 * DAY },
      { jid: dm('6281234567890'), name: 'Alice', lastMessageAt: ago(2 * DAY), unreadCount: 0 },
      { jid: '1719662400@broadcast', name: 'Customers (broadcast list)', lastMessageAt: ago(3 * DAY), unreadCount: 0 },
      { jid: '120363201234567890@newsletter', name: 'Gateway release notes', lastMessageAt: ago(4 * DAY), unreadCount: 3 },
      { jid: '118273645501928@lid', pnJid: dm('5511987654321'), lastMessageAt: ago(6 * DAY), unreadCount: 0, archived: true },
      { jid: '120363041234567894@g.us', name: 'Old book club', lastMessageAt: ago(90 * DAY), unreadCount: 0, archived: true },
      { jid: dm('33612345678'), name: 'Fleur', lastMessageAt: ago(200 * DAY), unreadCount: 0 },
      { jid: dm('61412345678') },
    ],
    contacts: [
      { jid: dm('14155550102'), notify: 'Bob' },
      { jid: dm('5511987654321'), notify: 'Eduardo' },
    ],
  };
}

/** `count` chats for load tests: mostly DMs, every tenth a group, some pinned, archived, muted, unread. */
export function generatedPhoneBook(count: number, nowSeconds: number): PhoneBook {
  const chats: ChatSeed[] = [];
  for (let i = 0; i < count; i++) {
    const group = i % 10 === 0;
    chats.push({
      jid: group ? `1203630${String(i).padStart(11, '0')}@g.us` : `1${String(i).padStart(11, '0')}@s.whatsapp.net`,
      name: group ? `Group ${i}` : `Contact ${i}`,
      lastMessageAt: nowSeconds - i * 60,
      unreadCount: i % 7 === 0 ? i % 13 : 0,
      pinnedAt: i < 3 ? nowSeconds - i : undefined,
      archived: i % 50 === 49,
      muteEndTime: i % 40 === 39 ? -1 : undefined,
    });
  }
  return { chats, contacts: [] };
}
