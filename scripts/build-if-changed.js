#!/usr/bin/env node
// `npm start`, `npm run cli` and the other entry points build dist/ first, but only when a source
// or build setting changed since the last build (a rebuild costs seconds on every CLI call).
// The last successful build leaves dist/.build-stamp; anything newer under src/ or in the files
// below means dist/ is out of date.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, utimesSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const INPUTS = ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json'];
const STAMP = join('dist', '.build-stamp');

function newestChange(path) {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  // A directory's own mtime moves when a file in it is added, removed or renamed.
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestChange(join(path, entry))), stats.mtimeMs);
}

function isBuildCurrent(root) {
  const stamp = join(root, STAMP);
  if (!existsSync(stamp)) return false;
  const builtAt = statSync(stamp).mtimeMs;
  return INPUTS.every((input) => newestChange(join(root, input)) <= builtAt);
}

function buildIfChanged(root) {
  if (isBuildCurrent(root)) return 0;
  const startedAt = new Date();
  const build = spawnSync(join(root, 'node_modules', '.bin', 'nest'), ['build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (build.status !== 0) return build.status ?? 1;
  // Stamped with the time the build started: a source saved during the build triggers the next one.
  writeFileSync(join(root, STAMP), `${startedAt.toISOString()}\n`);
  utimesSync(join(root, STAMP), startedAt, startedAt);
  return 0;
}

module.exports = { isBuildCurrent, buildIfChanged };

if (require.main === module) process.exit(buildIfChanged(process.cwd()));
