/**
 * Connect with Microsoft in a real Chromium, against a real collector on a real SQLite file and the
 * strict fake identity platform and Microsoft Advertising (microsoft-ads.md §7, §10): sign in, press
 * Connect, accept on the fake's consent page, pick the account and the offline goal, save, send a
 * test conversion from the connection (a made-up click Microsoft takes silently and counts nothing)
 * and read Microsoft's answer, then post a webhook conversion with an msclkid two hours old, run a
 * send pass, and see Microsoft's row in the conversion audit log (the test conversion not in it),
 * the fake having counted the real conversion once.
 */
import { randomBytes } from 'node:crypto';
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
const MS = FAKE_DEFAULTS.microsoft;
let dir: ReturnType<typeof tempDir>;
let run: Running;
let fakes: FakePlatforms;
let browser: Browser;
let sender: Sender;
let client: Client;
let lead: Stage;
let stageToken: string;
let page: Page;
/** Console errors of the page: a form-action refusal of the redirect to the consent page would show here. */
const consoleErrors: string[] = [];
const clock = testClock(NOW);
/** The click of the real conversion: the one click the fake knows, so any other is taken silently and not counted. */
const REAL_CLICK = randomBytes(16).toString('hex');

beforeAll(async () => {
  dir = tempDir();
  fakes = await startFakePlatforms({
    now: clock.now,
    microsoft: {
      customerId: MS.customerId,
      accounts: [{ id: MS.accountId, name: 'Contoso', number: MS.accountNumber }],
      goals: [{ id: MS.goalId, name: MS.goalName, accountId: MS.accountId, enhanced: true }],
      clientId: MS.clientId,
      clientSecret: MS.clientSecret,
      redirectUris: [],
      refreshTokens: [MS.refreshToken],
      developerToken: MS.developerToken,
      knownClicks: [{ id: REAL_CLICK, accountId: MS.accountId, clickedAt: new Date(Date.parse(NOW) - 2 * 3_600_000) }],
      // A UET tag on the account: Connect then asks the path third.
      uetTags: [{ id: MS.uetTagId, name: MS.uetTagName, accountId: MS.accountId, authKey: MS.uetTagToken }],
    },
  });
  const keyRing = parseKeyRing(Buffer.alloc(32, 7).toString('base64'));
  const app = { developer_token: MS.developerToken, client_id: MS.clientId, client_secret: MS.clientSecret };
  const send = { keyRing, urls: fakes.urls, versions: { ...DEFAULT_VERSIONS }, connectionDefaults: { microsoft: app } };
  run = await startCollector({
    dbFile: `${dir.dir}/pruuv.db`,
    clock,
    app: {
      send,
      oauth: {
        platforms: {
          microsoft: {
            app: { clientId: MS.clientId, clientSecret: MS.clientSecret, extra: { PRUUV_MICROSOFT_DEVELOPER_TOKEN: MS.developerToken } },
            urls: {
              authorize: fakes.urls.microsoftAuthorize,
              token: fakes.urls.microsoftToken,
              microsoftCustomer: fakes.urls.microsoftCustomer,
              microsoftCampaign: fakes.urls.microsoftCampaign,
            },
          },
        },
      },
    },
  });
  fakes.oauth.allowRedirectUri('microsoft', `${run.url}/oauth/microsoft/callback`);
  sender = await createSender({ store: run.store, config: { ...send, cron: '0 3 * * *' }, now: clock.now, random: () => 0.5, timeoutMs: 2000 });
  client = await run.store.clients.create({ name: 'Acme Roofing', origins: ['https://acme-roofing.example'] });
  const created = await run.store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
  lead = created.stage;
  stageToken = created.token;
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

describe('Connect Microsoft in a browser', () => {
  it('connects through the consent page on the fake and the picker, and saves account, goal and the enhanced flag', async () => {
    await page.goto(`${run.url}/dashboard/connections?client=${client.id}`);
    await page.locator('#oauth-connect-microsoft').click();
    // The fake identity platform's consent page, on its own origin.
    await page.waitForURL((url) => url.href.startsWith(fakes.urls.microsoftAuthorize));
    expect(await page.locator('h1').textContent()).toBe('Permissions requested');
    await page.locator('#accept').click();
    await page.waitForURL(/\/dashboard\/oauth\/microsoft\/pick\?/);
    expect(await page.locator('main').textContent()).toContain('Which Microsoft Advertising account receives the conversions?');
    await page.getByLabel(`Contoso (${MS.accountNumber})`).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForLoadState();
    expect(await page.locator('main').textContent()).toContain('enhanced conversions on');
    await page.getByLabel(MS.goalName).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForLoadState();
    // The account has a UET tag: the path comes third, offline conversions recommended.
    expect(await page.locator('main').textContent()).toContain(`UET Conversions API to ${MS.uetTagName}`);
    await page.getByLabel('Offline conversions (recommended)').check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForLoadState();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(new RegExp(`/dashboard/connections\\?client=${client.id}`));
    expect(await page.locator('#platform-microsoft').textContent()).toContain('Connected with OAuth');
    const connection = await run.store.connections.get(client.id, 'microsoft');
    expect(connection?.status).toBe('active');
    // `api`: the path's default (offline conversions), filled in on save.
    expect(connection?.settings).toEqual({
      customer_id: MS.customerId, account_id: MS.accountId, goal_name: MS.goalName, goal_id: MS.goalId, enhanced_conversions: true, api: 'offline-conversions',
    });
    expect(consoleErrors).toEqual([]);
  });

  it("sends a test conversion from the connection and shows Microsoft's answer; Microsoft counts nothing", async () => {
    await page.goto(`${run.url}/dashboard/connections?client=${client.id}`);
    const section = page.locator('#platform-microsoft');
    expect(await section.textContent()).toContain('a click ID that belongs to no ad click');
    await section.getByRole('button', { name: 'Send test event' }).click();
    const answer = page.locator('#test-answer-microsoft');
    await answer.waitFor();
    const text = (await answer.textContent()) ?? '';
    expect(text).toContain('Microsoft accepted the test conversion: the credentials, the account and the conversion goal were accepted.');
    expect(text).toContain('Accepted by Microsoft at upload');
    expect(text).toContain('HTTP status200');
    // What reached the fake: the connection's goal, a made-up click it took silently, no email or phone.
    const [apply] = fakes.requests('microsoftCampaign').filter((r) => r.path.endsWith('/OfflineConversions/Apply'));
    const item = (apply?.body as { OfflineConversions: Array<Record<string, unknown>> }).OfflineConversions[0];
    expect(Object.keys(item ?? {}).sort()).toEqual(['ConversionCurrencyCode', 'ConversionName', 'ConversionTime', 'ConversionValue', 'MicrosoftClickId']);
    expect(fakes.microsoft.silent()).toMatchObject([{ msclkid: item?.['MicrosoftClickId'], conversionName: MS.goalName, reason: 'NoMatchingClickFound' }]);
    expect(fakes.counted('microsoft').size).toBe(0);
    expect(consoleErrors).toEqual([]);
  });

  it('sends a webhook conversion with an msclkid older than an hour, shown in the audit log and counted once by the fake', async () => {
    const msclkid = REAL_CLICK;
    const res = await fetch(`${run.url}/api/webhooks/funnel/${lead.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stageToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        reference: 'crm-ms-1',
        msclkid,
        click_timestamp: new Date(clock.now().getTime() - 2 * 3_600_000).toISOString(),
        email: 'Jo.Smith+ads@Example.com',
        consent: 'granted',
      }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    await sender.runPass({ retriesOnly: false });
    expect([...fakes.counted('microsoft').values()]).toEqual([1]);
    const stored = fakes.microsoft.stored()[0]?.body;
    expect(stored).toMatchObject({ MicrosoftClickId: msclkid, ConversionName: MS.goalName, HashedEmailAddress: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // A second pass sends nothing more.
    await sender.runPass({ retriesOnly: false });
    expect([...fakes.counted('microsoft').values()]).toEqual([1]);
    // The audit log: the real conversion's row only; a test conversion is never recorded.
    await page.goto(`${run.url}/dashboard/sends?client=${client.id}&platform=microsoft`);
    const rows = page.locator('main table tbody tr', { hasText: 'microsoft' });
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('sent');
    expect(consoleErrors).toEqual([]);
  });
});
