import { firstUnstorableString } from './unstorable-strings';

describe('firstUnstorableString: the path of a string PostgreSQL cannot store', () => {
  it('names the value, nested values with dots, array items by index, and a bad key by its object', () => {
    expect(firstUnstorableString({ name: 'ok', metadata: { a: [1, 'x'] } })).toBeUndefined();
    expect(firstUnstorableString({ name: 'a\u0000' })).toBe('name');
    expect(firstUnstorableString({ metadata: { notes: { deep: 'x\ud800' } } })).toBe('metadata.notes.deep');
    expect(firstUnstorableString({ capabilities: ['read', 'x\u0000'] })).toBe('capabilities.1');
    expect(firstUnstorableString({ metadata: { 'k\u0000': 1 } })).toBe('metadata');
    expect(firstUnstorableString({ '\u0000': 1 })).toBe('body');
    expect(firstUnstorableString('\u0000')).toBe('body');
  });

  it('walks any depth without recursion', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(firstUnstorableString(deep)).toBe(Array.from({ length: 100_000 }, () => '0').join('.'));
  });
});
