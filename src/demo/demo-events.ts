import type { BaileysEventBatch } from '../whatsapp-sync/sync-event-sink';

const HOUR = 3600;
const DAY = 24 * HOUR;

/**
 * A realistic account as Baileys would report it: a history sync (chats and contacts, the way
 * `messaging-history.set` delivers them), then live app-state changes (`chats.update`).
 * Times are seconds since the epoch, as WhatsApp sends them; `now` anchors them.
 */
export function demoEventBatches(nowSeconds: number): BaileysEventBatch[] {
  const ago = (seconds: number) => nowSeconds - seconds;
  const dm = (phone: string) => `${phone}@s.whatsapp.net`;
  const chats = [
    { id: dm('14155550101'), conversationTimestamp: ago(5 * 60), unreadCount: 2, pinned: ago(30 * DAY) },
    { id: '120363041234567890@g.us', name: 'Family', conversationTimestamp: ago(20 * 60), unreadCount: 14, pinned: ago(2 * DAY) },
    { id: dm('14155550102'), conversationTimestamp: ago(1 * HOUR), unreadCount: 0 },
    { id: '120363041234567891@g.us', name: 'Support team', conversationTimestamp: ago(2 * HOUR), unreadCount: 5 },
    { id: dm('447700900123'), conversationTimestamp: ago(3 * HOUR), unreadCount: 0 },
    { id: '120363041234567892@g.us', name: 'Neighbourhood watch', conversationTimestamp: ago(5 * HOUR), unreadCount: 48, muteEndTime: -1 },
    { id: dm('4915112345678'), conversationTimestamp: ago(9 * HOUR), unreadCount: 1 },
    { id: '120363041234567893@g.us', name: 'Project Phoenix', conversationTimestamp: ago(1 * DAY), unreadCount: 0, muteEndTime: ago(-7 * DAY) },
    { id: dm('6281234567890'), conversationTimestamp: ago(2 * DAY), unreadCount: 0 },
    { id: '1719662400@broadcast', name: 'Customers (broadcast list)', conversationTimestamp: ago(3 * DAY), unreadCount: 0 },
    { id: '120363201234567890@newsletter', name: 'Gateway release notes', conversationTimestamp: ago(4 * DAY), unreadCount: 3 },
    { id: dm('5511987654321'), conversationTimestamp: ago(6 * DAY), unreadCount: 0, archived: true },
    { id: '120363041234567894@g.us', name: 'Old book club', conversationTimestamp: ago(90 * DAY), unreadCount: 0, archived: true },
    { id: dm('33612345678'), conversationTimestamp: ago(200 * DAY), unreadCount: 0 },
    { id: dm('61412345678'), unreadCount: 0 },
  ];
  const contacts = [
    { id: dm('14155550101'), name: 'Alice Johnson' },
    { id: dm('14155550102'), notify: 'Bob' },
    { id: dm('447700900123'), name: 'Charlotte (London office)' },
    { id: dm('4915112345678'), notify: 'Dieter' },
    { id: dm('6281234567890'), name: 'Alice' },
    { id: dm('5511987654321'), notify: 'Eduardo' },
    { id: dm('33612345678'), name: 'Fleur' },
  ];
  return [
    { 'messaging-history.set': { chats, contacts, messages: [], syncType: 2, progress: 100, isLatest: true } },
    {
      'chats.update': [
        { id: dm('447700900123'), unreadCount: -1, markedAsUnread: true },
        { id: dm('14155550102'), muteEndTime: (nowSeconds + 8 * HOUR) * 1000 },
      ],
    },
  ] as unknown as BaileysEventBatch[];
}
