import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ApiKeyAuthenticator } from './api-keys/api-key.authenticator';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { ApiKeysService } from './api-keys/api-keys.service';
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
  ],
  // For AuthenticationGuard, registered with the other global guards in GlobalGuardsModule (which
  // also imports RateLimitModule, the provider of AUTH_FAILURE_LIMIT).
  exports: [ApiKeysModule, TOKEN_AUTHENTICATORS],
})
export class AuthModule {}
