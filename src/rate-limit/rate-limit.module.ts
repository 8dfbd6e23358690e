import { Module } from '@nestjs/common';
import { AUTH_FAILURE_LIMIT } from '../auth/auth-failure-limit';
import { AppConfig } from '../config/app-config';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { RateLimiter } from './rate-limiter';
import { WindowCounter } from './window-counter';

/**
 * Per-caller and per-org request limits, which RateLimitGuard (registered in GlobalGuardsModule)
 * applies, and the limit on failed authentications per client address, which the authentication
 * guard applies (AUTH_FAILURE_LIMIT). Both count on one WindowCounter.
 */
@Module({
  providers: [
    WindowCounter,
    RateLimiter,
    {
      provide: AuthFailureLimiter,
      inject: [AppConfig, WindowCounter],
      useFactory: (config: AppConfig, counter: WindowCounter) => new AuthFailureLimiter(config, counter),
    },
    { provide: AUTH_FAILURE_LIMIT, useExisting: AuthFailureLimiter },
  ],
  exports: [RateLimiter, AUTH_FAILURE_LIMIT],
})
export class RateLimitModule {}
