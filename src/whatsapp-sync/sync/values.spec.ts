import { MUTED_FOREVER } from '../../chats/chat-type';
import { FAR_FUTURE_MS, MAX_WHATSAPP_TEXT, normalizeMuteEnd, normalizePinned, storableText, toEpochMs, toInt64 } from './values';

describe('toInt64: 64-bit values become numbers once, at the edge', () => {
  it('takes numbers, bigints and decimal strings', () => {
    expect(toInt64(1_719_662_400)).toBe(1_719_662_400);
    expect(toInt64(12.9)).toBe(12);
    expect(toInt64(1_719_662_400_000n)).toBe(1_719_662_400_000);
    expect(toInt64('1719662400')).toBe(1_719_662_400);
    expect(toInt64(' -1 ')).toBe(-1);
  });

  it('takes the Long objects protobufjs decodes, their JSON forms, and Longs serialized as plain objects', async () => {
    const { proto } = await import('baileys');
    const decoded = proto.Conversation.decode(
      proto.Conversation.encode({ id: 'x@s.whatsapp.net', conversationTimestamp: 1_719_662_400_123, muteEndTime: -1 }).finish(),
    );
    expect(typeof decoded.conversationTimestamp).toBe('object');
    expect(toInt64(decoded.conversationTimestamp)).toBe(1_719_662_400_123);
    // uint64 -1: WhatsApp's "muted forever" as the history sync encodes it
    expect(toInt64(decoded.muteEndTime)).toBe(2 ** 64 - 1);
    const json = decoded.toJSON();
    expect(json.conversationTimestamp).toBe('1719662400123');
    expect(toInt64(json.conversationTimestamp)).toBe(1_719_662_400_123);
    expect(toInt64(JSON.parse(JSON.stringify({ ...(decoded.conversationTimestamp as object) })))).toBe(1_719_662_400_123);
    expect(toInt64({ low: -1, high: -1, unsigned: false })).toBe(-1);
    expect(toInt64({ low: -1, high: -1, unsigned: true })).toBe(2 ** 64 - 1);
  });

  it('gives null for anything else', () => {
    for (const value of [null, undefined, NaN, Infinity, '', 'abc', '1e3', '1.5', {}, [], true]) expect(toInt64(value)).toBeNull();
  });
});

describe('timestamps', () => {
  it('reads seconds and milliseconds alike', () => {
    expect(toEpochMs(1_719_662_400)).toBe(1_719_662_400_000);
    expect(toEpochMs(1_719_662_400_000)).toBe(1_719_662_400_000);
    expect(toEpochMs('1719662400')).toBe(1_719_662_400_000);
    expect(toEpochMs(0)).toBeNull();
    expect(toEpochMs(-5)).toBeNull();
  });

  it('pinned: a pin time in seconds (history) or ms (app-state); 0 or null is not pinned', () => {
    expect(normalizePinned(1_719_662_400)).toBe(1_719_662_400_000);
    expect(normalizePinned(1_719_662_400_123)).toBe(1_719_662_400_123);
    expect(normalizePinned(0)).toBeNull();
    expect(normalizePinned(null)).toBeNull();
  });

  it('muteEndTime: seconds or ms; negative or far-future is forever; null is not muted; 0 depends on the source', () => {
    expect(normalizeMuteEnd(1_751_198_400, 'not-muted')).toBe(1_751_198_400_000);
    expect(normalizeMuteEnd(1_751_198_400_000, 'forever')).toBe(1_751_198_400_000);
    expect(normalizeMuteEnd(-1, 'not-muted')).toBe(MUTED_FOREVER);
    expect(normalizeMuteEnd('18446744073709551615', 'not-muted')).toBe(MUTED_FOREVER);
    expect(normalizeMuteEnd(FAR_FUTURE_MS, 'not-muted')).toBe(MUTED_FOREVER);
    expect(normalizeMuteEnd(FAR_FUTURE_MS - 1, 'not-muted')).toBe(FAR_FUTURE_MS - 1);
    expect(normalizeMuteEnd(null, 'forever')).toBeNull();
    expect(normalizeMuteEnd(0, 'not-muted')).toBeNull();
    expect(normalizeMuteEnd(0, 'forever')).toBe(MUTED_FOREVER);
  });
});

describe('storableText: names from WhatsApp, cleaned and bounded', () => {
  it('drops what PostgreSQL refuses and cuts at MAX_WHATSAPP_TEXT without leaving half a surrogate pair', () => {
    expect(storableText('Eve\u0000')).toBe('Eve');
    expect(storableText('x'.repeat(5000))).toHaveLength(MAX_WHATSAPP_TEXT);
    const cut = storableText(`${'x'.repeat(MAX_WHATSAPP_TEXT - 1)}😀`);
    expect(cut).toBe('x'.repeat(MAX_WHATSAPP_TEXT - 1));
  });
});
