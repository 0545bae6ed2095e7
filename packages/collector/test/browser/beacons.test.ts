/**
 * Real Chromium beacons pass every check of the ingest endpoint: the pixel's script tag on a
 * shop page over HTTPS (a throwaway certificate, as in the pixel's browser tests) posts to the
 * real collector on a sibling subdomain, on a real SQLite file. The browser's own headers
 * (`Sec-Fetch-*`, its User-Agent) are what the collector checks; nothing is set by hand except,
 * in the first test, the User-Agent's `HeadlessChrome` token, which a person's Chrome does not
 * send (`isbot` lists headless browsers, so headless automation as it is gets held: second test).
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { launchBrowser } from '@pruuv/testkit/browser';
import { makeTestCertificate } from '@pruuv/testkit/tls';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_IDS } from '@pruuv/sender';
import { createApp } from '../../src/http/app.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import type { Client } from '../../src/store/types.js';
import { tempDir } from '../helpers/harness.js';

const SHOP = 'www.shop.example';
const COLLECT = 'collect.shop.example';

let dir: ReturnType<typeof tempDir>;
let store: SqliteStore;
let server: Server;
let port: number;
let browser: Browser;
let client: Client;
/** The headers of every beacon that reached `/e`, in arrival order. */
const seen: Array<Record<string, string | string[] | undefined>> = [];

beforeAll(async () => {
  dir = tempDir();
  store = openSqliteStore(join(dir.dir, 'pruuv.db'));
  const app = createApp({ store });
  const cert = await makeTestCertificate([SHOP, COLLECT]);
  server = createServer(cert, (req, res) => {
    const host = (req.headers.host ?? '').split(':')[0];
    if (host === SHOP) {
      // The shop's page: the script tag from the collector, as the README's snippet has it.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Shop</title><script src="https://${COLLECT}:${port}/s.js" data-site="${client.site_key}"></script>`);
      return;
    }
    if (req.method === 'POST' && req.url === '/e') seen.push({ ...req.headers });
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  client = await store.clients.create({ name: 'Shop', origins: [`https://${SHOP}:${port}`] });
  await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
  browser = await launchBrowser([`--host-resolver-rules=MAP ${SHOP} 127.0.0.1, MAP ${COLLECT} 127.0.0.1`]);
});
afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await store?.close();
  dir?.cleanup();
});

/** Opens the shop's landing page, calls `track('lead')` and resolves with the event id once the collector stored it. */
async function trackInBrowser(userAgent: string | undefined, reference: string): Promise<string> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, ...(userAgent !== undefined ? { userAgent } : {}) });
  try {
    const page = await context.newPage();
    await page.goto(`https://${SHOP}:${port}/?gclid=Cj0KCQ-real-${reference}`);
    await page.waitForFunction(() => typeof (window as unknown as { Pruuv?: { track?: unknown } }).Pruuv?.track === 'function');
    const { event_id } = await page.evaluate(
      (ref) => (window as unknown as { Pruuv: { track(s: string, p: object): Promise<{ event_id: string }> } }).Pruuv.track('lead', { reference: ref }),
      reference,
    );
    await expect.poll(async () => (await store.events.get(event_id)) !== undefined, { timeout: 10_000 }).toBe(true);
    return event_id;
  } finally {
    await context.close();
  }
}

describe('beacons of a real Chromium over HTTPS', () => {
  it('pass every check: stored with their click ID, not held, their sends pending', async () => {
    const headless = await browser.newContext();
    const ua = await (await headless.newPage()).evaluate(() => navigator.userAgent);
    await headless.close();
    const id = await trackInBrowser(ua.replace('HeadlessChrome/', 'Chrome/'), 'person');
    const event = (await store.events.get(id))!;
    expect(event.held_reason).toBeUndefined();
    expect(event.clicks.gclid?.value).toBe('Cj0KCQ-real-person');
    expect((await store.outbox.forEvent(id)).map((r) => r.status)).toEqual(PLATFORM_IDS.map(() => 'pending'));
    // What the browser sent by itself: a script can neither set nor remove these.
    expect(seen.at(-1)).toMatchObject({ 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' });
    expect(await store.events.heldCounts()).toEqual([]);
  });

  it('hold headless Chrome as it announces itself (HeadlessChrome): a bot by its own User-Agent', async () => {
    const id = await trackInBrowser(undefined, 'automation');
    expect((await store.events.get(id))?.held_reason).toBe('bot_user_agent');
    expect((await store.outbox.forEvent(id)).map((r) => r.status)).toEqual(PLATFORM_IDS.map(() => 'held'));
  });
});
