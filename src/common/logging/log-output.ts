/**
 * A logged error without the SQL parameters TypeORM attaches to a QueryFailedError: they can hold
 * secrets (a generated cursor secret, key hashes) and personal data. Receives pino's serialized error.
 */
export function serializeError(error: Record<string, unknown>): Record<string, unknown> {
  if (!error || typeof error !== 'object' || !('parameters' in error)) return error;
  const { parameters: _parameters, ...rest } = error;
  return rest;
}

/**
 * The pino-pretty transport when pretty output is wanted and pino-pretty is installed (it is a
 * devDependency: a production image has none, and then logs JSON whatever LOG_FORMAT says).
 */
export function prettyTransport(
  wanted: boolean,
  resolve: (id: string) => string = require.resolve,
): { target: string; options: Record<string, unknown> } | undefined {
  if (!wanted) return undefined;
  try {
    resolve('pino-pretty');
  } catch {
    process.stderr.write('pretty logs requested but pino-pretty is not installed: logging JSON\n');
    return undefined;
  }
  return { target: 'pino-pretty', options: { singleLine: true } };
}
