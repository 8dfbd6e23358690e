import type { BaileysEventBatch } from '../../src/whatsapp-sync/sync-event-sink';

type Baileys = typeof import('baileys', { with: { 'resolution-mode': 'import' } });

export const CRASH_T0 = 1_719_000_000;
export const crashJid = (i: number) => (i % 25 === 0 ? `120363555${String(i).padStart(9, '0')}@g.us` : `1555666${String(i).padStart(5, '0')}@s.whatsapp.net`);

/**
 * One large history batch, the same in every process that builds it: a proto.HistorySync of
 * `count` conversations, encoded, decoded and turned into a messaging-history.set by Baileys'
 * processHistoryMessage.
 */
export function crashHistoryBatch(baileys: Baileys, count: number): BaileysEventBatch {
  const { proto, processHistoryMessage } = baileys;
  const conversations = Array.from({ length: count }, (_, i) => ({
    id: crashJid(i),
    name: i % 25 === 0 ? `Group ${i}` : undefined,
    displayName: i % 25 === 0 ? undefined : `Person ${i}`,
    conversationTimestamp: CRASH_T0 - i,
    unreadCount: i % 4,
    pinned: i < 3 ? CRASH_T0 - 100 + i : undefined,
    archived: i % 50 === 7,
    messages: [
      {
        message: {
          key: { remoteJid: crashJid(i), id: `CR${i}`, fromMe: false, participant: i % 25 === 0 ? crashJid(i + 1) : undefined },
          messageTimestamp: CRASH_T0 - i,
          message: { conversation: 'x' },
        },
      },
    ],
  }));
  const encoded = proto.HistorySync.encode(
    proto.HistorySync.fromObject({ syncType: proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP, conversations }),
  ).finish();
  return { 'messaging-history.set': { ...processHistoryMessage(proto.HistorySync.decode(encoded)), isLatest: true } };
}
