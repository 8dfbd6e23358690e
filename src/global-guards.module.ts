import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthModule } from './auth/auth.module';
import { AuthenticationGuard } from './auth/authentication.guard';
import { CapabilityGuard } from './auth/capability.guard';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';

/**
 * Every global guard, in one place and in the order Nest runs them (the order of this list):
 * 1. authentication: who is calling (a login JWT or an API key), or 401;
 * 2. capability: may the caller do what the route's @RequireCapability names, or 403;
 * 3. rate limit: is the caller (and its org) within quota, or 429; it counts the caller the
 *    authentication guard resolved, and only requests that passed the capability check.
 */
@Module({
  imports: [AuthModule, RateLimitModule],
  providers: [
    { provide: APP_GUARD, useClass: AuthenticationGuard },
    { provide: APP_GUARD, useClass: CapabilityGuard },
    { provide: APP_GUARD, useClass: RateLimitGuard },
  ],
})
export class GlobalGuardsModule {}
