// got and its dependencies ship as ESM only; jest runs CommonJS, so swc transforms them too.
const esmOnly = [
  'got', '@sindresorhus', '@szmarczak', 'cacheable-lookup', 'cacheable-request', 'decompress-response',
  'form-data-encoder', 'http2-wrapper', 'lowercase-keys', 'mimic-response', 'normalize-url', 'p-cancelable',
  'responselike', 'keyv', 'byte-counter', 'chunk-data', 'type-fest', 'is-stream', 'get-stream', 'http-cache-semantics',
  '@keyv', 'quick-lru', 'resolve-alpn', 'uint8array-extras', '@sec-ant',
  // GraphQL Code Generator's, for the test that regenerates the SDK's documents (sdk/codegen).
  'auto-bind',
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/sdk', '<rootDir>/examples', '<rootDir>/console'].filter((p) =>
    require('fs').existsSync(p.replace('<rootDir>', __dirname)),
  ),
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  // The SDK workspace by name (examples import it so), from its sources rather than its build.
  moduleNameMapper: { '^cms-webhooks-sdk$': '<rootDir>/sdk/index.ts' },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // Hooks included: starting an app on a fresh database (its migrations) took over
  // 30 s when other suites kept both cores busy. A hung test still fails, a minute later.
  testTimeout: 60000,
  maxWorkers: 2,
  // Workers hold 200-400 MB by the end of a run, and on small VMs handing that memory back to
  // the kernel takes longer than jest's default 500 ms: the 'failed to exit gracefully' warning
  // appeared with no handle left open. Give the exit the time it really takes.
  workerGracefulExitTimeout: 3000,
};
