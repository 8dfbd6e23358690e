import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Principal } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
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
    const principal = http.getRequest<Request & { user?: Principal }>().user;
    if (!principal) return true;
    const decision = this.limiter.check(principal);
    const response = http.getResponse<Response>();
    return decision instanceof Promise ? decision.then((d) => this.apply(d, response)) : this.apply(decision, response);
  }

  private apply(decision: RateLimitDecision, response: Response): boolean {
    response.setHeader('RateLimit-Policy', this.policyHeader);
    response.setHeader('RateLimit', rateLimitHeader(decision.states));
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
