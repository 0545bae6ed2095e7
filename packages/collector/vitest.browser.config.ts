import { defineProject } from 'vitest/config';

// The dashboard in a real browser: Chromium's headless shell from npm (the
// testkit's global setup prepares it once per run; PRUUV_CHROMIUM points at
// another build) driven by playwright-core, against a real collector on a real
// database (SQLite, and PostgreSQL 17 from the testkit's global setup).
// Screenshots of the main pages are written to docs/screenshots/ for the README.
export default defineProject({
  test: {
    name: 'collector-browser',
    environment: 'node',
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['@pruuv/testkit/chromium-setup', '@pruuv/testkit/postgres-setup'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
