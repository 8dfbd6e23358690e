import { AppError } from '../common/errors/app-error';
import { hasRequestBody, isJsonContentType, MAX_JSON_DEPTH, nestedDeeperThan, parseJsonBody } from './json-body';

const nest = (depth: number, leaf: unknown = 1): unknown => (depth === 0 ? leaf : [nest(depth - 1, leaf)]);

function refusal(text: string): AppError {
  try {
    parseJsonBody(text);
  } catch (error) {
    return error as AppError;
  }
  throw new Error(`parsed: ${text.slice(0, 40)}`);
}

describe('JSON request bodies', () => {
  it('parses JSON, and takes an empty body as no body', () => {
    expect(parseJsonBody('{"a":[1,{"b":null}]}')).toEqual({ a: [1, { b: null }] });
    expect(parseJsonBody('')).toBeUndefined();
  });

  it('refuses text that is not JSON, and prototype poisoning', () => {
    for (const text of ['{"a":', 'nope', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}']) {
      expect(refusal(text)).toMatchObject({ code: 'invalid_argument', message: 'request body is not valid JSON', details: { parameter: 'body' } });
    }
  });

  it(`counts nesting by arrays and objects: ${MAX_JSON_DEPTH} levels pass, one more does not`, () => {
    expect(nestedDeeperThan(nest(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestedDeeperThan(nest(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(nestedDeeperThan({ a: { b: [{}] } }, 4)).toBe(false);
    expect(nestedDeeperThan({ a: { b: [{ c: [] }] } }, 4)).toBe(true);
    expect(nestedDeeperThan('[[[[[[', 0)).toBe(false);
  });

  it('refuses a 20,000-deep array without overflowing the stack', () => {
    const text = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    expect(refusal(text)).toMatchObject({ code: 'invalid_argument', details: { parameter: 'body' } });
    expect(refusal(text).message).toContain('nested too deeply');
  });

  it('knows a request with a body, and a JSON content type', () => {
    expect(hasRequestBody('POST', { 'content-length': '2' })).toBe(true);
    expect(hasRequestBody('DELETE', { 'transfer-encoding': 'chunked' })).toBe(true);
    expect(hasRequestBody('POST', { 'content-length': '0' })).toBe(false);
    expect(hasRequestBody('POST', {})).toBe(false);
    expect(hasRequestBody('GET', { 'content-length': '2' })).toBe(false);
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType('Application/JSON; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/json-patch+json')).toBe(false);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
  });
});
