import { isStorableText, withoutUnstorable } from './storable-text';

describe('storable text: what PostgreSQL refuses in text and json', () => {
  it('refuses NUL and surrogates without their other half, keeps every real character', () => {
    expect(isStorableText('plain, ünïcödé, 😀, 中文')).toBe(true);
    expect(isStorableText('a\u0000b')).toBe(false);
    expect(isStorableText('lone high \ud83d')).toBe(false);
    expect(isStorableText('\udc00 lone low')).toBe(false);
    expect(isStorableText('\ud83d\ude00')).toBe(true);
  });

  it('drops exactly those characters', () => {
    expect(withoutUnstorable('Mal\u0000lory')).toBe('Mallory');
    expect(withoutUnstorable('a\ud83d b \udc00c 😀')).toBe('a b c 😀');
    const clean = 'nothing to do';
    expect(withoutUnstorable(clean)).toBe(clean);
  });
});
