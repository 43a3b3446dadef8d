import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (every package's and service's own tests, files in parallel) and `e2e`
 * (cross-service tests with real processes and sockets). Both run against real Postgres and
 * Redis, resolved once per run by the global setup, which also builds the migrated template
 * database each test database is cloned from (packages/testing/src/global-setup.ts).
 *
 * Tests that need a GPU are `*.gpu.test.ts` and run only with PW_GPU=1.
 */
const globalSetup = ['./packages/testing/src/global-setup.ts'];
const exclude = [...configDefaults.exclude, ...(process.env['PW_GPU'] === '1' ? [] : ['**/*.gpu.test.ts'])];

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/static/**/*.test.ts'],
          exclude,
          globalSetup,
          fileParallelism: true,
          // TensorFlow.js tests are slow on a 2-core machine.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'examples',
          include: ['test/examples/**/*.test.ts'],
          exclude,
          globalSetup,
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          exclude,
          globalSetup,
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          // The dashboard in Debian's Chromium against the in-process stack; needs the dashboard
          // built first (npm run test:browser and npm test build it).
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          exclude,
          globalSetup,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude,
          globalSetup,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
