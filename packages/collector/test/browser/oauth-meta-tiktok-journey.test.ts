/**
 * Connect with OAuth for Meta and TikTok in a real Chromium, against a real collector on a real
 * SQLite file and the strict fake authorization servers (oauth.md §5.4): sign in, press Connect,
 * consent on the fake (it answers the 302 at once), pick from the discovered lists, save, send a
 * test event, run a send pass that uses the OAuth token, have the token killed or revoked at the
 * platform, see the paused connection and the warning, Reconnect, and see the waiting
 * conversions delivered exactly once.
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_VERSIONS, parseKeyRing } from '@pruuv/sender';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { launchBrowser } from '@pruuv/testkit/browser';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSender, type Sender } from '../../src/send/sender.js';
import type { Client, Stage } from '../../src/store/types.js';
import { addUser, PASSWORD } from '../dashboard/helpers.js';
import { startCollector, tempDir, testClock, type Running } from '../helpers/harness.js';

const NOW = '2026-11-20T10:00:00.000Z';
let dir: ReturnType<typeof tempDir>;
let run: Running;
let fakes: FakePlatforms;
let browser: Browser;
let sender: Sender;
let client: Client;
let lead: Stage;
let page: Page;
/** Console errors of the page: a form-action refusal of the redirect to a consent page would show here. */
const consoleErrors: string[] = [];
const clock = testClock(NOW);

