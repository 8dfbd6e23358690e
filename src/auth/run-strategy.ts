import type { AuthenticatedRequest } from './authenticated-request';
import type { Strategy } from 'passport-strategy';

/**
 * Runs one passport strategy against a request and resolves with the user it authenticated, or
 * null when it failed. Same protocol as passport's own middleware (a per-request object derived
 * from the strategy), without passport's process-wide strategy registry.
 */
export function runStrategy<T>(strategy: Strategy, request: AuthenticatedRequest): Promise<T | null> {
  return new Promise<T | null>((resolve, reject) => {
    const attempt = Object.create(strategy) as Strategy & Record<string, unknown>;
    attempt.success = (user: T) => resolve(user);
    attempt.fail = () => resolve(null);
    attempt.pass = () => resolve(null);
    attempt.redirect = () => resolve(null);
    attempt.error = (error: Error) => reject(error);
    // passport's types name Express' request; a strategy reads only the headers.
    attempt.authenticate(request as unknown as Parameters<Strategy['authenticate']>[0], {});
  });
}
