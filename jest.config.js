/**
 * One run covers unit specs (src/**\/*.spec.ts) and end-to-end specs (test/**\/*.e2e-spec.ts).
 * The e2e specs need PostgreSQL: DATABASE_URL when set, else an embedded server (global-setup).
 * ts-jest transpiles each file on its own (isolatedModules), which keeps `import()` a real dynamic
 * import: with --experimental-vm-modules (see package.json) ESM-only packages such as baileys load
 * in tests exactly as in production. Types are checked by `tsc --noEmit` before the run.
 */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  testRegex: ['src/.*\\.spec\\.ts$', 'test/.*\\.e2e-spec\\.ts$'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        tsconfig: 'tsconfig.json',
      },
    ],
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // A bound for a stuck test, not a timing assertion: a test of a few seconds alone takes many times
  // that on a loaded machine (CI runners are shared), and must not fail for it.
  testTimeout: 120000,
};
