/**
 * One run covers unit specs (src/**\/*.spec.ts) and end-to-end specs (test/**\/*.e2e-spec.ts).
 * The e2e specs need PostgreSQL: DATABASE_URL when set, else an embedded server (global-setup).
 * The Swagger plugin runs here as in `nest build`, so the OpenAPI document under test is the served one.
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
        diagnostics: { ignoreCodes: [151002] },
        astTransformers: {
          before: ['<rootDir>/test/support/swagger-plugin-transformer.js'],
        },
      },
    ],
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30000,
};
