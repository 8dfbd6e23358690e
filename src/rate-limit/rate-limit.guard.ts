import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { AuthenticatedRequest } from '../auth/authenticated-request';
import { AppError } from '../common/errors/app-error';
import type { HttpResponse } from '../common/http/http-response';
import { RateLimitDecision, rateLimitHeader, RateLimiter } from './rate-limiter';

/**
 * Runs after authentication (it needs the caller) on every authenticated request; public routes
 * (health, metrics, docs) have no caller and are not limited. Every limited response carries
 * `RateLimit-Policy` and `RateLimit`; a refused one is 429 `rate_limited` with `Retry-After`.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly policyHeader: string;

  constructor(private readonly limiter: RateLimiter) {
    this.policyHeader = limiter.policyHeader;
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (!this.limiter.enabled) return true;
    const http = context.switchToHttp();
    const principal = http.getRequest<AuthenticatedRequest>().user;
    if (!principal) return true;
    const decision = this.limiter.check(principal);
    const reply = http.getResponse<HttpResponse>();
    return decision instanceof Promise ? decision.then((d) => this.apply(d, reply)) : this.apply(decision, reply);
  }

  private apply(decision: RateLimitDecision, reply: HttpResponse): boolean {
    reply.header('RateLimit-Policy', this.policyHeader);
    reply.header('RateLimit', rateLimitHeader(decision.states));
    const refused = decision.refusedBy;
    if (!refused) return true;
    throw new AppError(
      'rate_limited',
      'rate limit exceeded',
      { policy: refused.policy, limit: refused.limit, retryAfterSeconds: refused.resetInSeconds },
      { 'Retry-After': String(refused.resetInSeconds) },
    );
  }
}
