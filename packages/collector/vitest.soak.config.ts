import { defineConfig } from 'vitest/config';

// The proof suite (`npm run test:soak` at the root, run by `.ci/run` after `npm test`):
// the whole loop in real Chromium, faults with real processes and SIGKILL, hostile input
// and a memory run, with the heavier counts and times `npm test` leaves out. Its own
// config, not a project of vitest.workspace.ts, so `npm test` stays fast. Files run one
// at a time: they measure time and memory on a shared 2-core machine. PostgreSQL and
// Chromium come from the testkit's global setups, as in the other projects.
export default defineConfig({
  test: {
    name: 'collector-soak',
    environment: 'node',
    include: ['soak/**/*.test.ts'],
    globalSetup: ['@pruuv/testkit/chromium-setup', '@pruuv/testkit/postgres-setup'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
