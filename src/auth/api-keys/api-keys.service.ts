import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import type { Capability } from '../capabilities';
import type { Principal } from '../principal';
import { ApiKey } from './api-key.entity';
import { generateApiKey, hashSecret, parseApiKey, secretMatches } from './api-key-token';

export interface CreatedApiKey {
  id: string;
  /** The whole key: shown once, never stored. */
  key: string;
  orgId: string;
  name: string | null;
  capabilities: Capability[];
  createdAt: Date;
}

interface CachedKey {
  key: Pick<ApiKey, 'orgId' | 'secretHash' | 'capabilities' | 'revokedAt'> | null;
  expiresAt: number;
}

const MAX_CACHED_KEYS = 10_000;
const LAST_USED_RESOLUTION_MS = 60_000;
const LAST_USED_FLUSH_MS = 15_000;

/**
 * API keys: creation, revocation and verification. Verified keys are cached for at most
 * AUTH_API_KEY_CACHE_SECONDS (so a key revoked on any replica stops working everywhere within that
 * time), and `last_used_at` is written in batches at a one-minute resolution, not per request.
 */
@Injectable()
export class ApiKeysService implements OnModuleDestroy {
  private readonly logger = new Logger('ApiKeys');
  private readonly cache = new Map<string, CachedKey>();
  private readonly lastUsedRecorded = new Map<string, number>();
  private readonly lastUsedPending = new Set<string>();
  private readonly flushTimer: NodeJS.Timeout;

  constructor(
    @InjectRepository(ApiKey) private readonly apiKeys: Repository<ApiKey>,
    private readonly config: AppConfig,
  ) {
    this.flushTimer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS).unref();
  }

  async create(orgId: string, capabilities: Capability[], name: string | null = null): Promise<CreatedApiKey> {
    const { id, secret, token } = generateApiKey();
    const uniqueCapabilities = [...new Set(capabilities)];
    const saved = await this.apiKeys.save(
      this.apiKeys.create({ id, orgId, name, secretHash: hashSecret(secret), capabilities: uniqueCapabilities, revokedAt: null }),
    );
    return { id, key: token, orgId, name, capabilities: uniqueCapabilities, createdAt: saved.createdAt };
  }

  /** Revokes a key (of the given org, when one is given). Returns false when no live key matched. */
  async revoke(id: string, orgId?: string): Promise<boolean> {
    const result = await this.apiKeys
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('id = :id AND revoked_at IS NULL', { id })
      .andWhere(orgId === undefined ? 'true' : 'org_id = :orgId', { orgId })
      .execute();
    this.cache.delete(id);
    return (result.affected ?? 0) > 0;
  }

  /** The caller behind an API key, or null for an unknown, malformed or revoked key. */
  async authenticate(token: string): Promise<Principal | null> {
    const parts = parseApiKey(token);
    if (!parts) return null;
    const key = await this.lookup(parts.id);
    if (!key || key.revokedAt !== null || !secretMatches(parts.secret, key.secretHash)) return null;
    this.noteUsed(parts.id);
    return { kind: 'api_key', orgId: key.orgId, capabilities: new Set(key.capabilities), keyId: parts.id };
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushLastUsed();
  }

  /** Writes pending last-used times in one statement. */
  async flushLastUsed(): Promise<void> {
    if (this.lastUsedPending.size === 0) return;
    const ids = [...this.lastUsedPending];
    this.lastUsedPending.clear();
    await this.apiKeys.update({ id: In(ids) }, { lastUsedAt: () => 'now()' }).catch((error: Error) => {
      this.logger.warn(`could not record API key use, will retry: ${error.message}`);
      ids.forEach((id) => this.lastUsedPending.add(id));
    });
  }

  private async lookup(id: string): Promise<CachedKey['key']> {
    const now = Date.now();
    const cached = this.cache.get(id);
    if (cached && cached.expiresAt > now) return cached.key;
    const key = await this.apiKeys.findOne({
      where: { id },
      select: { orgId: true, secretHash: true, capabilities: true, revokedAt: true },
    });
    const ttlMs = this.config.auth.apiKeyCacheSeconds * 1000;
    if (ttlMs > 0) {
      if (this.cache.size >= MAX_CACHED_KEYS) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(id, { key, expiresAt: now + ttlMs });
    }
    return key;
  }

  private noteUsed(id: string): void {
    const now = Date.now();
    if (now - (this.lastUsedRecorded.get(id) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedRecorded.set(id, now);
    this.lastUsedPending.add(id);
  }
}
