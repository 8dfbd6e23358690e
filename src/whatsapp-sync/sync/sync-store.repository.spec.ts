import { SYNC_STORE_STATEMENTS } from './sync-store.repository';

describe('sync store SQL', () => {
  it.each(Object.entries(SYNC_STORE_STATEMENTS))('%s is scoped by the session ($1)', (_name, sql) => {
    expect(sql).toMatch(/\$1\b/);
    // Every table it touches is filtered or keyed by the session id.
    const tables = [...sql.matchAll(/\b(?:FROM|JOIN|INTO|UPDATE|USING)\s+(chats|sync_\w+|session_sync_state|sessions)\b/gi)].map((m) => m[1]);
    for (const table of new Set(tables)) {
      const key = table === 'sessions' ? /\bid = \$1\b/ : /session_id = \$1\b|VALUES \(\$1|SELECT \$1|\$1, /;
      expect({ table, scoped: key.test(sql) }).toEqual({ table, scoped: true });
    }
  });
});
