import 'reflect-metadata';
import { DynamicModule, Global, INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { ApiKeysService } from '../../src/auth/api-keys/api-keys.service';
import type { Capability } from '../../src/common/capabilities';
import { AppConfig } from '../../src/config/app-config';
import { configureApp, createHttpApp, httpPlatform } from '../../src/http/http-app';
import { SessionsService } from '../../src/sessions/sessions.service';
import { refusingWebSocketUrl } from './loopback';
import { openApiValidator } from './openapi-validator';

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestAppOptions {
  /**
   * Providers to swap in, by token (e.g. a recording SYNC_EVENT_SINK, a BAILEYS_SOCKET_FACTORY
   * driven by the test). A token no module provides yet is provided globally.
   */
  providers?: { provide: string | symbol | (abstract new (...args: never[]) => unknown); useValue: unknown }[];
}

/** Makes test values visible to every module, for tokens injected as optional. */
@Global()
@Module({})
class TestValuesModule {
  static with(providers: NonNullable<TestAppOptions['providers']>): DynamicModule {
    return { module: TestValuesModule, providers, exports: providers.map((provider) => provider.provide) };
  }
}

/**
 * The real app, listening on a loopback port, against the test run's database. By default it
 * holds no WhatsApp connection (SESSION_CAPACITY=0), and Baileys would only reach a loopback port
 * that refuses connections: tests that connect sessions say so with their own env.
 */
export class TestApp {
  private constructor(
    readonly app: INestApplication,
    readonly baseUrl: string,
  ) {}

  static async start(env: Record<string, string | undefined> = {}, options: TestAppOptions = {}): Promise<TestApp> {
    const defaults = {
      LOG_LEVEL: 'silent',
      WHATSAPP_LOG_LEVEL: 'silent',
      SESSION_CAPACITY: '0',
      WHATSAPP_WS_URL: await refusingWebSocketUrl(),
    };
    const config = AppConfig.fromEnvironment({ ...defaults, ...process.env, ...env });
    const module = AppModule.forRoot(config);
    let app: INestApplication;
    const logger = process.env.TEST_LOGS ? (['log', 'warn', 'error'] as const).slice() : (false as const);
    if (options.providers && options.providers.length > 0) {
      let builder = Test.createTestingModule({ imports: [module, TestValuesModule.with(options.providers)] });
      for (const provider of options.providers) builder = builder.overrideProvider(provider.provide).useValue(provider.useValue);
      app = (await builder.compile()).createNestApplication(httpPlatform(config).createAdapter(config.http), { logger, bodyParser: false });
      configureApp(app);
    } else {
      app = await createHttpApp(module, config, { logger });
    }
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    return new TestApp(app, `http://127.0.0.1:${address.port}`);
  }

  get dataSource(): DataSource {
    return this.app.get(DataSource);
  }

  get apiKeys(): ApiKeysService {
    return this.app.get(ApiKeysService);
  }

  async close(): Promise<void> {
    await this.app.close();
  }

  /**
   * One HTTP request to the app. Every response to an operation of openapi.json is checked against
   * the document (status, content type, body schema, required headers): a mismatch throws, so the
   * document cannot drift from behaviour.
   */
  async request<T = any>(
    path: string,
    options: { token?: string; method?: string; headers?: Record<string, string>; body?: string | FormData | Buffer } = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const method = options.method ?? 'GET';
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body: options.body });
    const text = await response.text();
    openApiValidator().validate({ method, path, status: response.status, headers: response.headers, text });
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, headers: response.headers, body: body as T, text };
  }

  /** A new org with one session and an API key holding `capabilities`: tests never share data. */
  async createTenant(capabilities: Capability[] = ['read']): Promise<Tenant> {
    const orgId = `org-${randomUUID()}`;
    const session = await this.app.get(SessionsService).create(orgId, 'test number');
    const key = await this.apiKeys.create(orgId, capabilities, 'test key');
    return { orgId, sessionId: session.id, apiKey: key.key, apiKeyId: key.id };
  }

  /**
   * Stores chats for a session in one statement, bypassing the sync (the unread count is also the
   * base the sync derives it from). Returns their ids in insertion order. To write chats the way
   * WhatsApp data arrives, use ChatSyncService.applyHistoryBatch.
   */
  async insertChats(sessionId: string, chats: ChatSeed[]): Promise<number[]> {
    if (chats.length === 0) return [];
    const rows = chats.map((chat, index) => ({
      ord: index,
      jid: chat.jid ?? `${index}-${randomUUID().slice(0, 8)}@s.whatsapp.net`,
      type: chat.type ?? 'dm',
      name: chat.name ?? null,
      pinned_at: chat.pinnedAt ?? null,
      archived: chat.archived ?? false,
      muted_until: chat.mutedUntil ?? null,
      last_message_at: chat.lastMessageAt ?? null,
      unread_count: chat.unreadCount ?? 0,
      marked_unread: chat.markedUnread ?? false,
    }));
    const result: { id: string }[] = await this.dataSource.query(
      `INSERT INTO chats (session_id, jid, type, name, pinned_at, archived, muted_until, last_message_at, unread_count, unread_base, marked_unread)
       SELECT $1, r.jid, r.type, r.name, r.pinned_at, r.archived, r.muted_until, r.last_message_at, r.unread_count, r.unread_count, r.marked_unread
       FROM jsonb_to_recordset($2::jsonb) AS r(jid text, type text, name text, pinned_at bigint, archived boolean,
         muted_until bigint, last_message_at bigint, unread_count int, marked_unread boolean, ord int)
       ORDER BY ord
       RETURNING id`,
      [sessionId, JSON.stringify(rows)],
    );
    return result.map((row) => Number(row.id));
  }
}

export interface Tenant {
  orgId: string;
  sessionId: string;
  apiKey: string;
  apiKeyId: string;
}

export interface ChatSeed {
  jid?: string;
  type?: 'dm' | 'group' | 'broadcast' | 'newsletter';
  name?: string | null;
  pinnedAt?: number | null;
  archived?: boolean;
  mutedUntil?: number | null;
  lastMessageAt?: number | null;
  unreadCount?: number;
  markedUnread?: boolean;
}
