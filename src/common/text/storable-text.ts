/**
 * What PostgreSQL refuses in `text`, `json` and `jsonb` (SQLSTATE 22P05 / 22021): NUL, and UTF-16
 * surrogates without their other half. Those are not Unicode: `JSON.stringify` writes them as
 * `\udXXX` escapes, which PostgreSQL rejects as soon as it reads the value as text, and in a plain
 * text parameter they silently become U+FFFD. The one home of this rule: values from WhatsApp
 * are cleaned with it, client input is refused with it.
 */
// eslint-disable-next-line no-control-regex -- NUL is what PostgreSQL cannot store
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const EVERY_UNSTORABLE = new RegExp(UNSTORABLE.source, 'g');

/** True when PostgreSQL can store `value` exactly as it is. */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/** `value` without the characters PostgreSQL refuses (the same string when it has none). */
export function withoutUnstorable(value: string): string {
  return isStorableText(value) ? value : value.replace(EVERY_UNSTORABLE, '');
}
