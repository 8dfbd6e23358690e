import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { ulid } from 'ulid';
import type { Capability } from '../../src/common/capabilities';
import { generateSigningKey, JwksServer, signJwt, SigningKeyPair, unsignedJwt } from '../support/jwt-issuer';
import { openApiValidator } from '../support/openapi-validator';
import { TestApp } from '../support/test-app';

/**
 * The whole API under generated requests: for every operation of openapi.json, valid and invalid
 * path parameters, queries, headers and bodies (oversized, deeply nested, NUL, invalid UTF-8,
 * huge numbers, wrong content types) with every kind of token (none, malformed, expired or
 * wrong-org JWT, `alg: none`, each capability, revoked and made-up keys). Every answer must be a
 * status the document lists for the operation, with its schema and the error envelope, and never
 * a 5xx. The requests come from a fixed seed, printed: a failure replays with
 * `FUZZ_SEED=<seed> npx jest test/e2e/api-fuzz.e2e-spec.ts` (FUZZ_REQUESTS changes the count).
 */

const SEED = Number(process.env.FUZZ_SEED ?? 1_765_013_000);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const CONCURRENCY = 8;
const ISSUER = 'https://login.example.test';
const AUDIENCE = 'whatsapp-gateway';

interface Operation {
  id: string;
  method: string;
  template: string;
  parameters: { name: string; in: string }[];
  hasBody: boolean;
}

const document = JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi.json'), 'utf8'));
const OPERATIONS: Operation[] = Object.entries<Record<string, any>>(document.paths).flatMap(([template, item]) =>
  Object.entries<any>(item).map(([method, operation]) => ({
    id: operation.operationId,
    method: method.toUpperCase(),
    template,
    parameters: operation.parameters ?? [],
    hasBody: operation.requestBody !== undefined,
  })),
);

/** What a generated request names; turned into a concrete request against the fixtures. */
interface FuzzCase {
  operation: number;
  token: string;
  pathValue: string;
  query: [string, string][];
  contentType: string | null;
  requestId: string | null;
  body: { kind: string; value?: unknown } | null;
}

const TOKEN_KINDS = [
  'none',
  'empty-bearer',
  'basic',
  'garbage',
  'made-up-key',
  'malformed-key',
  'revoked-key',
  'key:read',
  'key:send',
  'key:manage',
  'key:admin',
  'key:all',
  'key:none',
  'jwt:owner',
  'jwt:viewer',
  'jwt:no-sub',
  'jwt:expired',
  'jwt:wrong-org',
  'jwt:wrong-audience',
  'jwt:alg-none',
  'jwt:unknown-kid',
  'jwt:truncated',
];

const hostileText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udc00y', '😀', '\u202e', ' ', '', 'null', '<script>', "'; DROP TABLE sessions; --", '%00', '\\u0000'),
  fc.nat({ max: 2 }).map((n) => 'x'.repeat([101, 1000, 20_000][n])),
);
const hugeNumber = fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '9007199254740993', '-0', '0.1e-400', '1E+2');

const pathValue = fc.oneof(
  fc.constantFrom('SESSION', 'SESSION_LOWER', 'OTHER_ORG_SESSION', 'DELETED_SESSION', 'KEY', 'OTHER_ORG_KEY', 'RANDOM_ULID'),
  fc.constantFrom(
    'not-a-ulid',
    '%00',
    '%C0%AF',
    '%FF%FE',
    '%E2%80%AE',
    '..%2F..',
    '0'.repeat(26),
    'Z'.repeat(26),
    'x'.repeat(5000),
    '%20',
    '~',
    'null',
    '-1',
    '1e400',
  ),
  fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }).map(percentEncoded),
);

const queryValue = fc.oneof(
  fc.constantFrom('1', '50', '200', '201', '0', '-1', '1.5', '1e3', '', 'abc', '%00', '%FF', '%C0%AF', 'REAL_CURSOR', 'OTHER_CURSOR'),
  hugeNumber,
  fc.base64String({ maxLength: 200 }),
  hostileText.map((text) => percentEncoded(text.slice(0, 2000))),
);
const query = fc.array(fc.tuple(fc.constantFrom('limit', 'cursor', 'limit', 'cursor', 'unknown', 'limit[]', '__proto__'), queryValue), { maxLength: 3 });

