import { defineProject } from 'vitest/config';

// Browser tests: Chromium's headless shell from npm (@sparticuz/chromium,
// decompressed once per run by the testkit's global setup; PRUUV_CHROMIUM
// points at another build), driven by playwright-core against the built
// dist/pruuv.min.js (run `npm run build` first; `npm test` does).
export default defineProject({
  test: {
    name: 'pixel-browser',
    environment: 'node',
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['@pruuv/testkit/chromium-setup'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
