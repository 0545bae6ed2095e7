/**
 * Vitest global setup for test projects that drive a browser: prepares the
 * test browser once per run (not once per worker) and hands it to the test
 * files, which launch it with `launchBrowser()` from `@pruuv/testkit/browser`.
 * Add it to a project's `test.globalSetup`.
 */
import type { TestProject } from 'vitest/node';
import type {} from './browser.js';
import { prepareTestBrowser } from './chromium.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { browser, cleanup } = await prepareTestBrowser();
  project.provide('pruuvBrowser', browser);
  return cleanup;
}
