/**
 * The little of a response a guard or a controller may touch, the same on every HTTP platform
 * (Express' Response and Fastify's Reply both have these): never the platform's own type.
 */
export interface HttpResponse {
  status(code: number): unknown;
  header(name: string, value: string): unknown;
  /**
   * Sends bytes as they are, under the Content-Type set with `header` (a handler that takes the
   * response with `@Res()` answers this way). Bytes, not a string: Express would rewrite the
   * Content-Type of a string (it moves `charset` first).
   */
  send(body: Buffer): unknown;
}
