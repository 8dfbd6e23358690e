import type { OpenAPIObject } from '@nestjs/swagger';
import { API_TAGS } from './api-tags';
import { arrangeDocument, CAPABILITY_EXTENSION } from './arrange-document';

const op = (tag: string, id: string) => ({ operationId: id, tags: [tag], responses: { '200': { description: 'ok' } } });

/** As Nest generates it: paths in the order modules register their routes. */
const generated = (): OpenAPIObject => ({
  openapi: '3.0.0',
  info: { title: 't', version: '1', contact: {} },
  tags: [{ name: 'Extra', description: 'declared with DocumentBuilder.addTag' }],
  paths: {
    '/api/v1/api-keys': { post: op('API keys', 'createApiKey'), get: op('API keys', 'listApiKeys') },
    '/api/v1/sessions': { post: op('Sessions', 'createSession'), get: op('Sessions', 'listSessions') },
    '/extra': { get: op('Extra', 'extra') },
    '/api/v1/sessions/{session}': { get: op('Sessions', 'getSession') },
    '/api/v1/sessions/{session}/chats': { get: op('Chats', 'listChats') },
  },
  components: {},
});

describe('arrangeDocument', () => {
  it('lists the tags in use in API_TAGS order, with their descriptions, then other declared tags; unused ones are left out', () => {
    const document = arrangeDocument(generated());
    expect(document.tags?.map((tag) => tag.name)).toEqual(['Chats', 'Sessions', 'API keys', 'Extra']);
    expect(document.tags?.[0].description).toBe(API_TAGS[0].description);
    expect(document.tags?.map((tag) => tag.name)).not.toContain('Health');
  });

  it('orders paths by tag, keeping the declaration order within a tag', () => {
    expect(Object.keys(arrangeDocument(generated()).paths)).toEqual([
      '/api/v1/sessions/{session}/chats',
      '/api/v1/sessions',
      '/api/v1/sessions/{session}',
      '/api/v1/api-keys',
      '/extra',
    ]);
  });

  it('puts operations under an undeclared tag last, and does not declare that tag (the lint then fails)', () => {
    const input = generated();
    input.paths['/first'] = { get: op('Undeclared', 'first') };
    const document = arrangeDocument(input);
    expect(Object.keys(document.paths).at(-1)).toBe('/first');
    expect(document.tags?.map((tag) => tag.name)).not.toContain('Undeclared');
  });

  it('documents 400 (a malformed body), 413, 500 internal and 503 unavailable on every operation, keeping a status an operation documents itself', () => {
    const input = generated();
    input.paths['/api/v1/sessions'].get!.responses['503'] = { description: 'own' };
    const document = arrangeDocument(input);
    const listChats = document.paths['/api/v1/sessions/{session}/chats'].get!.responses;
    expect(Object.keys(listChats)).toEqual(['200', '400', '413', '500', '503']);
    expect(listChats['503']).toMatchObject({
      headers: { 'Retry-After': { required: true } },
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' }, example: { error: { code: 'unavailable' } } } },
    });
    expect(document.paths['/api/v1/sessions'].get!.responses['503']).toMatchObject({ description: 'own' });
  });

  it('states the capability from @RequireCapability in the description, unless the description already does', () => {
    const input = generated();
    Object.assign(input.paths['/api/v1/sessions'].post!, { [CAPABILITY_EXTENSION]: 'manage', description: 'Creates a session.' });
    Object.assign(input.paths['/api/v1/sessions'].get!, { [CAPABILITY_EXTENSION]: 'read' });
    Object.assign(input.paths['/api/v1/sessions/{session}/chats'].get!, { [CAPABILITY_EXTENSION]: 'read', description: 'Requires the `read` capability.' });
    const document = arrangeDocument(input);
    expect(document.paths['/api/v1/sessions'].post?.description).toBe('Creates a session.\n\nRequires the `manage` capability.');
    expect(document.paths['/api/v1/sessions'].get?.description).toBe('Requires the `read` capability.');
    expect(document.paths['/api/v1/sessions/{session}/chats'].get?.description).toBe('Requires the `read` capability.');
  });

  it('documents X-Request-Id on every response and drops the empty contact', () => {
    const document = arrangeDocument(generated());
    expect(document.paths['/api/v1/sessions'].post?.responses['200']).toMatchObject({
      headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } },
    });
    expect(document.components?.headers?.['X-Request-Id']).toMatchObject({ required: true, schema: { type: 'string' } });
    expect(document.info).not.toHaveProperty('contact');
  });
});
