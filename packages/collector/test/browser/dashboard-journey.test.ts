/**
 * An agency's first day in the dashboard, in a real Chromium against a real
 * collector on a real SQLite file and the strict fake platforms: sign in (a
 * session id planted beforehand is not adopted), add a client, a stage and a
 * Meta connection through the forms, take the token shown once and post a
 * conversion with it over real HTTP, watch the event arrive, run send passes
 * (the first refused by Meta), see the failure in the audit log, retry it,
 * preview the next pass, send it, export the audit log as CSV. And hostile
 * text in every free field of a webhook event renders as text on every page.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_VERSIONS, parseKeyRing } from '@pruuv/sender';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { launchBrowser } from '@pruuv/testkit/browser';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSender, type Sender } from '../../src/send/sender.js';
import { addUser, PASSWORD } from '../dashboard/helpers.js';
import { startCollector, tempDir, testClock, type Running } from '../helpers/harness.js';

const NOW = '2026-03-02T10:00:00.000Z';
const PIXEL = FAKE_DEFAULTS.meta.pixelId;
const TOKEN = FAKE_DEFAULTS.meta.token;

let dir: ReturnType<typeof tempDir>;
let run: Running;
let fakes: FakePlatforms;
let browser: Browser;
let sender: Sender;
const clock = testClock(NOW);

beforeAll(async () => {
  dir = tempDir();
  fakes = await startFakePlatforms({ now: clock.now });
  const keyRing = parseKeyRing(Buffer.alloc(32, 7).toString('base64'));
  const send = { keyRing, urls: fakes.urls, versions: { ...DEFAULT_VERSIONS } };
  run = await startCollector({ dbFile: `${dir.dir}/pruuv.db`, clock, app: { send } });
  sender = await createSender({ store: run.store, config: { ...send, cron: '0 3 * * *' }, now: clock.now });
  await addUser(run.store, 'ada@agency.example', 'admin', undefined, clock.now());
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await run?.close();
  await fakes?.close();
  dir?.cleanup();
});

async function signIn(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  // Confirmations (retry now, rotate) are accepted, as a person clicking OK.
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${run.url}/dashboard/sign-in`);
  await page.getByLabel('Email').fill('ada@agency.example');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${run.url}/dashboard`);
  return page;
}

async function postConversion(stageId: string, token: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${run.url}/api/webhooks/funnel/${stageId}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('the dashboard, a first day', () => {
  let context: BrowserContext;
  let page: Page;
  let clientId: string;
  let stageId: string;
  let token: string;

  it('does not adopt a session id planted before sign-in', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-US' });
    const planted = 'A'.repeat(43);
    await context.addCookies([{ name: 'pruuv_session', value: planted, url: run.url }]);
    page = await signIn(context);
    const session = (await context.cookies(run.url)).find((c) => c.name === 'pruuv_session');
    expect(session?.value).toMatch(/^[\w-]{43}$/);
    expect(session?.value).not.toBe(planted);
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Lax');
  });

  it('adds a client through its form', async () => {
    await page.goto(`${run.url}/dashboard/clients`);
    const form = page.locator('form', { has: page.getByRole('button', { name: 'Add client' }) });
    await form.getByLabel('Name').fill('Acme Roofing');
    await form.getByLabel('Allowed origins').fill('https://acme-roofing.example');
    await form.getByRole('button', { name: 'Add client' }).click();
    await page.waitForURL(/\/dashboard\/clients\/cli_[\w-]+\?created=1$/);
    clientId = /clients\/(cli_[\w-]+)/.exec(page.url())![1]!;
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Acme Roofing');
    expect(await page.locator('#snippet-script').textContent()).toContain('data-site=');
  });

  it('adds a stage and shows its token once, which a real webhook request then uses', async () => {
    await page.goto(`${run.url}/dashboard/webhooks?client=${clientId}`);
    await page.locator('#stage-key').fill('lead');
    await page.locator('#stage-name').fill('Lead');
    await page.getByRole('button', { name: 'Add stage' }).click();
    token = (await page.locator('#new-token').textContent())!.trim();
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(await page.locator('#new-curl').textContent()).toContain(token);
    const stage = (await run.store.stages.list(clientId)).find((s) => s.key === 'lead')!;
    stageId = stage.id;
    // Shown once: the page as opened again holds no token.
    await page.goto(`${run.url}/dashboard/webhooks?client=${clientId}`);
    expect(await page.content()).not.toContain(token);

    const res = await postConversion(stageId, token, {
      reference: 'crm-lead-1',
      fbclid: 'IwAR0journeyclick',
      click_timestamp: new Date(clock.now().getTime() - 3_600_000).toISOString(),
      email: 'Jo.Smith@Example.com',
      consent: 'granted',
    });
    expect(res.status).toBe(200);
  });

  it('connects Meta through the form (the token write-only afterwards)', async () => {
    await page.goto(`${run.url}/dashboard/connections?client=${clientId}`);
    await page.locator('#meta-pixel_id').fill(PIXEL);
    await page.locator('#meta-access_token').fill(TOKEN);
    await page.getByRole('button', { name: 'Save Meta credentials' }).click();
    await page.waitForLoadState();
    const meta = page.locator('#platform-meta');
    expect(await meta.textContent()).toContain('stored');
    expect(await page.content()).not.toContain(TOKEN);
    expect((await run.store.connections.list()).filter((c) => c.client_id === clientId).map((c) => c.platform)).toContain('meta');
  });

  it('shows the event arriving, with its attribution', async () => {
    await page.goto(`${run.url}/dashboard/events?client=${clientId}`);
    await page.getByRole('link', { name: /crm-lead-1|[0-9a-f]{8}/ }).first().click();
    await page.waitForURL(/\/dashboard\/events\/[0-9a-f-]{36}$/);
    const html = await page.content();
    expect(html).toContain('crm-lead-1');
    expect(html).toContain('IwAR0journeyclick');
    expect(html).not.toContain('Jo.Smith@Example.com');
  });

  it('lists a send Meta refused, retries it, previews and sends it once; the audit log exports as CSV', async () => {
    // Meta refuses the first batch with a permanent error (invalid parameter): the send is failed.
    fakes.script('meta', [{ kind: 'meta-error', code: 100 }]);
    await sender.runPass();
    await page.goto(`${run.url}/dashboard/sends?client=${clientId}&platform=meta`);
    const row = page.locator('main table tbody tr', { hasText: 'meta' }).first();
    expect(await row.textContent()).toContain('failed');

    await row.getByRole('button', { name: 'Retry now' }).click();
    await expect.poll(async () => page.getByRole('status').first().textContent()).toContain('Retry requested');

    await page.goto(`${run.url}/dashboard/sends/preview?client=${clientId}`);
    const preview = (await page.locator('main').textContent())!;
    expect(preview).toMatch(/would be sent/i);
    expect(fakes.counted('meta').size).toBe(0);

    await sender.runPass();
    expect([...fakes.counted('meta').entries()]).toEqual([[expect.stringMatching(new RegExp(`^${PIXEL}:Lead:`)), 1]]);
    await page.goto(`${run.url}/dashboard/sends?client=${clientId}&platform=meta`);
    expect(await page.locator('main table tbody tr').first().textContent()).toContain('sent');
    expect(await page.locator('main').textContent()).toContain('retry requested');

    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Export these rows as CSV' }).click();
    const csv = readFileSync((await (await download).path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toMatch(/^attempted_at,client_id,client_name,event_id,platform,status,/);
    expect(lines.slice(1).map((l) => l.split(',')[5])).toEqual(['sent', 'retrying', 'failed']);
    expect(csv).not.toContain(TOKEN);
  });

  it('renders hostile text in every free field of an event as text, on every page that shows it', async () => {
    const hostile = (n: number) => `<img src=x onerror="window.__pwned=${n}"><script>window.__pwned=${n}</script>`;
    const noSpace = (n: number) => `<script>window.__pwned=${n}</script>`;
    const res = await postConversion(stageId, token, {
      reference: hostile(1),
      item_reference: hostile(2),
      utm_source: hostile(3),
      utm_medium: hostile(4),
      utm_campaign: hostile(5),
      utm_content: hostile(6),
      utm_term: hostile(7),
      gclid: noSpace(8),
      ttclid: noSpace(9),
      ttp: noSpace(10),
      gender: hostile(11),
      age_range: hostile(12),
      location_country: hostile(13),
      location_region: hostile(14),
      job_title: hostile(15),
      company_size: hostile(16),
      industry: hostile(17),
      consent: 'granted',
    });
    expect(res.status).toBe(200);
    const { event_id: eventId } = (await res.json()) as { event_id: string };
    await sender.runPass();
    const dialogs: string[] = [];
    page.on('dialog', (d) => dialogs.push(d.message()));
    for (const path of [
      '/dashboard',
      `/dashboard?client=${clientId}`,
      `/dashboard/events?client=${clientId}`,
      `/dashboard/events/${eventId}`,
      `/dashboard/sends?client=${clientId}`,
      `/dashboard/sends?event=${eventId}`,
      `/dashboard/sends/preview?client=${clientId}`,
      `/dashboard/webhooks?client=${clientId}`,
    ]) {
      await page.goto(`${run.url}${path}`);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), path).toBeUndefined();
    }
    await page.goto(`${run.url}/dashboard/events/${eventId}`);
    const text = (await page.locator('main').textContent())!;
    for (const n of [1, 3, 8, 11]) expect(text).toContain(`window.__pwned=${n}`);
    expect(dialogs).toEqual([]);
    await context.close();
  });
});
