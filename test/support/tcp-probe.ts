import { spawnSync } from 'node:child_process';

/**
 * Whether something accepts TCP connections at host:port, answered synchronously (in a child
 * process) so a test file can decide at load time whether a suite that needs the service runs.
 */
export function acceptsConnectionsSync(host: string, port: number, timeoutMs = 1500): boolean {
  const probe = `const s=require('node:net').connect(${port},${JSON.stringify(host)});s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));`;
  return spawnSync(process.execPath, ['-e', probe], { timeout: timeoutMs }).status === 0;
}
