import { normalizeSessionId, ownedSessionCondition, sessionNotFound } from './session-ownership';

describe('the session ownership rule', () => {
  it('accepts a ULID in either case and returns it upper case', () => {
    expect(normalizeSessionId('01j9zx8k2qhv0m3t6r7p4n5w8c')).toBe('01J9ZX8K2QHV0M3T6R7P4N5W8C');
    expect(normalizeSessionId('01J9ZX8K2QHV0M3T6R7P4N5W8C')).toBe('01J9ZX8K2QHV0M3T6R7P4N5W8C');
  });

  it.each(['', 'x', '01J9ZX8K2QHV0M3T6R7P4N5W8', '01J9ZX8K2QHV0M3T6R7P4N5W8CC', '01J9ZX8K2QHV0M3T6R7P4N5W8I', "01J9ZX8K2QHV0M3T6R7P4N5W8'"])(
    'rejects the malformed id %j',
    (raw) => expect(normalizeSessionId(raw)).toBeUndefined(),
  );

  it('refuses with a 404 that says nothing about the session', () => {
    expect(sessionNotFound().status).toBe(404);
    expect(sessionNotFound().toEnvelope()).toEqual({ error: { code: 'not_found', message: 'session not found', details: {} } });
  });

  it('writes the rule as SQL over the given alias and parameters', () => {
    expect(ownedSessionCondition('s', 1, 2)).toBe('s.id = $1 AND s.org_id = $2');
    expect(ownedSessionCondition('sessions', 3, 7)).toBe('sessions.id = $3 AND sessions.org_id = $7');
  });
});
