import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthenticatedRequest } from './authenticated-request';
import { AppError } from '../common/errors/app-error';
import { AUTH_FAILURE_LIMIT, type AuthFailureLimit } from './auth-failure-limit';
import { PUBLIC_ROUTE } from './require-capability.decorator';
import { TOKEN_AUTHENTICATORS, TokenAuthenticator } from './token-authenticator';

const BEARER = /^Bearer +([^\s]+) *$/i;

/**
 * Resolves `Authorization: Bearer <token>` to a Principal, trying each kind of token in turn
 * (login JWT, then API key). Anything else is 401 `unauthenticated`, with one message whatever
 * went wrong, so the response never helps guessing. A client address with too many 401s gets 429
 * before its token is even looked at (AuthFailureLimit, counted by rate-limit/).
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TOKEN_AUTHENTICATORS) private readonly authenticators: TokenAuthenticator[],
    @Inject(AUTH_FAILURE_LIMIT) private readonly failures: AuthFailureLimit,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    this.failures.checkAllowed(request.ip);
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (token) {
      for (const authenticator of this.authenticators) {
        if (!authenticator.canHandle(token)) continue;
        const principal = await authenticator.authenticate(token, request);
        if (principal) {
          request.user = principal;
          return true;
        }
      }
    }
    await this.failures.recordFailure(request.ip);
    throw AppError.unauthenticated();
  }
}
