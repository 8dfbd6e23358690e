import type { Express } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { expressPlatform } from './express-platform';

describe('expressPlatform', () => {
  it("has Node's server make requests and responses with the app's prototypes already, so Express never swaps them", async () => {
    const adapter = expressPlatform.createAdapter({ trustProxy: false });
    adapter.initHttpServer({});
    const app = adapter.getInstance<Express>();
    app.use((_request, response) => response.end());
    const server = adapter.getHttpServer() as Server;
    const prototypes: boolean[] = [];
    // Before Express' own listener: what Node's server made.
    server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
      prototypes.push(Object.getPrototypeOf(request) === app.request, Object.getPrototypeOf(response) === app.response);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const { port } = server.address() as AddressInfo;
      await (await fetch(`http://127.0.0.1:${port}/`)).text();
      expect(prototypes).toEqual([true, true]);
    } finally {
      await new Promise((done) => server.close(done));
    }
  });
});
