import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StreamedBody } from '../common/http/streamed-body';

/**
 * The request's body as a stream (a multipart/form-data body, which neither platform reads:
 * json-body.ts `isMultipartContentType`). Express' request and response are Node's own; Fastify's
 * wrap them (`raw`).
 */
export const RequestBodyStream = createParamDecorator((_data: unknown, context: ExecutionContext): StreamedBody => {
  const http = context.switchToHttp();
  const request = http.getRequest<IncomingMessage | { raw: IncomingMessage }>();
  const response = http.getResponse<ServerResponse | { raw: ServerResponse }>();
  const rawRequest = 'raw' in request ? request.raw : request;
  const rawResponse = 'raw' in response ? response.raw : response;
  return {
    contentType: rawRequest.headers['content-type'],
    stream: rawRequest,
    closeConnection: () => {
      if (!rawResponse.headersSent) rawResponse.setHeader('Connection', 'close');
    },
  };
});
