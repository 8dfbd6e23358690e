import { createServer, request, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { drainHttpServer } from './graceful-shutdown';

/** A loopback server whose handler answers when the test says so. */
async function serverWithSlowRoute(): Promise<{ server: Server; port: number; release: () => void }> {
  let release: () => void = () => undefined;
  const server = createServer((req, res) => {
    if (req.url === '/slow') release = () => res.end('slow done');
    else res.end('fast');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, release: () => release() };
}

function get(port: number, path: string, agent?: import('node:http').Agent): Promise<{ status?: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (error) => resolve({ body, error: error.message }));
    });
    req.on('error', (error) => resolve({ body: '', error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end();
  });
}

describe('drainHttpServer', () => {
  it('stops accepting, lets an in-flight request finish, closes idle keep-alive connections, and resolves', async () => {
    const { server, port, release } = await serverWithSlowRoute();
    const agent = new (await import('node:http')).Agent({ keepAlive: true });
    expect((await get(port, '/fast', agent)).body).toBe('fast'); // leaves an idle keep-alive connection
    const slow = get(port, '/slow');
    await new Promise((resolve) => setTimeout(resolve, 50));

    const drained = drainHttpServer(server, 5000);
    expect((await get(port, '/fast')).error).toBe('ECONNREFUSED');
    release();
    expect(await slow).toEqual({ status: 200, body: 'slow done' });
    await expect(drained).resolves.toBe(0);
    agent.destroy();
  });

  it('cuts connections still busy when the budget is spent', async () => {
    const { server, port } = await serverWithSlowRoute();
    const slow = get(port, '/slow');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(drainHttpServer(server, 100)).resolves.toBe(1);
    expect((await slow).error).toBeDefined();
  });
});
