import { Injectable } from '@nestjs/common';
import { CredentialCipher } from '../whatsapp-sync/auth-state/credential-cipher';
import type { WebhookRow } from './webhooks.repository';

/**
 * Signing secrets at rest: encrypted like WhatsApp credentials (AES-256-GCM with
 * CREDENTIALS_ENCRYPTION_KEY), bound to their webhook, so a database dump does not let anyone
 * forge deliveries.
 */
@Injectable()
export class WebhookSecrets {
  constructor(private readonly cipher: CredentialCipher) {}

  seal(webhookId: string, key: Buffer): Buffer {
    return this.cipher.encrypt(key, context(webhookId));
  }

  /** The keys to sign with now: the current one, and the previous one while a rotation overlaps. */
  signingKeys(webhook: WebhookRow, now = Date.now()): Buffer[] {
    const keys = [this.cipher.decrypt(webhook.secret, context(webhook.id))];
    const expires = webhook.previous_secret_expires_at;
    if (webhook.previous_secret && expires && new Date(expires).getTime() > now) keys.push(this.cipher.decrypt(webhook.previous_secret, context(webhook.id)));
    return keys;
  }

  /** The current key (for a rotation, which keeps it as the previous one). */
  current(webhook: WebhookRow): Buffer {
    return this.cipher.decrypt(webhook.secret, context(webhook.id));
  }
}

const context = (webhookId: string) => `webhook-secret:${webhookId}`;