const validBody = fc.oneof(
  fc.record(
    {
      name: fc.string({ minLength: 1, maxLength: 100 }),
      metadata: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
      start: fc.boolean(),
    },
    { requiredKeys: ['name'] },
  ),
  fc.record({ phoneNumber: fc.oneof(fc.stringMatching(/^\+?[1-9]\d{6,14}$/), hostileText) }),
  fc.record(
    {
      name: fc.string({ minLength: 1, maxLength: 100 }),
      capabilities: fc.array(fc.constantFrom('read', 'send', 'manage', 'admin', 'root', ''), { maxLength: 5 }),
    },
    { requiredKeys: ['capabilities'] },
  ),
);
const hostileObject = fc.dictionary(
  fc.oneof(fc.constantFrom('name', 'metadata', 'start', 'phoneNumber', 'capabilities', '__proto__', 'constructor', 'prototype'), fc.string({ maxLength: 8 })),
  fc.oneof(hostileText, fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, true, 0, -1, 1.5, [], {})),
  { maxKeys: 5 },
);
const body = fc.oneof(
  fc.record({ kind: fc.constant('json'), value: fc.oneof(validBody, hostileObject, fc.jsonValue({ maxDepth: 4 })) }),
  fc.record({ kind: fc.constant('nested'), value: fc.constantFrom(10, 33, 100, 1000, 20_000) }),
  fc.record({
    kind: fc.constant('nested-in-field'),
    value: fc.tuple(fc.constantFrom('name', 'metadata', 'capabilities', 'phoneNumber'), fc.constantFrom(10, 33, 1000, 20_000)),
  }),
  fc.record({ kind: fc.constant('huge-number'), value: hugeNumber }),
  fc.record({ kind: fc.constant('invalid-utf8') }),
  fc.record({ kind: fc.constant('oversized') }),
  fc.record({
    kind: fc.constant('not-json'),
    value: fc.oneof(fc.string({ maxLength: 50 }), fc.constantFrom('{', '{"name":', '[1,]', 'undefined', '{"a":1}{"b":2}', '\u0000')),
  }),
  fc.record({ kind: fc.constant('empty') }),
);

const fuzzCase: fc.Arbitrary<FuzzCase> = fc.record({
  operation: fc.nat({ max: OPERATIONS.length - 1 }),
  token: fc.constantFrom(...TOKEN_KINDS),
  pathValue,
  query,
  contentType: fc.constantFrom(
    null,
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/json; charset=latin1',
    'APPLICATION/JSON',
    '*/*',
  ),
  requestId: fc.oneof(
    fc.constant(null),
    fc.string({ maxLength: 300 }).filter((text) => /^[\x21-\x7e]*$/.test(text)),
  ),
  body: fc.option(body, { freq: 3 }),
});

