/**
 * The dashboard in a real Chromium (the testkit's headless shell from npm),
 * against a real collector on a real SQLite file with a week of demo history
 * sent to the strict fake platforms. Signs in through the form, walks the
 * pages, checks keyboard use and a 375 px screen, attacks (stored XSS, a
 * cross-origin form, an idle session) and saves a screenshot of each main page
 * (to docs/screenshots/ for the README with `npm run screenshots`). The clock
 * and the history are fixed.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DEFAULT_VERSIONS, parseKeyRing } from '@pruuv/sender';
import { startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { launchBrowser } from '@pruuv/testkit/browser';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoHistory } from '../../src/demo-history.js';
import { setupDemo, setupDemoSending } from '../../src/demo.js';
import { addUser, PASSWORD } from '../dashboard/helpers.js';
import { startCollector, tempDir, testClock, type Running } from '../helpers/harness.js';

/**
 * Where the screenshots go: the README's docs/screenshots/ with `PRUUV_SCREENSHOTS=update`
 * (`npm run screenshots`), else a temporary directory. They show random values (site keys,
 * stage ids, the server's port), so writing them on every run would change tracked files.
 */
const SCREENSHOTS =
  process.env['PRUUV_SCREENSHOTS'] === 'update'
    ? fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url))
    : `${mkdtempSync(join(tmpdir(), 'pruuv-screenshots-'))}/`;
const NOW = '2026-03-02T10:00:00.000Z';

let dir: ReturnType<typeof tempDir>;
let run: Running;
let fakes: FakePlatforms;
let browser: Browser;
let otherClientId: string;
let demoClientId: string;
const clock = testClock(NOW);

