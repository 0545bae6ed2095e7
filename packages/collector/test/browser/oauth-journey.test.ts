/**
 * Connect Google with OAuth in a real Chromium, against a real collector on a
 * real SQLite file and the strict fake Google (consent page, token endpoint,
 * Ads discovery, Data Manager): sign in, press Connect, allow on the fake's
 * consent page, pick the account under its manager and the conversion action,
 * save, run a send pass with the OAuth token, revoke the grant at "Google",
 * see the paused connection and the overview's warning, Reconnect, and see the
 * waiting conversions delivered exactly once. Screenshots of the Connect
 * section and of the picker (to docs/screenshots/ with `npm run screenshots`).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { DEFAULT_VERSIONS, parseKeyRing } from '@pruuv/sender';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { launchBrowser } from '@pruuv/testkit/browser';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSender, type Sender } from '../../src/send/sender.js';
import type { Client, Stage } from '../../src/store/types.js';
import { addUser, PASSWORD } from '../dashboard/helpers.js';
import { startCollector, tempDir, testClock, type Running } from '../helpers/harness.js';

/** docs/screenshots/ with `PRUUV_SCREENSHOTS=update` (`npm run screenshots`), else a temporary directory. */
const SCREENSHOTS =
  process.env['PRUUV_SCREENSHOTS'] === 'update'
    ? fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url))
    : `${mkdtempSync(join(tmpdir(), 'pruuv-screenshots-'))}/`;
const NOW = '2026-03-02T10:00:00.000Z';
const CLIENT_SECRET = 'fake-client-secret-for-the-browser-test';

let dir: ReturnType<typeof tempDir>;
let run: Running;
let fakes: FakePlatforms;
let browser: Browser;
let sender: Sender;
let client: Client;
let lead: Stage;
const clock = testClock(NOW);

