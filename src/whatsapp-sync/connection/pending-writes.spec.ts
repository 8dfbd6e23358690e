import type { BaileysEventBatch } from '../sync-event-sink';
import { PendingWrites } from './pending-writes';

const CHAT = '14155550102@s.whatsapp.net';
const TARGET = '3EB0A35714056537775FD0';
const WRITE = '3EB01E78BA4712252F232E';

/** The batch Baileys emits for its own reaction, as logged from a real socket against the simulator. */
function reactionEcho(carrier: string, fromMe = true): BaileysEventBatch {
  return {
    'messages.reaction': [
      { key: { remoteJid: CHAT, id: TARGET, fromMe: true }, reaction: { text: '❤️', key: { remoteJid: CHAT, fromMe, id: carrier }, senderTimestampMs: 1 } },
    ],
    'messages.upsert': { type: 'append', messages: [{ key: { remoteJid: CHAT, fromMe, id: carrier }, message: { reactionMessage: { text: '❤️' } } }] },
  } as unknown as BaileysEventBatch;
}

describe('PendingWrites', () => {
  it("drops Baileys' echo of a reaction still awaiting its ack, and passes it once the ack came", () => {
    const pending = new PendingWrites();
    pending.add(WRITE, 'reaction', TARGET);
    expect(pending.withoutEchoes(reactionEcho(WRITE))).toEqual({});
    pending.delete(WRITE);
    expect(pending.withoutEchoes(reactionEcho(WRITE))).toEqual(reactionEcho(WRITE));
  });

  it('keeps dropping the echo of a write WhatsApp refused, also when it comes after the refusal', () => {
    const pending = new PendingWrites();
    pending.add(WRITE, 'reaction', TARGET);
    pending.refused(WRITE);
    expect(pending.withoutEchoes(reactionEcho(WRITE))).toEqual({});
  });

  it('keeps only the newest refused writes filtered', () => {
    const pending = new PendingWrites();
    const ids = Array.from({ length: 65 }, (_, i) => `3EB0REFUSED${i}`);
    for (const id of ids) {
      pending.add(id, 'reaction', TARGET);
      pending.refused(id);
    }
    expect(pending.size).toBe(64);
    expect(pending.withoutEchoes(reactionEcho(ids[0]))).toEqual(reactionEcho(ids[0]));
    expect(pending.withoutEchoes(reactionEcho(ids[64]))).toEqual({});
  });

  it('passes a reaction made on the phone or by the contact, beside a pending one', () => {
    const pending = new PendingWrites();
    pending.add(WRITE, 'reaction', TARGET);
    expect(pending.withoutEchoes(reactionEcho('PHONE0001'))).toEqual(reactionEcho('PHONE0001'));
    expect(pending.withoutEchoes(reactionEcho(WRITE, false))).toEqual(reactionEcho(WRITE, false));
  });

  it('drops the echo of a pending edit of the message and of a pending revoke, keeping other updates of the batch', () => {
    const pending = new PendingWrites();
    pending.add(WRITE, 'edit', TARGET);
    pending.add('3EB0REVOKE', 'delete', 'OTHER');
    const status = { key: { remoteJid: CHAT, id: 'SENT1', fromMe: true }, update: { status: 3 } };
    const batch = {
      'messages.update': [
        {
          key: { remoteJid: CHAT, id: TARGET, fromMe: true },
          update: { message: { editedMessage: { message: { conversation: 'new' } } }, messageTimestamp: 1 },
        },
        {
          key: { remoteJid: CHAT, id: 'OTHER', fromMe: true },
          update: { message: null, messageStubType: 1, key: { remoteJid: CHAT, id: '3EB0REVOKE', fromMe: true } },
        },
        status,
      ],
    } as BaileysEventBatch;
    expect(pending.withoutEchoes(batch)).toEqual({ 'messages.update': [status] });
  });

  it('passes an edit of another message, and any batch while nothing is pending, untouched', () => {
    const pending = new PendingWrites();
    const edit = {
      'messages.update': [
        { key: { remoteJid: CHAT, id: 'ANOTHER', fromMe: true }, update: { message: { editedMessage: { message: { conversation: 'x' } } } } },
      ],
    } as BaileysEventBatch;
    expect(pending.withoutEchoes(edit)).toBe(edit);
    pending.add(WRITE, 'edit', TARGET);
    expect(pending.withoutEchoes(edit)).toEqual(edit);
  });

  it("strips a pending reaction and drops a pending edit that Baileys' buffer folded into the echo of the message they change", () => {
    const pending = new PendingWrites();
    pending.add(WRITE, 'reaction', TARGET);
    pending.add('3EB0EDIT', 'edit', 'EDITED');
    const phoneReaction = { text: '👍', key: { remoteJid: CHAT, fromMe: true, id: 'PHONE0001' } };
    const sent = {
      key: { remoteJid: CHAT, fromMe: true, id: TARGET },
      message: { conversation: 'React to this' },
      reactions: [{ text: '❤️', key: { remoteJid: CHAT, fromMe: true, id: WRITE } }, phoneReaction],
    };
    const edited = { key: { remoteJid: CHAT, fromMe: true, id: 'EDITED' }, message: { editedMessage: { message: { conversation: 'new' } } } };
    const batch = { 'messages.upsert': { type: 'append', messages: [sent, edited] } } as unknown as BaileysEventBatch;
    expect(pending.withoutEchoes(batch)).toEqual({ 'messages.upsert': { type: 'append', messages: [{ ...sent, reactions: [phoneReaction] }] } });
  });
});
