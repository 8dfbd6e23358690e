import type { EnvironmentVariables } from './environment';

/**
 * The gateway server's rule for its two secrets under NODE_ENV=production. Without them it would
 * generate each one and keep it in `gateway_secrets`: for CREDENTIALS_ENCRYPTION_KEY that puts the
 * key beside the WhatsApp credentials it encrypts (one database dump takes over every linked
 * number); for CURSOR_SECRET it lets anyone who reads the database forge pagination cursors.
 * ALLOW_SECRETS_IN_DATABASE=true is the explicit opt-out. Only the server applies it: the migration
 * Job and the CLI touch neither secret.
 */
export function productionSecretProblems(env: EnvironmentVariables): string[] {
  if (env.NODE_ENV !== 'production' || env.ALLOW_SECRETS_IN_DATABASE) return [];
  const problems: string[] = [];
  const optOut = 'or set ALLOW_SECRETS_IN_DATABASE=true to keep a generated one in the database anyway';
  if (!env.CREDENTIALS_ENCRYPTION_KEY) {
    problems.push(
      'CREDENTIALS_ENCRYPTION_KEY is required with NODE_ENV=production: without it the key that encrypts WhatsApp credentials ' +
        `is stored in the database beside them. Set it to 32 random bytes (openssl rand -base64 32), ${optOut}`,
    );
  }
  if (!env.CURSOR_SECRET) {
    problems.push(
      'CURSOR_SECRET is required with NODE_ENV=production: without it the secret that signs pagination cursors is stored in the database. ' +
        `Set it to at least 32 random characters, the same on every replica (openssl rand -base64 48), ${optOut}`,
    );
  }
  return problems;
}
