/**
 * Shared set-up of the browser test files: one test server and one Chromium
 * per file, a fresh browser context per test, and small typed helpers to drive
 * the global `Pruuv` of the built script.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import type { Attribution, InitOptions, TrackProps, TrackResult } from '../../src/types.js';
import { launchChromium } from './chromium.js';
import { startServer, type TestServer } from './server.js';

/** The global API of the script-tag build (pixel contract). */
export interface PruuvApi {
  init(options: InitOptions): void;
  track(stage: string, props?: TrackProps): Promise<TrackResult>;
  getAttribution(): Attribution;
  consent(granted: boolean): void;
}

/** `window` as the pages under test see it; use inside `page.evaluate` callbacks. */
export type PruuvWindow = Window & { Pruuv: PruuvApi; [key: string]: unknown };

/**
 * A UUID with the RFC 9562 version-4 and variant bits. The collector validates
 * `event_id` with zod's `z.uuid()`, which checks both, so anything looser would
 * be rejected at ingest.
 */
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** ISO 8601 UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Lowercase hex SHA-256, computed in Node to check the browser's hashes independently. */
export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Parses a 4-segment Meta cookie value (`fb.{index}.{ms}.{value}`, platforms.md §1.8). */
export function parseFb(value: string): { index: number; ms: number; value: string } {
  const m = /^fb\.(\d+)\.(\d{13})\.([^.]+)$/.exec(value);
  if (!m) throw new Error(`not a 4-segment fb cookie value: ${value}`);
  return { index: Number(m[1]), ms: Number(m[2]), value: m[3] ?? '' };
}

export interface Suite {
  readonly server: TestServer;
  readonly browser: Browser;
  /** A fresh context (empty cookies and storage) with one page. Closed after the test. */
  open(): Promise<{ context: BrowserContext; page: Page }>;
}

/**
 * Registers the file's hooks: the server and browser start once per file,
 * contexts close and the server forgets its beacons after each test.
 */
export function useSuite(): Suite {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    server?.reset();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started: call useSuite() at the top of the file`);
    return value;
  };

  return {
    get server() {
      return need(server, 'test server');
    },
    get browser() {
      return need(browser, 'browser');
    },
    async open() {
      // The secure test hosts use a throwaway self-signed certificate.
      const context = await need(browser, 'browser').newContext({ ignoreHTTPSErrors: true });
      contexts.push(context);
      // Fail a missing beacon or field fast, well inside the 30 s test timeout.
      context.setDefaultTimeout(8_000);
      const page = await context.newPage();
      // Surface pixel errors in the test output instead of losing them.
      page.on('pageerror', (err) => console.error(`[page error] ${page.url()}: ${err.message}`));
      return { context, page };
    },
  };
}

/** The context's cookies by name (the tests never set two cookies with one name). */
export async function cookieJar(context: BrowserContext): Promise<Record<string, Cookie>> {
  const jar: Record<string, Cookie> = {};
  for (const c of await context.cookies()) jar[c.name] = c;
  return jar;
}

/** Every localStorage entry of the page's origin. */
export function localStore(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const out: Record<string, string> = {};
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (key !== null) out[key] = localStorage.getItem(key) ?? '';
    }
    return out;
  });
}

/** The pixel's localStorage mirror record (`_pruuv_mirror`: mirrored values by cookie name), `{}` when absent. */
export async function mirrorRecord(page: Page): Promise<Record<string, string>> {
  const json = (await localStore(page))._pruuv_mirror;
  return json === undefined ? {} : (JSON.parse(json) as Record<string, string>);
}

/** Calls `Pruuv.track` in the page and returns its result. */
export function track(page: Page, stage: string, props?: TrackProps): Promise<TrackResult> {
  return page.evaluate(([s, p]) => (window as unknown as PruuvWindow).Pruuv.track(s, p), [stage, props] as const);
}

/** Calls `Pruuv.getAttribution` in the page. */
export function attribution(page: Page): Promise<Attribution> {
  return page.evaluate(() => (window as unknown as PruuvWindow).Pruuv.getAttribution());
}

/** Resolves after `ms`: only to give a beacon that must NOT be sent a chance to show up. */
export function settle(ms = 300): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
