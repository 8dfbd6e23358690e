import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { ApiKeyAuthenticator } from './api-keys/api-key.authenticator';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { ApiKeysService } from './api-keys/api-keys.service';
import { AuthenticationGuard } from './authentication.guard';
import { CapabilityGuard } from './capability.guard';
import { JwtAuthenticator } from './jwt/jwt.authenticator';
import { TOKEN_AUTHENTICATORS, TokenAuthenticator } from './token-authenticator';

@Module({
  imports: [ApiKeysModule],
  providers: [
    {
      provide: TOKEN_AUTHENTICATORS,
      inject: [AppConfig, ApiKeysService],
      useFactory: (config: AppConfig, apiKeys: ApiKeysService): TokenAuthenticator[] => [
        ...(config.auth.jwt ? [new JwtAuthenticator(config.auth.jwt, config.auth.roleCapabilities)] : []),
        new ApiKeyAuthenticator(apiKeys),
      ],
    },
    // Global guards run in this order: who is calling, then may they do this.
    { provide: APP_GUARD, useClass: AuthenticationGuard },
    { provide: APP_GUARD, useClass: CapabilityGuard },
  ],
  exports: [ApiKeysModule],
})
export class AuthModule {}
