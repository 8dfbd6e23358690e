import { MESSAGE_STORE_STATEMENTS } from './message.store';

describe('message store SQL', () => {
  it.each(Object.entries(MESSAGE_STORE_STATEMENTS))('%s is scoped by the session ($1)', (_name, sql) => {
    // Every reference to a table is filtered or keyed by the session id.
    const references = [...sql.matchAll(/\b(?:FROM|JOIN|INTO|UPDATE|USING)\s+(messages|chats)(?:\s+(?:AS\s+)?(\w+))?/gi)];
    expect(references.length).toBeGreaterThan(0);
    for (const [, table, alias] of references) {
      const name = alias && !['SET', 'WHERE', 'ON'].includes(alias.toUpperCase()) ? alias : table;
      const scoped = new RegExp(
        `\\b${name}\\.session_id = \\$1\\b|session_id = \\(SELECT \\$1::text\\)|INSERT INTO messages AS m \\(session_id[^)]*\\)\\s+SELECT \\$1`,
      );
      expect({ table, alias, scoped: scoped.test(sql) }).toEqual({ table, alias, scoped: true });
    }
  });
});
