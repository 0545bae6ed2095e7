/**
 * The test projects of the monorepo. Vitest 4 no longer reads this file by
 * itself: `vitest.config.ts` imports it as `test.projects`.
 */
export default [
  'packages/pixel/vitest.config.ts',
  'packages/pixel/vitest.browser.config.ts',
  'packages/collector/vitest.config.ts',
  'packages/collector/vitest.browser.config.ts',
  'packages/sender/vitest.config.ts',
  'packages/fakes/vitest.config.ts',
  'packages/testkit/vitest.config.ts',
];
