import { OpenApiMismatchError, OpenApiValidator } from '../support/openapi-validator';

/** The checker TestApp.request runs on every response: it must catch each kind of drift. */
describe('OpenApiValidator (responses checked against the committed openapi.json)', () => {
  const validator = OpenApiValidator.fromCommittedDocument();
  const chat = {
    archived: false,
    id: 3344,
    jid: '6281234567890@s.whatsapp.net',
    lastMessageAt: null,
    mutedUntil: 1751198400000,
    name: null,
    pinned: true,
    sessionId: '01J9ZX8K2QHV0M3T6R7P4N5W8C',
    type: 'group',
    unreadCount: 0,
  };
  const path = '/api/v1/sessions/01J9ZX8K2QHV0M3T6R7P4N5W8C/chats?limit=5';
  const respond = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    method: 'GET',
    path,
    status,
    headers: new Headers({ 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r-1', ...headers }),
    text: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const envelope = (code: string) => ({ error: { code, message: 'm', details: {} } });

  it('accepts responses as documented, nulls included', () => {
    expect(() => validator.validate(respond(200, { data: [chat], nextCursor: 'abc' }))).not.toThrow();
    expect(() => validator.validate(respond(200, { data: [], nextCursor: null }))).not.toThrow();
    expect(() => validator.validate(respond(404, envelope('not_found')))).not.toThrow();
    expect(() => validator.validate(respond(401, envelope('unauthenticated'), { 'www-authenticate': 'Bearer' }))).not.toThrow();
    expect(() => validator.validate(respond(500, envelope('internal')))).not.toThrow();
    expect(() => validator.validate(respond(503, envelope('unavailable'), { 'retry-after': '1' }))).not.toThrow();
  });

  it.each<[string, ReturnType<typeof respond>, RegExp]>([
    ['a field the document does not declare', respond(200, { data: [{ ...chat, phone: '+62' }], nextCursor: null }), /additional properties/],
    ['a missing required field', respond(200, { data: [{ ...chat, jid: undefined }], nextCursor: null }), /required property 'jid'/],
    ['a wrong type', respond(200, { data: [{ ...chat, id: '3344' }], nextCursor: null }), /body\/data\/0\/id must be integer/],
    ['an int64 beyond what JSON numbers carry exactly', respond(200, { data: [{ ...chat, id: 2 ** 60 }], nextCursor: null }), /format "int64"/],
    ['a value outside the enum', respond(200, { data: [{ ...chat, type: 'status' }], nextCursor: null }), /must be equal to one of the allowed values/],
    ['null where the document does not allow it', respond(200, { data: [{ ...chat, pinned: null }], nextCursor: null }), /pinned must be boolean/],
    ['an error code outside the envelope enum', respond(404, envelope('gone')), /body\/error\/code/],
    ['an undocumented status', respond(409, envelope('conflict')), /status 409 is not documented/],
    ['a 503 without Retry-After', respond(503, envelope('unavailable')), /required header Retry-After is missing/],
    ['a non-integer Retry-After', respond(503, envelope('unavailable'), { 'retry-after': 'soon' }), /Retry-After should be an integer/],
    ['a missing required header', respond(401, envelope('unauthenticated')), /required header WWW-Authenticate is missing/],
    ['a missing request id', { ...respond(200, { data: [], nextCursor: null }), headers: new Headers({ 'content-type': 'application/json' }) }, /X-Request-Id/],
    ['an undocumented content type', respond(200, '<html></html>', { 'content-type': 'text/html' }), /content type "text\/html" is not documented/],
  ])('rejects %s', (_label, observed, problem) => {
    let thrown: unknown;
    try {
      validator.validate(observed);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OpenApiMismatchError);
    expect((thrown as Error).message).toMatch(problem);
    expect((thrown as Error).message).toContain('operation listChats');
  });

  it('leaves routes the document does not describe alone', () => {
    expect(validator.operationFor('GET', '/nowhere')).toBeUndefined();
    expect(validator.operationFor('POST', path)).toBeUndefined();
    expect(() => validator.validate({ ...respond(404, 'not json'), path: '/nowhere' })).not.toThrow();
  });
});
