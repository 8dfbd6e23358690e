import { chatTypeOf, lidPnPair, normalizeJid } from './jid';

describe('JIDs', () => {
  it('normalizes like Baileys jidNormalizedUser, with hosted accounts folded onto their plain server', async () => {
    const { jidNormalizedUser } = await import('baileys');
    for (const jid of [
      '15551234567@s.whatsapp.net',
      '15551234567:12@s.whatsapp.net',
      '15551234567_1:3@s.whatsapp.net',
      '15551234567@c.us',
      '123456789012345:4@lid',
      '120363040000000000@g.us',
      '1234567890@broadcast',
      'status@broadcast',
      '120363100000000000@newsletter',
    ]) {
      expect(normalizeJid(jid)).toBe(jidNormalizedUser(jid));
    }
    expect(normalizeJid('15551234567:2@hosted')).toBe('15551234567@s.whatsapp.net');
    expect(normalizeJid('123456789012345:2@hosted.lid')).toBe('123456789012345@lid');
    expect(normalizeJid('15551234567@S.WhatsApp.Net')).toBe('15551234567@s.whatsapp.net');
    expect(normalizeJid('15551234567_1@c.us')).toBe('15551234567@s.whatsapp.net');
    expect(normalizeJid('1555_1:2@x_y')).toBe('1555@x_y');
    for (const bad of ['', '@s.whatsapp.net', ':1@s.whatsapp.net', '_1@lid', 'user@', 'nojid', null, 42, undefined]) expect(normalizeJid(bad)).toBeNull();
  });

  it('derives the chat type; status broadcasts and unknown servers are not chats', () => {
    expect(chatTypeOf('15551234567@s.whatsapp.net')).toBe('dm');
    expect(chatTypeOf('123456789012345@lid')).toBe('dm');
    expect(chatTypeOf('13135550002@bot')).toBe('dm');
    expect(chatTypeOf('120363040000000000@g.us')).toBe('group');
    expect(chatTypeOf('1719662400@broadcast')).toBe('broadcast');
    expect(chatTypeOf('120363100000000000@newsletter')).toBe('newsletter');
    expect(chatTypeOf('status@broadcast')).toBeNull();
    expect(chatTypeOf('abc@call')).toBeNull();
  });

  it('pairs a LID with a phone JID in either order, nothing else', () => {
    const pair = { lid: '123456789012345@lid', pn: '15551234567@s.whatsapp.net' };
    expect(lidPnPair('123456789012345:3@lid', '15551234567@s.whatsapp.net')).toEqual(pair);
    expect(lidPnPair('15551234567:1@s.whatsapp.net', '123456789012345@lid')).toEqual(pair);
    expect(lidPnPair('15551234567@s.whatsapp.net', '15551234568@s.whatsapp.net')).toBeNull();
    expect(lidPnPair('123456789012345@lid', undefined)).toBeNull();
  });
});

describe('normalizeJid: hostile strings are no JIDs', () => {
  it('refuses a NUL, half a surrogate pair or an absurd length', () => {
    expect(normalizeJid('1555\u00001@s.whatsapp.net')).toBeNull();
    expect(normalizeJid('1555\ud8001@s.whatsapp.net')).toBeNull();
    expect(normalizeJid(`${'1'.repeat(300)}@s.whatsapp.net`)).toBeNull();
  });
});
