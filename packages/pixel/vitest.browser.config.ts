import { defineProject } from 'vitest/config';

// Browser tests: real Debian Chromium driven by playwright-core against the
// built dist/pruuv.min.js (run `npm run build` first; `npm test` does).
export default defineProject({
  test: {
    name: 'pixel-browser',
    environment: 'node',
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
