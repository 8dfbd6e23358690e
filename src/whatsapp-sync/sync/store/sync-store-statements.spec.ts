import { CHAT_UPSERT_STATEMENTS } from './chat-upsert.store';
import { CONTACTS_UNREAD_STATEMENTS } from './contacts-unread.store';
import { LID_MERGE_STATEMENTS } from './lid-merge.store';
import { SYNC_STATE_STATEMENTS } from './sync-state.store';
import { SYNC_TRANSACTION_STATEMENTS } from './sync-transactions';

/** Every SQL statement of the sync store, by topic. */
const SYNC_STORE_STATEMENTS = {
  ...SYNC_TRANSACTION_STATEMENTS,
  ...CHAT_UPSERT_STATEMENTS,
  ...LID_MERGE_STATEMENTS,
  ...CONTACTS_UNREAD_STATEMENTS,
  ...SYNC_STATE_STATEMENTS,
};

describe('sync store SQL', () => {
  it('has every statement of the five topics, none shadowed by another of the same name', () => {
    expect(Object.keys(SYNC_STORE_STATEMENTS)).toHaveLength(24);
  });

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
