import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HTTP_PLATFORMS } from '../../src/config/environment';
import { TestApp } from '../support/test-app';

const COMMITTED = join(__dirname, '..', '..', 'openapi.json');
const serialize = (document: unknown) => `${JSON.stringify(document, null, 2)}\n`;

describe('OpenAPI document', () => {
  let app: TestApp;
  let served: any;

  beforeAll(async () => {
    app = await TestApp.start();
    served = (await app.request('/docs-json')).body;
    // `npm run openapi` regenerates the committed file from the code.
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(COMMITTED, serialize(served));
  });
  afterAll(async () => {
    await app.close();
  });

  it('is committed as openapi.json and matches the code (run `npm run openapi` after an API change)', () => {
    expect(serialize(served)).toBe(readFileSync(COMMITTED, 'utf8'));
  });

  it.each(HTTP_PLATFORMS)('is served byte for byte the same on %s', async (platform) => {
    const other = await TestApp.start({ HTTP_PLATFORM: platform });
    try {
      const response = await other.request('/docs-json');
      expect(response.status).toBe(200);
      expect(response.text).toBe(JSON.stringify(served));
      expect(serialize(response.body)).toBe(readFileSync(COMMITTED, 'utf8'));
    } finally {
      await other.close();
    }
  });

  it('serves Swagger UI at /docs, keeping the document order and the entered token across reloads', async () => {
    const response = await app.request('/docs');
    expect(response.status).toBe(200);
    expect(response.text).toContain('swagger-ui');
    const init = await app.request('/docs/swagger-ui-init.js');
    expect(init.text).toContain('"persistAuthorization": true');
    expect(init.text).not.toMatch(/tagsSorter|operationsSorter/);
  });

  it('says what the gateway is, and serves it from the origin of the document', () => {
    expect(served.info).toMatchObject({ title: 'WhatsApp Gateway', version: '1.0.0' });
    for (const topic of ['stored copy', '**Authentication.**', '**Authorize**', '**Pagination.**', '**Errors.**']) {
      expect(served.info.description).toContain(topic);
    }
    expect(served.servers).toEqual([{ url: '/', description: expect.any(String) }]);
  });

  it('declares the tags in use in reference order (Chats first), each with a description', () => {
    const names = served.tags.map((tag: { name: string }) => tag.name);
    expect(names[0]).toBe('Chats');
    const order = ['Chats', 'Sessions', 'API keys', 'Health'].filter((name) => names.includes(name));
    expect(names.filter((name: string) => order.includes(name))).toEqual(order);
    for (const tag of served.tags) expect(tag.description).toEqual(expect.any(String));
  });

  it('has an example for every response of every operation', () => {
    const missing: string[] = [];
    for (const [path, item] of Object.entries<any>(served.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        for (const [status, response] of Object.entries<any>(operation.responses ?? {})) {
          for (const [mediaType, content] of Object.entries<any>(response.content ?? {})) {
            if (content.example === undefined && content.examples === undefined) missing.push(`${method} ${path} ${status} ${mediaType}`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });

  describe('every operation', () => {
    const operations = () =>
      Object.entries(served.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
      );

    it('covers the sessions and API keys routes', () => {
      const names = operations().map((entry) => entry.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'POST /api/v1/sessions',
          'GET /api/v1/sessions',
          'GET /api/v1/sessions/{session}',
          'PATCH /api/v1/sessions/{session}',
          'DELETE /api/v1/sessions/{session}',
          'POST /api/v1/sessions/{session}/start',
          'POST /api/v1/sessions/{session}/stop',
          'POST /api/v1/sessions/{session}/logout',
          'GET /api/v1/sessions/{session}/qr',
          'POST /api/v1/sessions/{session}/pairing-code',
          'POST /api/v1/api-keys',
          'GET /api/v1/api-keys',
          'DELETE /api/v1/api-keys/{id}',
        ]),
      );
    });

    it('has a summary, Bearer security, an example for its success response and request body, and documented errors', () => {
      for (const { name, operation } of operations()) {
        const success = Object.entries<any>(operation.responses).find(([status]) => status.startsWith('2'));
        const problems = [
          !operation.summary && 'summary',
          JSON.stringify(operation.security) !== JSON.stringify([{ bearer: [] }]) && 'security',
          !success && 'success response',
          // JSON, or for a download (message media) the binary content type, or the event stream's text/event-stream, each with an example.
          success &&
            success[0] !== '204' &&
            Object.values<any>(success[1].content ?? {}).every((content) => content.example === undefined) &&
            'success example',
          operation.requestBody && !operation.requestBody.content['application/json'].examples && 'request body examples',
          !operation.responses['401']?.content['application/json'].example && '401 example',
          !operation.responses['403']?.content['application/json'].example && '403 example',
        ].filter(Boolean);
        expect({ name, problems }).toEqual({ name, problems: [] });
      }
    });
  });

  describe('List chats, as the reference page publishes it', () => {
    const operation = () => served.paths['/api/v1/sessions/{session}/chats'].get;

    it('has the summary, description and Bearer security', () => {
      expect(operation().summary).toBe('List chats');
      expect(operation().tags).toEqual(['Chats']);
      expect(operation().description).toContain("served from the gateway's **stored copy**");
      expect(operation().security).toEqual([{ bearer: [] }]);
      const scheme = served.components.securitySchemes.bearer;
      expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
      expect(scheme.description).toContain('tries each in turn');
    });

    it('documents the parameters with their rules', () => {
      const byName = Object.fromEntries(operation().parameters.map((parameter: any) => [parameter.name, parameter]));
      expect(byName.session).toMatchObject({ in: 'path', required: true, schema: { type: 'string' } });
      expect(byName.limit).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', format: 'int64' } });
      expect(byName.limit.description).toContain('Clamped to the range 1–200');
      expect(byName.cursor).toMatchObject({ in: 'query', required: false, schema: { type: 'string' } });
    });

    it('documents the 200 schema with the example, and the error envelope for 400/401/403/404', () => {
      const ok = operation().responses['200'].content['application/json'];
      expect(ok.example.data[0]).toMatchObject({ id: 3344, jid: '6281234567890@s.whatsapp.net', name: 'Alice', unreadCount: 3 });
      const chat = served.components.schemas.ChatResponse;
      expect(chat.properties.id).toMatchObject({ type: 'integer', format: 'int64' });
      expect(chat.properties.type.enum).toEqual(['dm', 'group', 'broadcast', 'newsletter']);
      expect(chat.required).toEqual(expect.arrayContaining(['id', 'jid', 'type', 'name', 'pinned', 'archived', 'unreadCount']));
      for (const [status, code] of [
        ['400', 'invalid_argument'],
        ['401', 'unauthenticated'],
        ['403', 'forbidden'],
        ['404', 'not_found'],
      ]) {
        const content = operation().responses[status].content['application/json'];
        expect(content.schema.$ref).toBe('#/components/schemas/ErrorEnvelope');
        expect(content.example.error.code).toBe(code);
      }
    });
  });
});