describe(`API fuzz: ${REQUESTS} generated requests across every operation of openapi.json (seed ${SEED})`, () => {
  let app: TestApp;
  let jwks: JwksServer;
  let signingKey: SigningKeyPair;
  const tokens = new Map<string, string | undefined>();
  const values = new Map<string, string>();

  beforeAll(async () => {
    signingKey = generateSigningKey('fuzz-key');
    jwks = new JwksServer();
    jwks.keys = [signingKey.publicJwk];
    await jwks.start();
    app = await TestApp.start({
      AUTH_JWKS_URL: jwks.url,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
      // Every request must reach the code under test, not a limit (the limits have tests of their own).
      AUTH_FAILURES_PER_ADDRESS: '0',
      RATE_LIMIT_PER_CALLER: '10000000',
      RATE_LIMIT_PER_ORG: '100000000',
      REDIS_URL: '',
    });
    const all: Capability[] = ['read', 'send', 'manage', 'admin'];
    const tenant = await app.createTenant(all);
    const other = await app.createTenant(all);
    for (const capability of all) tokens.set(`key:${capability}`, (await app.apiKeys.create(tenant.orgId, [capability], `fuzz ${capability}`)).key);
    tokens.set('key:all', tenant.apiKey);
    tokens.set('key:none', (await app.apiKeys.create(tenant.orgId, [], 'fuzz none')).key);
    const revoked = await app.apiKeys.create(tenant.orgId, all, 'fuzz revoked');
    await app.apiKeys.revoke(revoked.id);
    tokens.set('revoked-key', revoked.key);
    tokens.set('none', undefined);
    tokens.set('empty-bearer', '');
    tokens.set('made-up-key', `wgk_${ulid()}_${randomBytes(32).toString('base64url')}`);
    tokens.set('malformed-key', `wgk_${revoked.id}_short`);
    const now = Math.floor(Date.now() / 1000);
    const claims = (extra: Record<string, unknown> = {}) => ({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'fuzz-user',
      org_id: tenant.orgId,
      role: 'owner',
      iat: now,
      exp: now + 3600,
      ...extra,
    });
    tokens.set('jwt:owner', signJwt(signingKey, claims()));
    tokens.set('jwt:viewer', signJwt(signingKey, claims({ role: 'viewer' })));
    tokens.set('jwt:no-sub', signJwt(signingKey, claims({ sub: undefined })));
    tokens.set('jwt:expired', signJwt(signingKey, claims({ iat: now - 7200, exp: now - 3600 })));
    tokens.set('jwt:wrong-org', signJwt(signingKey, claims({ org_id: other.orgId })));
    tokens.set('jwt:wrong-audience', signJwt(signingKey, claims({ aud: 'someone-else' })));
    tokens.set('jwt:alg-none', unsignedJwt(claims()));
    tokens.set('jwt:unknown-kid', signJwt(generateSigningKey('not-in-jwks'), claims()));
    tokens.set('jwt:truncated', signJwt(signingKey, claims()).slice(0, -10));

    // Sessions the generated paths name; the fuzz may stop, start, log out or delete them.
    const sessions = await Promise.all(Array.from({ length: 3 }, () => app.createTenant(all)));
    values.set('SESSION', tenant.sessionId);
    values.set('SESSION_LOWER', tenant.sessionId.toLowerCase());
    values.set('OTHER_ORG_SESSION', other.sessionId);
    values.set('DELETED_SESSION', sessions[0].sessionId);
    await app.dataSource.query('DELETE FROM sessions WHERE id = $1', [sessions[0].sessionId]);
    values.set('KEY', (await app.apiKeys.create(tenant.orgId, ['read'], 'fuzz victim')).id);
    values.set('OTHER_ORG_KEY', other.apiKeyId);
    values.set('RANDOM_ULID', ulid());
    await app.insertChats(
      tenant.sessionId,
      Array.from({ length: 5 }, (_, i) => ({ name: `Chat ${i}` })),
    );
    const page = await app.request(`/api/v1/sessions/${tenant.sessionId}/chats?limit=1`, { token: tenant.apiKey });
    values.set('REAL_CURSOR', page.body.nextCursor);
    const otherPage = await app.request('/api/v1/sessions?limit=1', { token: other.apiKey });
    values.set('OTHER_CURSOR', otherPage.body.nextCursor ?? 'none');
  });
  afterAll(async () => {
    await app?.close();
    await jwks?.stop();
  });

  function toRequest(generated: FuzzCase): { method: string; path: string; headers: Record<string, string>; body?: string | Buffer } {
    const operation = OPERATIONS[generated.operation];
    const resolved = values.get(generated.pathValue) ?? generated.pathValue;
    const path = operation.template.replace(/\{[^}]+\}/g, resolved);
    const query = generated.query.map(([name, value]) => `${name}=${values.has(value) ? encodeURIComponent(values.get(value)!) : value}`).join('&');
    const headers: Record<string, string> = {};
    const token = tokens.get(generated.token);
    if (generated.token === 'basic') headers.authorization = 'Basic dXNlcjpwYXNz';
    else if (generated.token === 'garbage') headers.authorization = 'Bearer \u00ff\u00fe not a token';
    else if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (generated.requestId !== null) headers['x-request-id'] = generated.requestId;
    let body: string | Buffer | undefined;
    // No body on GET (clients and proxies drop it).
    if (generated.body && operation.method !== 'GET') {
      body = bodyOf(generated.body);
      if (generated.contentType !== null) headers['content-type'] = generated.contentType;
    }
    return { method: operation.method, path: query ? `${path}?${query}` : path, headers, body };
  }

  /** One request over a keep-alive connection (node:http: a fraction of fetch's cost per request, so 10,000 fit the budget). */
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  function send(request: ReturnType<typeof toRequest>): Promise<{ status: number; headers: Headers; text: string }> {
    return new Promise((resolve, reject) => {
      const url = new URL(app.baseUrl);
      const outgoing = httpRequest(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: request.method,
          path: request.path,
          headers: { ...request.headers, ...(request.body !== undefined ? { 'content-length': String(Buffer.byteLength(request.body)) } : {}) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          const done = () => {
            const headers = new Headers();
            for (const [name, value] of Object.entries(response.headers))
              if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
            resolve({ status: response.statusCode!, headers, text: Buffer.concat(chunks).toString('utf8') });
          };
          // An event stream never ends: its first message is the answer, then the connection is dropped.
          const stream = response.statusCode === 200 && /^text\/event-stream/.test(String(response.headers['content-type']));
          response.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            if (stream && Buffer.concat(chunks).toString('utf8').includes('\n\n', 1)) {
              response.destroy();
              done();
            }
          });
          response.on('end', done);
          response.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(request.body);
    });
  }
  afterAll(() => agent.destroy());

  it('answers every request with a documented status and the envelope, never a 5xx', async () => {
    const generatedAt = Date.now();
    const cases = fc.sample(fuzzCase, { seed: SEED, numRuns: REQUESTS });
    const generationSeconds = (Date.now() - generatedAt) / 1000;
    const statuses = new Map<string, number>();
    const failures: string[] = [];
    let next = 0;
    const started = Date.now();
    const worker = async () => {
      while (next < cases.length && failures.length === 0) {
        const index = next++;
        const request = toRequest(cases[index]);
        const problem = await check(request).catch((error: Error) => error.message);
        if (problem)
          failures.push(
            `request #${index} of seed ${SEED}: ${request.method} ${request.path.slice(0, 300)} (token ${cases[index].token}, content type ${cases[index].contentType}, body ${JSON.stringify(cases[index].body)?.slice(0, 200)}): ${problem}`,
          );
      }
    };
    const check = async (request: ReturnType<typeof toRequest>): Promise<string | undefined> => {
      const response = await send(request);
      const text = response.text;
      const operation = openApiValidator().operationFor(request.method, request.path);
      const key = `${operation?.id ?? 'unrouted'} ${response.status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (response.status >= 500) return `answered ${response.status}: ${text.slice(0, 300)}`;
      // Status, headers and body against the document (throws on a mismatch).
      openApiValidator().validate({ method: request.method, path: request.path, status: response.status, headers: response.headers, text });
      if (response.status >= 400) {
        const envelope = JSON.parse(text);
        if (typeof envelope?.error?.code !== 'string' || typeof envelope.error.message !== 'string' || typeof envelope.error.details !== 'object') {
          return `not the error envelope: ${text.slice(0, 300)}`;
        }
        if (!/^application\/json/.test(response.headers.get('content-type') ?? '')) return `error content type ${response.headers.get('content-type')}`;
      }
      return undefined;
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (Date.now() - started) / 1000;
    const operationsSeen = new Set([...statuses.keys()].map((key) => key.split(' ')[0]));
    process.stdout.write(
      `API fuzz: seed ${SEED}, ${next} requests in ${seconds.toFixed(1)} s (generated in ${generationSeconds.toFixed(1)} s) over ${operationsSeen.size} operations; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}\n`,
    );
    expect(failures).toEqual([]);
    expect(next).toBe(REQUESTS);
    // Every operation was exercised, and past authentication too.
    for (const operation of OPERATIONS) expect(operationsSeen).toContain(operation.id);
    for (const operation of OPERATIONS) {
      const past = [...statuses.keys()].filter((key) => key.startsWith(`${operation.id} `) && !/ (401|403)$/.test(key));
      expect({ operation: operation.id, pastAuthentication: past.length > 0 }).toEqual({ operation: operation.id, pastAuthentication: true });
    }
  }, 180_000);
});

/** Every UTF-8 byte of `text` percent-encoded except unreserved ones (half a surrogate pair becomes U+FFFD's bytes). */
function percentEncoded(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

function bodyOf(body: NonNullable<FuzzCase['body']>): string | Buffer {
  switch (body.kind) {
    case 'json':
      return JSON.stringify(body.value) ?? 'null';
    case 'nested': {
      const depth = body.value as number;
      return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    }
    case 'nested-in-field': {
      const [field, depth] = body.value as [string, number];
      return `{"name":"n","${field}":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    }
    case 'huge-number':
      return `{"name":"n","limit":${String(body.value)},"start":${String(body.value)}}`;
    case 'invalid-utf8':
      return Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80]), Buffer.from('"}')]);
    case 'oversized':
      return JSON.stringify({ name: 'big', metadata: { blob: 'x'.repeat(300 * 1024) } });
    case 'not-json':
      return String(body.value);
    default:
      return '';
  }
}
