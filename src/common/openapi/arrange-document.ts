import type { OpenAPIObject, OperationObject, PathItemObject, TagObject } from '@nestjs/swagger';
import { ERRORS_OF_EVERY_AUTHENTICATED_OPERATION, ERRORS_OF_EVERY_OPERATION, errorResponse } from '../errors/api-error-responses.decorator';
import { ERROR_STATUS } from '../errors/error-code';
import { REQUEST_ID_HEADER } from '../http/request-id-header';
import { API_TAGS } from './api-tags';

/**
 * OpenAPI extension carrying an operation's multipart/form-data request body (set with
 * @ApiExtension, as Nest's @ApiBody describes one content type's schema only): arrangeDocument
 * moves it into `requestBody.content`.
 */
export const MULTIPART_BODY_EXTENSION = 'x-multipart-body';

/** OpenAPI extension naming the capability an operation needs (set by @RequireCapability). */
export const CAPABILITY_EXTENSION = 'x-required-capability';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The header every response carries, declared once and referenced from each response. */
const REQUEST_ID_COMPONENT = {
  description: 'The id of this request, also written on its log lines. Quote it when reporting a problem.',
  required: true,
  schema: { type: 'string', example: '3f1c2b9e-8a4d-4c57-9e0b-5d2a7c1e6f42' },
};

export function operationsOf(item: PathItemObject): OperationObject[] {
  return HTTP_METHODS.map((method) => item[method]).filter((operation): operation is OperationObject => operation !== undefined);
}

/**
 * Puts the generated document in reference order and completes what decorators cannot say:
 * - `tags`: the API_TAGS that operations use, in API_TAGS order, then any other declared tag in use
 *   (Swagger UI shows its sections in this order when no tagsSorter is set);
 * - `paths`: grouped by their operations' tag in the same order (stable: within a tag, the order in
 *   which controllers declare their routes), so the committed openapi.json reads like the reference;
 * - every operation documents the errors any operation can give (500 `internal`, 503 `unavailable`),
 *   and every authenticated one 429 `rate_limited`, unless it documents that status itself;
 * - an operation's description says which capability it needs (from @RequireCapability), unless it
 *   already does;
 * - an operation's multipart/form-data body (MULTIPART_BODY_EXTENSION) joins its request body;
 * - every response documents the `X-Request-Id` header;
 * - an empty `info.contact` (DocumentBuilder always adds one) is dropped.
 */
export function arrangeDocument(document: OpenAPIObject): OpenAPIObject {
  // API_TAGS first; a tag some code declared with DocumentBuilder.addTag and API_TAGS lacks follows.
  const declared: TagObject[] = [...API_TAGS, ...(document.tags ?? []).filter((tag) => !API_TAGS.some(({ name }) => name === tag.name))];
  const rank = new Map(declared.map((tag, index) => [tag.name, index]));
  const rankOf = (item: PathItemObject) => Math.min(...operationsOf(item).map((operation) => rank.get(operation.tags?.[0] ?? '') ?? declared.length));

  const used = new Set(Object.values(document.paths).flatMap((item) => operationsOf(item).flatMap((operation) => operation.tags ?? [])));
  const paths = Object.entries(document.paths)
    .map(([path, item], position) => ({ path, item, position, rank: rankOf(item) }))
    .sort((a, b) => a.rank - b.rank || a.position - b.position);

  for (const { item } of paths) {
    for (const operation of operationsOf(item)) {
      const capability: unknown = (operation as unknown as Record<string, unknown>)[CAPABILITY_EXTENSION];
      if (typeof capability === 'string' && !operation.description?.includes(`\`${capability}\` capability`)) {
        operation.description = [operation.description, `Requires the \`${capability}\` capability.`].filter(Boolean).join('\n\n');
      }
      const extensions = operation as unknown as Record<string, unknown>;
      const multipart = extensions[MULTIPART_BODY_EXTENSION];
      if (multipart !== undefined && operation.requestBody && !('$ref' in operation.requestBody)) {
        operation.requestBody.content = { ...operation.requestBody.content, 'multipart/form-data': multipart as object };
        delete extensions[MULTIPART_BODY_EXTENSION];
      }
      for (const code of ERRORS_OF_EVERY_OPERATION) operation.responses[ERROR_STATUS[code]] ??= errorResponse(code);
      if (operation.security?.length) {
        for (const code of ERRORS_OF_EVERY_AUTHENTICATED_OPERATION) operation.responses[ERROR_STATUS[code]] ??= errorResponse(code);
      }
      for (const response of Object.values(operation.responses)) {
        if (!response || '$ref' in response) continue;
        response.headers = { [REQUEST_ID_HEADER]: { $ref: `#/components/headers/${REQUEST_ID_HEADER}` }, ...response.headers };
      }
    }
  }

  const { contact, ...info } = document.info;
  return {
    ...document,
    info: contact && Object.keys(contact).length > 0 ? { ...info, contact } : info,
    tags: declared.filter((tag) => used.has(tag.name)).map((tag) => ({ ...tag })),
    paths: Object.fromEntries(paths.map(({ path, item }) => [path, item])),
    components: { ...document.components, headers: { ...document.components?.headers, [REQUEST_ID_HEADER]: REQUEST_ID_COMPONENT } },
  };
}
