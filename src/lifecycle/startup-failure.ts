import { ConfigValidationError } from '../config/environment';
import { EmbeddedPostgresPortInUseError } from '../database/embedded-postgres';

/**
 * What an entry point prints when start-up fails: one clear message for what an operator can fix
 * (configuration, a port already taken, a port that needs privileges), the stack for anything else.
 */
export function describeStartupFailure(error: unknown): string {
  if (error instanceof ConfigValidationError || error instanceof EmbeddedPostgresPortInUseError) return error.message;
  const { code, port, address } = error as { code?: string; port?: number; address?: string };
  const where = address && !['::', '0.0.0.0'].includes(address) ? `${address}:${port}` : `port ${port}`;
  if (code === 'EADDRINUSE') return `Cannot listen on ${where}: another program is already using it. Stop it, or set PORT to a free port.`;
  if (code === 'EACCES' && port !== undefined)
    return `Cannot listen on ${where}: this user may not open it (ports below 1024 need privileges). Set PORT to 1024 or above.`;
  if (code === 'EADDRNOTAVAIL') return `Cannot listen on ${where}: no network interface of this machine has that address. Check HOST.`;
  return String((error as Error)?.stack ?? error);
}
