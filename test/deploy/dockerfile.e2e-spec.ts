import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * There is no Docker engine (nor hadolint) on these machines: this reads the Dockerfile and checks
 * what a review would: multi-stage, production-only dependencies, non-root, node as PID 1 in exec
 * form, a HEALTHCHECK on /healthz, a small pinned base, and a .dockerignore that keeps secrets and
 * bulk out of the build context.
 */
const ROOT = join(__dirname, '..', '..');

interface Instruction {
  keyword: string;
  args: string;
}

function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${current}${line}`.trim());
    current = '';
  }
  return logical.map((line) => {
    const [keyword] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: line.slice(keyword.length).trim() };
  });
}

/** The instructions of each stage, keyed by stage name (or index). */
function stages(instructions: Instruction[]): { name: string; from: string; body: Instruction[] }[] {
  const result: { name: string; from: string; body: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args)!;
      result.push({ from: match[1], name: match[2] ?? String(result.length), body: [] });
    } else if (result.length > 0) {
      result[result.length - 1].body.push(instruction);
    }
  }
  return result;
}

describe('Dockerfile', () => {
  const instructions = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const all = stages(instructions);
  const final = all[all.length - 1];
  const args = Object.fromEntries(instructions.filter((i) => i.keyword === 'ARG' && i.args.includes('=')).map((i) => i.args.split('=', 2) as [string, string]));
  const resolve = (image: string) => image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a, b) => args[a ?? b] ?? '');
  const inFinal = (keyword: string) => final.body.filter((i) => i.keyword === keyword);

  it('is multi-stage: a build stage compiles, the final stage copies dist/ from it', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    const build = all.find((stage) => stage !== final && stage.body.some((i) => i.keyword === 'RUN' && /nest build|npm run build/.test(i.args)));
    expect(build).toBeDefined();
    expect(inFinal('COPY').some((i) => new RegExp(`--from=${build!.name}\\s+/app/dist\\s+\\./dist`).test(i.args))).toBe(true);
  });

  it('installs only production dependencies in the final stage, from the lock file, with no install scripts', () => {
    const runs = inFinal('RUN').map((i) => i.args);
    expect(runs.some((run) => /\bnpm ci\b.*--omit=dev/.test(run))).toBe(true);
    expect(runs.some((run) => /\bnpm (install|i)\b/.test(run))).toBe(false);
    for (const run of [...runs, ...all.flatMap((stage) => stage.body.filter((i) => i.keyword === 'RUN').map((i) => i.args))]) {
      if (/\bnpm ci\b/.test(run)) expect(run).toContain('--ignore-scripts');
    }
    expect(inFinal('COPY').some((i) => /package-lock\.json/.test(i.args))).toBe(true);
  });

  it('uses a small, pinned Node 20 base image for every stage', () => {
    for (const stage of all) {
      const image = resolve(stage.from);
      expect(image).toMatch(/^node:20(\.\d+){0,2}-(bookworm-slim|alpine[\d.]*)$/);
      expect(image).not.toMatch(/:latest$/);
    }
  });

  it('runs as a non-root numeric user', () => {
    const users = inFinal('USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1];
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(user.split(':')[0]).not.toBe('0');
    // USER comes before CMD, so the process never starts as root.
    const order = final.body.map((i) => i.keyword);
    expect(order.lastIndexOf('USER')).toBeLessThan(order.lastIndexOf('CMD'));
  });

  it('starts `node dist/main.js` directly as PID 1 (exec form: no shell, no npm in between to swallow SIGTERM)', () => {
    const cmd = inFinal('CMD');
    expect(cmd).toHaveLength(1);
    expect(JSON.parse(cmd[0].args)).toEqual(['node', 'dist/main.js']);
    const entrypoints = inFinal('ENTRYPOINT');
    for (const entrypoint of entrypoints) expect(JSON.parse(entrypoint.args)[0]).toMatch(/tini|dumb-init/);
    const stopSignal = inFinal('STOPSIGNAL').map((i) => i.args);
    expect(stopSignal.every((signal) => signal === 'SIGTERM')).toBe(true);
  });

  it('has a HEALTHCHECK against /healthz in exec form', () => {
    const [healthcheck] = inFinal('HEALTHCHECK');
    expect(healthcheck).toBeDefined();
    const command = healthcheck.args.slice(healthcheck.args.indexOf('CMD') + 3).trim();
    const argv = JSON.parse(command);
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).toContain('/healthz');
    expect(healthcheck.args).toMatch(/--timeout=\d+s/);
  });

  it('exposes the default PORT and sets no secret in the image', () => {
    expect(inFinal('EXPOSE').map((i) => i.args)).toContain('3000');
    for (const env of instructions.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG')) {
      expect(env.args).not.toMatch(/DATABASE_URL|CURSOR_SECRET|REDIS_URL|PASSWORD|TOKEN/i);
    }
  });

  it('copies only files that exist, and compiles with the same command as `npm run build`', () => {
    for (const copy of all.flatMap((stage) => stage.body.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from')))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) expect({ source, exists: existsSync(join(ROOT, source)) }).toEqual({ source, exists: true });
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.build).toBe('nest build');
  });
});

describe('.dockerignore', () => {
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  it('keeps secrets, local data, dependencies and build output out of the build context', () => {
    expect(ignored).toEqual(expect.arrayContaining(['.git', '.env', '.env.*', '.data', 'node_modules', 'dist', 'test', 'coverage']));
  });

  it('does not exclude what the Dockerfile copies', () => {
    for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'src']) {
      expect(ignored).not.toContain(needed);
    }
  });
});