beforeAll(async () => {
  dir = tempDir();
  fakes = await startFakePlatforms({
    now: clock.now,
    google: { customers: ['1234567890'], conversionActions: ['987654321'], clientId: FAKE_DEFAULTS.google.clientId, clientSecret: CLIENT_SECRET, refreshTokens: [] },
  });
  // The consent page with Allow and Deny, which the browser clicks.
  fakes.googleOAuth.consent('page');
  const keyRing = parseKeyRing(Buffer.alloc(32, 5).toString('base64'));
  const send = { keyRing, urls: fakes.urls, versions: { ...DEFAULT_VERSIONS } };
  run = await startCollector({
    dbFile: `${dir.dir}/pruuv.db`,
    clock,
    app: {
      send,
      oauth: {
        platforms: {
          google: {
            app: { clientId: FAKE_DEFAULTS.google.clientId, clientSecret: CLIENT_SECRET },
            urls: { authorize: fakes.urls.googleAuthorize, token: fakes.urls.oauthToken, revoke: fakes.urls.googleRevoke, googleAds: fakes.urls.googleAds },
          },
        },
      },
    },
  });
  fakes.googleOAuth.registerRedirectUri(`${run.url}/oauth/google/callback`);
  sender = await createSender({ store: run.store, config: { ...send, cron: '0 3 * * *' }, now: clock.now, timeoutMs: 5000 });
  client = await run.store.clients.create({ name: 'Acme Dental', origins: ['https://www.acme-dental.example'] });
  lead = (await run.store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
  await addUser(run.store, 'ada@agency.example', 'admin', undefined, clock.now());
  browser = await launchBrowser();
  mkdirSync(SCREENSHOTS, { recursive: true });
});
afterAll(async () => {
  if (process.env['PRUUV_SCREENSHOTS'] !== 'update') rmSync(SCREENSHOTS, { recursive: true, force: true });
  await browser?.close();
  await run?.close();
  await fakes?.close();
  dir?.cleanup();
});

/** A conversion with a gclid, stored as the webhook would. */
function admit(n: number): void {
  const event = {
    id: randomUUID(), client_id: client.id, stage_id: lead.id, stage_key: 'lead', source: 'webhook' as const, reference: `crm-${n}`, consent: 'granted' as const,
    clicks: { gclid: { value: `Cj0KCQiA-browser-${n}`, ts: new Date(clock.now().getTime() - 3_600_000).toISOString() } }, utm: {}, demographics: {},
  };
  expect(run.store.events.admitNow(event, clock.now()).status).toBe('stored');
}

/** From the Connections page: Connect (or Reconnect), Allow on Google's page, pick, save. */
async function connectGoogle(page: Page, button: RegExp, screenshots: boolean): Promise<void> {
  await page.getByRole('button', { name: button }).click();
  // The fake Google consent page.
  await page.waitForURL((url) => url.pathname.endsWith('/o/oauth2/v2/auth'));
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('wants access to your Google Account');
  await page.getByRole('button', { name: 'Allow' }).click();
  // Back at the collector: the picker's first step.
  await page.waitForURL((url) => url.pathname === '/dashboard/oauth/google/pick');
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Connect Google for Acme Dental');
  await expect.poll(() => page.getByRole('radio').count()).toBe(3);
  if (screenshots) await page.screenshot({ path: `${SCREENSHOTS}oauth-discovery.png`, fullPage: true });
  await page.getByRole('radio', { name: /Client A \(123-456-7890\)/ }).check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('radio', { name: /Qualified lead \(import\)/ }).check();
  await page.getByRole('button', { name: 'Next' }).click();
  expect(await page.locator('#oauth-save').textContent()).toContain('Client A (123-456-7890) · Qualified lead (import) · through manager 111-000-0001');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL((url) => url.pathname === '/dashboard/connections');
  expect(await page.locator('#platform-google').textContent()).toContain('Saved; sending is active.');
}

describe('Connect Google in a browser', () => {
  let context: BrowserContext;
  let page: Page;

  it('signs in, connects Google through the consent page and the picker, and saves; screenshots', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-US' });
    page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${run.url}/dashboard/sign-in`);
    await page.getByLabel('Email').fill('ada@agency.example');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${run.url}/dashboard`);
    await page.goto(`${run.url}/dashboard/connections?client=${client.id}`);
    const section = page.locator('#platform-google');
    expect(await section.textContent()).toContain(`Redirect URI to register with the app: ${run.url}/oauth/google/callback`);
    await section.screenshot({ path: `${SCREENSHOTS}oauth-connect.png` });
    await connectGoogle(page, /^Connect with Google$/, true);
    expect(await page.locator('#token-health-google').textContent()).toContain('Connected with OAuth');
    // No console error: in particular no form-action refusal of the redirect to the consent page.
    expect(errors).toEqual([]);
  });

  it('sends with the OAuth token, pauses when the grant is revoked, and delivers the waiting conversions once after Reconnect', async () => {
    admit(1);
    await sender.runPass({ retriesOnly: false });
    expect([...fakes.counted('google').values()]).toEqual([1]);
    // The user removes Pruuv's access in their Google account; the access tokens die with the grant.
    fakes.googleOAuth.revoke();
    admit(2);
    admit(3);
    await sender.runPass({ retriesOnly: false });
    await page.goto(`${run.url}/dashboard`);
    const overview = await page.locator('main').textContent();
    expect(overview).toContain('Acme Dental: Google is paused');
    expect(overview).toContain('2 conversions wait');
    await page.goto(`${run.url}/dashboard/connections?client=${client.id}`);
    const section = await page.locator('#platform-google').textContent();
    expect(section).toContain('Paused');
    expect(section).toContain('invalid_grant');
    await connectGoogle(page, /^Reconnect Google$/, false);
    await sender.runPass({ retriesOnly: false });
    await sender.runPass({ retriesOnly: false });
    expect([...fakes.counted('google').values()]).toEqual([1, 1, 1]);
    await page.goto(`${run.url}/dashboard/connections?client=${client.id}`);
    expect(await page.locator('#platform-google').textContent()).not.toContain('Paused');
    await context.close();
  });
});
