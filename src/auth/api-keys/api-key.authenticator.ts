import type { Principal } from '../principal';
import type { TokenAuthenticator } from '../token-authenticator';
import { API_KEY_PREFIX } from './api-key-token';
import { ApiKeysService } from './api-keys.service';

export class ApiKeyAuthenticator implements TokenAuthenticator {
  constructor(private readonly apiKeys: ApiKeysService) {}

  canHandle(token: string): boolean {
    return token.startsWith(API_KEY_PREFIX);
  }

  authenticate(token: string): Promise<Principal | null> {
    return this.apiKeys.authenticate(token);
  }
}
