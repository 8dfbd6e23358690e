import { isStorableText } from '../text/storable-text';

/**
 * Where a JSON value holds a string PostgreSQL cannot store (storable-text.ts): the dotted path of
 * the first such value or property name (`metadata.notes`, `tags.2`; a bad property name is
 * reported at its object's path, `body` at the top), or undefined when every string is storable.
 * Walks with its own stack, so no nesting depth can overflow the call stack.
 */
export function firstUnstorableString(value: unknown): string | undefined {
  const pending: { value: unknown; path: string }[] = [{ value, path: '' }];
  while (pending.length > 0) {
    const { value: current, path } = pending.pop()!;
    if (typeof current === 'string') {
      if (!isStorableText(current)) return path || 'body';
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) pending.push({ value: current[i], path: join(path, String(i)) });
    } else if (typeof current === 'object' && current !== null) {
      const keys = Object.keys(current);
      if (keys.some((key) => !isStorableText(key))) return path || 'body';
      for (let i = keys.length - 1; i >= 0; i--) pending.push({ value: (current as Record<string, unknown>)[keys[i]], path: join(path, keys[i]) });
    }
  }
  return undefined;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
