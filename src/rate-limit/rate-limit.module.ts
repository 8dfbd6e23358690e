import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimiter } from './rate-limiter';

/**
 * Per-caller and per-org request limits. Imported after AuthModule, so its global guard runs
 * after authentication and capability checks.
 */
@Module({
  providers: [RateLimiter, { provide: APP_GUARD, useClass: RateLimitGuard }],
})
export class RateLimitModule {}