beforeAll(async () => {
  dir = tempDir();
  fakes = await startFakePlatforms({ now: clock.now });
  const keyRing = parseKeyRing(Buffer.alloc(32, 5).toString('base64'));
  const send = { keyRing, urls: fakes.urls, versions: { ...DEFAULT_VERSIONS } };
  run = await startCollector({
    dbFile: `${dir.dir}/pruuv.db`,
    clock,
    app: {
      send,
      oauth: {
        platforms: {
          meta: {
            app: { clientId: FAKE_DEFAULTS.metaOAuth.app.id, clientSecret: FAKE_DEFAULTS.metaOAuth.app.secret, extra: { PRUUV_META_APP_CONFIG_ID: '900000000000001' } },
            urls: { authorize: fakes.urls.metaOAuth, meta: fakes.urls.meta },
          },
          tiktok: {
            app: { clientId: FAKE_DEFAULTS.tiktokOAuth.app.id, clientSecret: FAKE_DEFAULTS.tiktokOAuth.app.secret },
            urls: { authorize: fakes.urls.tiktokOAuth, tiktok: fakes.urls.tiktok },
          },
        },
      },
    },
  });
  fakes.oauth.allowRedirectUri('meta', `${run.url}/oauth/meta/callback`);
  fakes.oauth.allowRedirectUri('tiktok', `${run.url}/oauth/tiktok/callback`);
  sender = await createSender({ store: run.store, config: { ...send, cron: '0 3 * * *' }, now: clock.now, random: () => 0.5, timeoutMs: 2000 });
  client = await run.store.clients.create({ name: 'Acme Roofing', origins: ['https://acme-roofing.example'] });
  lead = (await run.store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
  await addUser(run.store, 'ada@agency.example', 'admin', undefined, clock.now());
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  await page.goto(`${run.url}/dashboard/sign-in`);
  await page.getByLabel('Email').fill('ada@agency.example');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${run.url}/dashboard`);
});
afterAll(async () => {
  await browser?.close();
  await run?.close();
  await fakes?.close();
  dir?.cleanup();
});

function admit(n: number, platform: 'meta' | 'tiktok'): void {
  const ts = new Date(clock.now().getTime() - 3_600_000).toISOString();
  const clicks = platform === 'meta' ? { fbclid: { value: `IwAR-journey-${n}`, ts } } : { ttclid: { value: `E.C.P.journey-${n}`, ts } };
  const event = {
    id: randomUUID(), client_id: client.id, stage_id: lead.id, stage_key: 'lead', source: 'webhook' as const, reference: `crm-${platform}-${n}`,
    consent: 'granted' as const, clicks, utm: {}, demographics: {},
  };
  expect(run.store.events.admitNow(event, clock.now()).status).toBe('stored');
}

/** Connect (or Reconnect) → the fake's consent → the picker: picks each label in turn, then Save. */
async function connectThroughPicker(platform: 'meta' | 'tiktok', labels: string[]): Promise<void> {
  await page.goto(`${run.url}/dashboard/connections?client=${client.id}`);
  await page.locator(`#oauth-connect-${platform}`).click();
  await page.waitForURL(new RegExp(`/dashboard/oauth/${platform}/pick\\?`));
  for (const label of labels) {
    await page.getByLabel(label).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForLoadState();
  }
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(new RegExp(`/dashboard/connections\\?client=${client.id}`));
}

const journeys = [
  {
    platform: 'meta' as const,
    name: 'Meta',
    labels: ['Client Shop web dataset 1234567890123456'],
    counted: 'meta' as const,
    kill: () => fakes.oauth.killMetaTokens(463),
    reason: 'Session has expired',
  },
  {
    platform: 'tiktok' as const,
    name: 'TikTok',
    labels: ['Client Shop advertiser 7012345678901234567', 'Client Shop web pixel code CFAKEPIXEL0000000000'],
    counted: 'tiktok' as const,
    kill: () => fakes.oauth.revokeTikTokTokens(),
    reason: 'revoked',
  },
];

for (const j of journeys) {
  describe(`Connect ${j.name} in a browser`, () => {
    it('connects through consent on the fake and the picker, and saves the pick', async () => {
      await connectThroughPicker(j.platform, j.labels);
      const section = page.locator(`#platform-${j.platform}`);
      expect(await section.textContent()).toContain('Connected with OAuth');
      const connection = await run.store.connections.get(client.id, j.platform);
      expect(connection?.status).toBe('active');
      expect(consoleErrors).toEqual([]);
    });

    it('sends a test event with the OAuth token', async () => {
      const section = page.locator(`#platform-${j.platform}`);
      await section.getByLabel('Test event code').fill('TEST12345');
      await section.getByRole('button', { name: 'Send test event' }).click();
      await page.waitForLoadState();
      expect(await page.locator(`#platform-${j.platform}`).textContent()).toContain('accepted the test event');
    });

    it('runs a send pass with the OAuth token, then pauses when the platform kills the token, and delivers the waiting conversions once after Reconnect', async () => {
      const before = new Set(fakes.counted(j.counted).keys());
      const fresh = (): Array<[string, number]> => [...fakes.counted(j.counted).entries()].filter(([key]) => !before.has(key));
      admit(1, j.platform);
      await sender.runPass({ retriesOnly: false });
      expect(fresh().map(([, n]) => n)).toEqual([1]);
      j.kill();
      admit(2, j.platform);
      admit(3, j.platform);
      await sender.runPass({ retriesOnly: false });
      expect((await run.store.connections.get(client.id, j.platform))?.status).toBe('paused');
      await page.goto(`${run.url}/dashboard/connections?client=${client.id}`);
      const section = await page.locator(`#platform-${j.platform}`).textContent();
      expect(section).toContain(j.reason);
      expect(section).toContain('2 conversions wait.');
      expect(await page.locator(`#oauth-connect-${j.platform}`).textContent()).toContain(`Reconnect ${j.name}`);
      await page.goto(`${run.url}/dashboard`);
      const overview = (await page.locator('main').textContent()) ?? '';
      expect(overview).toMatch(new RegExp(`Acme Roofing[^.]*${j.name}[^.]*is paused: [^]*${j.reason}`));
      await connectThroughPicker(j.platform, j.labels);
      expect((await run.store.connections.get(client.id, j.platform))?.status).toBe('active');
      await sender.runPass({ retriesOnly: false });
      await sender.runPass({ retriesOnly: false });
      // The three conversions, each received once: none lost while paused, none sent twice.
      expect(fresh().map(([, n]) => n)).toEqual([1, 1, 1]);
      expect(consoleErrors).toEqual([]);
    });
  });
}
