/**
 * What the `node:http` + `pg` baselines (bench/baseline/server.ts for chats,
 * bench/messages/baseline-server.ts for messages) share: the pool and the gateway's cursor codec
 * from the environment the harness sets, routing of `/keyset/...` and `/offset/...`, the page
 * answer (one row more than the page decides `nextCursor`) and the server's life as a forked child
 * (it reports `{ port }` over IPC and exits normally on disconnect, so a --cpu-prof profile gets written).
 */
import { createHash } from 'node:crypto';
import { createServer, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { CursorCodec } from '../../src/common/pagination/cursor-codec';

export type BaselineMode = 'keyset' | 'offset';

export interface BaselineRequest {
  mode: BaselineMode;
  /** The route's captures after the mode (session id, chat id, ...). */
  params: string[];
  query: URLSearchParams;
  /** 1..200, default 50, as the gateway clamps it. */
  limit: number;
}

export interface PageShape<Row, Item> {
  scope: string;
  /** The keyset of the page's last row, for the next cursor. */
  keyOf(row: Row): bigint[];
  toItem(row: Row): Item;
}

export const baselinePool = new Pool({ connectionString: process.env.BASELINE_DATABASE_URL, max: Number(process.env.BASELINE_POOL_MAX ?? 10) });

export const baselineCodec = new CursorCodec(
  createHash('sha256')
    .update(process.env.BASELINE_CURSOR_SECRET ?? '')
    .digest(),
);

function send(response: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  response.end(json);
}

/** The cursor a keyset request continues after, checked by the gateway's codec. */
export function keysetAfter(request: BaselineRequest, scope: string, parts: number): bigint[] | undefined {
  const cursor = request.query.get('cursor');
  return cursor ? baselineCodec.decode(scope, cursor, parts) : undefined;
}

/** `{ data, nextCursor }` from `limit + 1` rows: an offset for OFFSET pages, a signed cursor for keyset ones. */
export function pageBody<Row, Item>(request: BaselineRequest, rows: Row[], shape: PageShape<Row, Item>): { data: Item[]; nextCursor: string | null } {
  const hasMore = rows.length > request.limit;
  const page = hasMore ? rows.slice(0, request.limit) : rows;
  let nextCursor: string | null = null;
  if (hasMore && request.mode === 'offset') nextCursor = String(Number(request.query.get('offset') || 0) + request.limit);
  if (hasMore && request.mode === 'keyset') nextCursor = baselineCodec.encode(shape.scope, shape.keyOf(page[page.length - 1]));
  return { data: page.map((row) => shape.toItem(row)), nextCursor };
}

/** Serves `route` (its first capture the mode) with `answer`, until the harness disconnects. */
export function serveBaseline(route: RegExp, answer: (request: BaselineRequest) => Promise<unknown>): void {
  const server = createServer((request, response) => {
    const url = request.url ?? '/';
    const queryAt = url.indexOf('?');
    const match = route.exec(queryAt === -1 ? url : url.slice(0, queryAt));
    if (!match) return send(response, 404, { error: { code: 'not_found', message: 'route not found', details: {} } });
    const query = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
    const limit = Math.min(Math.max(Number(query.get('limit') || 50), 1), 200);
    answer({ mode: match[1] as BaselineMode, params: match.slice(2), query, limit }).then(
      (body) => send(response, 200, body),
      (error: Error) => send(response, 500, { error: { code: 'internal', message: error.message, details: {} } }),
    );
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('disconnect', () => {
    server.close();
    server.closeAllConnections();
    void baselinePool.end().finally(() => process.exit(0));
  });
}
