import { timingSafeEqual } from 'node:crypto';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, MoreThan, Repository } from 'typeorm';
import { AppError } from '../../common/errors/app-error';
import { CursorCodec } from '../../common/pagination/cursor-codec';
import { pageOf, PageQuery, rowsToRead } from '../../common/pagination/page-query';
import { AppConfig } from '../../config/app-config';
import type { Capability } from '../../common/capabilities';
import type { Principal } from '../principal';
import { ApiKey } from './api-key.entity';
import { generateApiKey, hashSecret, parseApiKey, secretMatches } from './api-key-token';
import { ApiKeyPageResponse, ApiKeyResponse, CreatedApiKeyResponse } from './dto/api-key.response';
import { CreateApiKeyRequest } from './dto/create-api-key.request';

const API_KEY_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

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
  key: Pick<ApiKey, 'orgId' | 'secretHash' | 'capabilities' | 'revokedAt'>;
  expiresAt: number;
  /**
   * Once a presented secret has matched the stored hash: that secret and the caller it names, for
   * the rest of the entry's life. Later requests compare in constant time with it instead of
   * hashing again (a SHA-256 object per request cost more than the rest of authentication).
   */
  verified?: { secret: Buffer; principal: Principal };
}

const MAX_CACHED_KEYS = 10_000;
/**
 * Ids that name no key, remembered apart and in a small cache of their own: made-up
 * `wgk_<ULID>_<secret>` tokens (anyone can mint millions) must not push real keys out of the cache.
 */
const MAX_CACHED_UNKNOWN_IDS = 1_000;
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
  /** Ids found to name no key, with when that answer expires. */
  private readonly unknownIds = new Map<string, number>();
  private readonly lastUsedRecorded = new Map<string, number>();
  private readonly lastUsedPending = new Set<string>();
  private readonly flushTimer: NodeJS.Timeout;

  constructor(
    @InjectRepository(ApiKey) private readonly apiKeys: Repository<ApiKey>,
    private readonly config: AppConfig,
    private readonly cursors: CursorCodec,
  ) {
    this.flushTimer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS).unref();
  }

  async create(orgId: string, capabilities: Capability[], name: string | null = null): Promise<CreatedApiKey> {
    const { id, secret, token } = generateApiKey();
    this.unknownIds.delete(id);
    const uniqueCapabilities = [...new Set(capabilities)];
    const saved = await this.apiKeys.save(
      this.apiKeys.create({ id, orgId, name, secretHash: hashSecret(secret), capabilities: uniqueCapabilities, revokedAt: null }),
    );
    return { id, key: token, orgId, name, capabilities: uniqueCapabilities, createdAt: saved.createdAt };
  }

  /** POST /api-keys: a key for the caller's org, with capabilities the caller holds itself (else 403 naming the first one it lacks). */
  async createForCaller(caller: Principal, request: CreateApiKeyRequest): Promise<CreatedApiKeyResponse> {
    const lacking = request.capabilities.find((capability) => !caller.capabilities.has(capability));
    if (lacking) {
      throw new AppError('forbidden', `cannot give a key the ${lacking} capability: the caller does not hold it`, { capability: lacking });
    }
    const created = await this.create(caller.orgId, request.capabilities, request.name ?? null);
    return {
      ...ApiKeyResponse.fromEntity({ ...created, lastUsedAt: null, revokedAt: null }),
      key: created.key,
    };
  }

  /** GET /api-keys: the org's keys (revoked ones included, marked), in creation order, keyset-paginated. */
  async listForOrg(orgId: string, page: PageQuery): Promise<ApiKeyPageResponse> {
    const scope = `api-keys:${orgId}`;
    const after = page.cursor === undefined ? undefined : this.cursors.decodeUlid(scope, page.cursor);
    const rows = await this.apiKeys.find({
      where: after ? { orgId, id: MoreThan(after) } : { orgId },
      select: { id: true, name: true, capabilities: true, createdAt: true, lastUsedAt: true, revokedAt: true },
      order: { id: 'ASC' },
      take: rowsToRead(page.limit),
    });
    const { rows: pageRows, hasMore } = pageOf(rows, page.limit);
    return {
      data: pageRows.map((row) => ApiKeyResponse.fromEntity(row)),
      nextCursor: hasMore ? this.cursors.encodeUlid(scope, pageRows[pageRows.length - 1].id) : null,
    };
  }

  /** DELETE /api-keys/{id}: 404 for a key that is unknown, of another org, malformed or already revoked. */
  async revokeForOrg(orgId: string, rawId: string): Promise<void> {
    const id = rawId.toUpperCase();
    if (!API_KEY_ID.test(id) || !(await this.revoke(id, orgId))) throw AppError.notFound('API key');
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
    const entry = await this.lookup(parts.id);
    const principal = entry && entry.key.revokedAt === null ? verify(entry, parts.id, parts.secret) : null;
    if (principal) this.noteUsed(parts.id);
    return principal;
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

  /** The key's cache entry, or null when no key has this id. */
  private async lookup(id: string): Promise<CachedKey | null> {
    const now = Date.now();
    const cached = this.cache.get(id);
    if (cached && cached.expiresAt > now) return cached;
    if ((this.unknownIds.get(id) ?? 0) > now) return null;
    const key = await this.apiKeys.findOne({
      where: { id },
      select: { orgId: true, secretHash: true, capabilities: true, revokedAt: true },
    });
    const expiresAt = now + this.config.auth.apiKeyCacheSeconds * 1000;
    if (!key) {
      if (expiresAt > now) remember(this.unknownIds, id, expiresAt, MAX_CACHED_UNKNOWN_IDS);
      return null;
    }
    const entry: CachedKey = { key, expiresAt };
    if (expiresAt > now) remember(this.cache, id, entry, MAX_CACHED_KEYS);
    return entry;
  }

  private noteUsed(id: string): void {
    const now = Date.now();
    if (now - (this.lastUsedRecorded.get(id) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedRecorded.set(id, now);
    this.lastUsedPending.add(id);
  }
}

/** Sets `id` in a bounded cache, dropping its oldest entry when full. */
function remember<T>(cache: Map<string, T>, id: string, value: T, max: number): void {
  cache.delete(id);
  if (cache.size >= max) cache.delete(cache.keys().next().value!);
  cache.set(id, value);
}

/** The caller a live key's entry names when `secret` is the key's secret; null otherwise. */
function verify(entry: CachedKey, keyId: string, secret: string): Principal | null {
  const presented = Buffer.from(secret);
  if (entry.verified) {
    const known = entry.verified.secret;
    return presented.length === known.length && timingSafeEqual(presented, known) ? entry.verified.principal : null;
  }
  const key = entry.key;
  if (!secretMatches(secret, key.secretHash)) return null;
  // Frozen: every request with this key gets this same object.
  const principal: Principal = Object.freeze({ kind: 'api_key', orgId: key.orgId, capabilities: new Set(key.capabilities), keyId });
  // A copy of its own (Buffer.alloc is never pooled): `presented` is a slice of Buffer's shared
  // 8 KiB pool, which it would keep alive for as long as the entry lives.
  const own = Buffer.alloc(presented.length);
  presented.copy(own);
  entry.verified = { secret: own, principal };
  return principal;
}
