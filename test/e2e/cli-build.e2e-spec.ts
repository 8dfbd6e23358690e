import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Plain JavaScript: it runs before anything is compiled (package.json's prestart, precli, ...).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script outside the TypeScript project, typed here
const { buildIfChanged } = require('../../scripts/build-if-changed.js') as { buildIfChanged: (root: string) => number };

/** `npm run cli` / `npm start` build dist/ only when a source or build setting changed. */
describe('scripts/build-if-changed.js', () => {
  let root: string;
  const builds = () => readFileSync(join(root, 'builds.log'), 'utf8').split('\n').filter(Boolean).length;
  /** A file's modification time, moved past the last build's stamp. */
  const touch = (file: string) => {
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(root, file), later, later);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'gw-build-'));
    mkdirSync(join(root, 'src', 'cli'), { recursive: true });
    mkdirSync(join(root, 'node_modules', '.bin'), { recursive: true });
    writeFileSync(join(root, 'src', 'cli', 'commands.ts'), 'export {};\n');
    writeFileSync(join(root, 'package.json'), '{}\n');
    writeFileSync(join(root, 'builds.log'), '');
    // A stand-in for `nest build`: records the call, makes dist/, fails when asked to.
    const nest = join(root, 'node_modules', '.bin', 'nest');
    writeFileSync(nest, '#!/bin/sh\necho build >> builds.log\nmkdir -p dist\n[ ! -f fail ]\n');
    chmodSync(nest, 0o755);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('builds the first time, then not again until a source changes', () => {
    expect(buildIfChanged(root)).toBe(0);
    expect(builds()).toBe(1);
    expect(buildIfChanged(root)).toBe(0);
    expect(buildIfChanged(root)).toBe(0);
    expect(builds()).toBe(1);

    touch('src/cli/commands.ts');
    expect(buildIfChanged(root)).toBe(0);
    expect(builds()).toBe(2);
  });

  it('a new or removed source file, or a changed build setting, rebuilds', () => {
    buildIfChanged(root);
    writeFileSync(join(root, 'src', 'cli', 'extra.ts'), 'export {};\n');
    touch('src/cli/extra.ts');
    touch('src/cli');
    buildIfChanged(root);
    expect(builds()).toBe(2);

    rmSync(join(root, 'src', 'cli', 'extra.ts'));
    touch('src/cli');
    buildIfChanged(root);
    expect(builds()).toBe(3);

    touch('package.json');
    buildIfChanged(root);
    expect(builds()).toBe(4);
  });

  it('a failed build exits non-zero and is tried again next time', () => {
    writeFileSync(join(root, 'fail'), '');
    expect(buildIfChanged(root)).not.toBe(0);
    rmSync(join(root, 'fail'));
    expect(buildIfChanged(root)).toBe(0);
    expect(buildIfChanged(root)).toBe(0);
    expect(builds()).toBe(2);
  });
});