beforeAll(async () => {
  dir = tempDir();
  fakes = await startFakePlatforms({ now: clock.now });
  const ring = parseKeyRing(Buffer.alloc(32, 9).toString('base64'));
  // As `pruuv serve` with PRUUV_ENCRYPTION_KEY: the connections page can store and read credentials.
  run = await startCollector({ dbFile: `${dir.dir}/pruuv.db`, clock, app: { send: { keyRing: ring, urls: fakes.urls, versions: { ...DEFAULT_VERSIONS } } } });
  const setup = await setupDemo(run.store, run.url);
  await setupDemoSending(run.store, setup.client, ring);
  await seedDemoHistory(run.store, { client: setup.client, stages: { lead: setup.stages.lead.stage, sale: setup.stages.sale.stage }, keyRing: ring, urls: fakes.urls, now: clock.now() });
  demoClientId = setup.client.id;
  const other = await run.store.clients.create({ name: 'Other agency client' });
  otherClientId = other.id;
  // At the fixed clock's time, so the pages (and screenshots) are the same on every run.
  await addUser(run.store, 'ada@agency.example', 'admin', undefined, clock.now());
  await addUser(run.store, 'cleo@demo.example', 'client', setup.client.id, clock.now());
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

async function signedIn(email: string, viewport = { width: 1280, height: 860 }): Promise<{ context: BrowserContext; page: Page }> {
  // A browser's own language: the headless shell takes it from the environment, where `LANG=C`
  // gives `en-US@posix`, which no browser reports and Intl (so uPlot) refuses.
  const context = await browser.newContext({ viewport, locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`${run.url}/dashboard`);
  await expect.poll(() => page.url()).toContain('/dashboard/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${run.url}/dashboard`);
  return { context, page };
}

/** Every page of the main navigation (and an event's page), as an admin opens it. */
const PAGES: Array<{ path: () => string; title: string; screenshot?: string }> = [
  { path: () => '/dashboard', title: 'Overview' },
  { path: () => '/dashboard/clients', title: 'Clients', screenshot: 'dashboard-clients' },
  { path: () => `/dashboard/clients/${demoClientId}`, title: 'Client: Pruuv demo', screenshot: 'dashboard-client' },
  { path: () => `/dashboard/connections?client=${demoClientId}`, title: 'Connections', screenshot: 'dashboard-connections' },
  { path: () => `/dashboard/webhooks?client=${demoClientId}`, title: 'Funnel webhooks', screenshot: 'dashboard-webhooks' },
  { path: () => `/dashboard/events?client=${demoClientId}&limit=20`, title: 'Events', screenshot: 'dashboard-events' },
  { path: () => `/dashboard/sends?client=${demoClientId}&limit=20`, title: 'Conversion sends', screenshot: 'dashboard-sends' },
  { path: () => `/dashboard/sends/preview?client=${demoClientId}`, title: 'Preview of the next pass' },
  { path: () => '/dashboard/users', title: 'Users' },
  { path: () => '/dashboard/settings', title: 'Settings' },
  { path: () => '/dashboard/account', title: 'Your account' },
];

describe('the dashboard in a browser', () => {
  it('signs in through the form and shows the overview; screenshot', async () => {
    const { context, page } = await signedIn('ada@agency.example');
    await expect.poll(() => page.title()).toBe('Overview · Pruuv');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Overview');
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toContain('Users');
    await page.screenshot({ path: `${SCREENSHOTS}dashboard-overview.png`, fullPage: true });
    await context.close();
  });

  it('opens every page: one h1, its title, no console error; screenshots', async () => {
    const { context, page } = await signedIn('ada@agency.example');
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    for (const p of PAGES) {
      const res = await page.goto(`${run.url}${p.path()}`);
      expect(res?.status(), p.path()).toBe(200);
      expect(await page.title(), p.path()).toBe(`${p.title} · Pruuv`);
      expect(await page.getByRole('heading', { level: 1 }).count(), p.path()).toBe(1);
      if (p.screenshot !== undefined) await page.screenshot({ path: `${SCREENSHOTS}${p.screenshot}.png`, fullPage: true });
    }
    expect(errors).toEqual([]);
    await context.close();
  });

  it("opens an event from the list: its attribution and its sends per platform; screenshot", async () => {
    const { context, page } = await signedIn('ada@agency.example');
    await page.goto(`${run.url}/dashboard/events?client=${demoClientId}`);
    const first = page.locator('main table a[href^="/dashboard/events/"]').first();
    await first.click();
    await page.waitForURL(/\/dashboard\/events\/[0-9a-f-]{36}$/);
    expect(await page.getByRole('heading', { name: 'Attribution' }).count()).toBe(1);
    expect(await page.getByRole('heading', { name: 'Sends' }).count()).toBe(1);
    await page.screenshot({ path: `${SCREENSHOTS}dashboard-event.png`, fullPage: true });
    await context.close();
  });

  it('keeps a client user to its own events and sends, by link and by URL', async () => {
    const { context, page } = await signedIn('cleo@demo.example');
    await page.goto(`${run.url}/dashboard/events`);
    expect(await page.locator('main table tbody tr').count()).toBeGreaterThan(0);
    await page.goto(`${run.url}/dashboard/sends`);
    expect(await page.locator('main table tbody tr').count()).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Retry now' }).count()).toBe(0);
    for (const path of [`/dashboard/events?client=${otherClientId}`, `/dashboard/sends?client=${otherClientId}`, `/dashboard/clients/${otherClientId}`, `/dashboard/connections?client=${demoClientId}`, `/dashboard/webhooks?client=${demoClientId}`]) {
      const res = await page.goto(`${run.url}${path}`);
      expect(res?.status(), path).toBe(404);
      expect(await page.content(), path).not.toContain('Other agency client');
    }
    await context.close();
  });

  it('is usable from the keyboard: the skip link first, visible focus', async () => {
    const { context, page } = await signedIn('ada@agency.example');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
    expect(outline).toBe('solid');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await context.close();
  });

  it('fits a 375 px screen without sideways scrolling', async () => {
    const { context, page } = await signedIn('ada@agency.example', { width: 375, height: 740 });
    for (const path of PAGES.map((p) => p.path())) {
      await page.goto(`${run.url}${path}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    await page.goto(`${run.url}/dashboard`);
    await page.screenshot({ path: `${SCREENSHOTS}dashboard-overview-375.png`, fullPage: true });
    await context.close();
  });

  it('manages users; screenshot', async () => {
    const { context, page } = await signedIn('ada@agency.example');
    await page.goto(`${run.url}/dashboard/users`);
    const form = page.locator('form[action="/dashboard/users"]');
    await form.getByLabel('Email').fill('sam@agency.example');
    await form.getByLabel('Role').selectOption('staff');
    await form.getByLabel('Password').fill('staff passphrase here');
    await form.getByRole('button', { name: 'Add user' }).click();
    await expect.poll(async () => page.getByRole('status').textContent()).toContain('User added: sam@agency.example (staff).');
    await page.screenshot({ path: `${SCREENSHOTS}dashboard-users.png`, fullPage: true });
    await context.close();
  });

  it('shows a client user its client only, and refuses the rest by URL', async () => {
    const { context, page } = await signedIn('cleo@demo.example');
    const links = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(links).not.toContain('Users');
    expect(links).not.toContain('Connections');
    const html = await page.content();
    expect(html).toContain('Pruuv demo');
    expect(html).not.toContain('Other agency client');
    const users = await page.goto(`${run.url}/dashboard/users`);
    expect(users?.status()).toBe(403);
    expect(otherClientId).toMatch(/^cli_/);
    await context.close();
  });

  it('runs no script stored in a field: a hostile client name renders as text', async () => {
    await run.store.clients.create({ name: '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>' });
    const { context, page } = await signedIn('ada@agency.example');
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.reload();
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.getByText('<script>window.__pwned=2</script>', { exact: false }).count()).toBeGreaterThan(0);
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it('refuses a form posted from another origin of the same site (SameSite does not stop it; Fetch Metadata does)', async () => {
    const { context, page } = await signedIn('ada@agency.example');
    // Another port on 127.0.0.1: same site, other origin. Its page posts our sign-out form.
    const attacker: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form id="f" method="post" action="${run.url}/dashboard/sign-out"><input name="_csrf" value="guess"></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    try {
      const answer = page.waitForResponse((r) => r.url() === `${run.url}/dashboard/sign-out`);
      await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
      expect((await answer).status()).toBe(403);
      await page.goto(`${run.url}/dashboard`);
      expect(page.url()).toBe(`${run.url}/dashboard`);
    } finally {
      attacker.close();
    }
    await context.close();
  });

  it('ends an idle session: after 12 hours the next page asks to sign in again', async () => {
    const { context, page } = await signedIn('ada@agency.example');
    clock.advance(12 * 3_600_000 + 1000);
    try {
      await page.goto(`${run.url}/dashboard/users`);
      expect(page.url()).toBe(`${run.url}/dashboard/sign-in?next=%2Fdashboard%2Fusers`);
    } finally {
      clock.set(NOW);
    }
    await context.close();
  });
});
