import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Checks real responses against the committed openapi.json, so the document cannot drift from
 * behaviour: TestApp.request runs every response through `validateResponse`, and so does the
 * openapi-fetch middleware of the typed-client test.
 *
 * A response to a documented operation (method + path template) must have a documented status,
 * a documented content type, a body matching the schema, and every required documented header.
 * Objects are checked strictly: a property the schema does not declare fails (unless the schema
 * says `additionalProperties`), so a field the code adds without documenting it is caught too.
 * Responses to undocumented routes (unknown paths, operational endpoints) are not checked here.
 */

const DOCUMENT_PATH = join(__dirname, '..', '..', 'openapi.json');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export interface ObservedResponse {
  method: string;
  /** The request path, with or without its query string. */
  path: string;
  status: number;
  headers: Headers;
  /** The raw body text. */
  text: string;
}

interface Operation {
  id: string;
  method: string;
  template: string;
  pattern: RegExp;
  literalSegments: number;
  responses: Record<string, any>;
}

export class OpenApiMismatchError extends Error {
  constructor(observed: ObservedResponse, operationId: string, problems: string[]) {
    super(
      `${observed.method.toUpperCase()} ${observed.path} -> ${observed.status} does not match openapi.json (operation ${operationId}):\n` +
        problems.map((problem) => `  - ${problem}`).join('\n') +
        `\n  body: ${observed.text.slice(0, 500)}`,
    );
    this.name = 'OpenApiMismatchError';
  }
}

export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly operations: Operation[];
  private readonly compiled = new Map<string, ValidateFunction>();
  /** `operationId status` of every response checked, for "every documented response was seen" tests. */
  readonly seen = new Set<string>();

  constructor(private readonly document: any) {
    this.ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
    addFormats(this.ajv);
    // OpenAPI 3.0 number formats and the annotation keywords it adds to JSON Schema.
    this.ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
    this.ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
    this.ajv.addFormat('float', { type: 'number', validate: () => true });
    this.ajv.addFormat('double', { type: 'number', validate: () => true });
    this.ajv.addVocabulary(['example', 'xml', 'externalDocs', 'components']);
    this.ajv.addSchema({ $id: 'openapi.json', components: { schemas: strictObjects(document.components?.schemas ?? {}) } });

    this.operations = Object.entries<Record<string, any>>(document.paths).flatMap(([template, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({
        id: item[method].operationId ?? `${method} ${template}`,
        method,
        template,
        pattern: new RegExp(
          `^${template
            .split(/\{[^}]+\}/)
            .map(escapeRegExp)
            .join('[^/]+')}$`,
        ),
        literalSegments: template.split('/').filter((segment) => segment && !segment.startsWith('{')).length,
        responses: item[method].responses,
      })),
    );
  }

  static fromCommittedDocument(): OpenApiValidator {
    return new OpenApiValidator(JSON.parse(readFileSync(DOCUMENT_PATH, 'utf8')));
  }

  /** The operation a request goes to, or undefined when the route is not in the document. */
  operationFor(method: string, path: string): Operation | undefined {
    const bare = path.split('?')[0];
    return this.operations
      .filter((operation) => operation.method === method.toLowerCase() && operation.pattern.test(bare))
      .sort((a, b) => b.literalSegments - a.literalSegments)[0];
  }

  /** The statuses the document lists for an operation, e.g. ['200', '400', ...]. */
  documentedStatuses(operationId: string): string[] {
    const operation = this.operations.find((candidate) => candidate.id === operationId);
    if (!operation) throw new Error(`no operation ${operationId} in openapi.json`);
    return Object.keys(operation.responses).sort();
  }

  /** Throws OpenApiMismatchError when a response to a documented operation contradicts the document. */
  validate(observed: ObservedResponse): void {
    const operation = this.operationFor(observed.method, observed.path);
    if (!operation) return;
    const problems = this.problems(operation, observed);
    if (problems.length > 0) throw new OpenApiMismatchError(observed, operation.id, problems);
    this.seen.add(`${operation.id} ${observed.status}`);
  }

  private problems(operation: Operation, observed: ObservedResponse): string[] {
    const statusKey = String(observed.status);
    const response = this.resolve(operation.responses[statusKey] ?? operation.responses[`${statusKey[0]}XX`] ?? operation.responses.default);
    if (!response) return [`status ${observed.status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`];

    const problems: string[] = [];
    for (const [name, header] of Object.entries<any>(response.headers ?? {})) {
      const resolved = this.resolve(header);
      const value = observed.headers.get(name);
      if (value === null) {
        if (resolved.required) problems.push(`required header ${name} is missing`);
      } else if (resolved.schema?.type === 'integer' && !/^-?\d+$/.test(value)) {
        problems.push(`header ${name} should be an integer, got ${JSON.stringify(value)}`);
      }
    }

    const content: Record<string, any> = response.content ?? {};
    const mediaTypes = Object.keys(content);
    if (mediaTypes.length === 0) {
      if (observed.text !== '') problems.push('the document declares no body, but the response has one');
      return problems;
    }
    const contentType = (observed.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const mediaType = mediaTypes.find((candidate) => candidate.toLowerCase() === contentType);
    if (!mediaType) return [...problems, `content type ${JSON.stringify(contentType)} is not documented (documented: ${mediaTypes.join(', ')})`];
    if (!/json/.test(mediaType) || !content[mediaType].schema) return problems;

    let body: unknown;
    try {
      body = JSON.parse(observed.text);
    } catch {
      return [...problems, 'the body is not valid JSON'];
    }
    const validateBody = this.schemaValidator(`${operation.id} ${statusKey} ${mediaType}`, content[mediaType].schema);
    if (!validateBody(body)) {
      problems.push(...(validateBody.errors ?? []).map((error) => `body${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`));
    }
    return problems;
  }

  private schemaValidator(key: string, schema: object): ValidateFunction {
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(rebase(strictObjects(schema)));
      this.compiled.set(key, validate);
    }
    return validate;
  }

  /** Follows a local `$ref` (`#/components/...`) in the document. */
  private resolve(node: any): any {
    if (!node?.$ref) return node;
    const target = (node.$ref as string)
      .replace(/^#\//, '')
      .split('/')
      .reduce((parent: any, segment) => parent?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')], this.document);
    return this.resolve(target);
  }
}

/** Points `#/components/...` refs at the schema registered as `openapi.json`. */
function rebase(schema: unknown): any {
  return JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\//g, '"$ref":"openapi.json#/'));
}

/**
 * A copy of OpenAPI 3.0 schemas as JSON Schema for Ajv: `nullable` becomes a null alternative, and
 * every object that lists its properties accepts no others (unless it says `additionalProperties`).
 */
function strictObjects(schema: any): any {
  if (Array.isArray(schema)) return schema.map(strictObjects);
  if (schema === null || typeof schema !== 'object') return schema;
  const { nullable, ...rest } = schema;
  const copy: any = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, key === 'example' ? value : strictObjects(value)]));
  if (copy.properties && copy.additionalProperties === undefined && !copy.allOf && !copy.oneOf && !copy.anyOf) copy.additionalProperties = false;
  if (nullable !== true) return copy;
  if (typeof copy.type === 'string' && !copy.enum) return { ...copy, type: [copy.type, 'null'] };
  return { anyOf: [copy, { type: 'null' }] };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

let shared: OpenApiValidator | undefined;

/** One validator per test file (Jest gives each file its own module registry). */
export function openApiValidator(): OpenApiValidator {
  shared ??= OpenApiValidator.fromCommittedDocument();
  return shared;
}
