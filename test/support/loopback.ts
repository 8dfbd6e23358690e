import { createServer } from 'node:net';

let refusing: Promise<string> | undefined;

/**
 * A ws:// URL on loopback where nothing listens (a port the OS handed out and that was closed
 * again): Baileys' connection attempts there fail at once with ECONNREFUSED, and no traffic
 * leaves the machine.
 */
export function refusingWebSocketUrl(): Promise<string> {
  refusing ??= new Promise<string>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(`ws://127.0.0.1:${port}/ws/chat`));
    });
  });
  return refusing;
}
