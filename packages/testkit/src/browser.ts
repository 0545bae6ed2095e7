/**
 * The test files' side of the test browser: launches the browser that
 * `@pruuv/testkit/chromium-setup` prepared for this run.
 */
import { inject } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchTestBrowser, type TestBrowser } from './chromium.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The browser prepared by `@pruuv/testkit/chromium-setup`. */
    pruuvBrowser: TestBrowser;
  }
}

/**
 * Launches this run's Chromium headless with the project's flags and `args`.
 * Throws when the project has no `@pruuv/testkit/chromium-setup` global setup.
 */
export function launchBrowser(args: readonly string[] = []): Promise<Browser> {
  const browser = inject('pruuvBrowser');
  if (!browser) {
    throw new Error("No test browser: add '@pruuv/testkit/chromium-setup' to this project's test.globalSetup");
  }
  return launchTestBrowser(browser, args);
}
