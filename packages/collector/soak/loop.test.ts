/**
 * The whole loop, as a visitor, a CRM and the platforms see it: real Chromium on
 * a shop host mapped to 127.0.0.1 over HTTPS (a throwaway certificate), the
 * collector's own app serving the landing-page example and the built pixel,
 * a real database (SQLite file, PostgreSQL), one real send pass to the strict
 * fake platforms, and what each of them received.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { request, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { DEFAULT_VERSIONS, parseKeyRing, type Platform } from '@pruuv/sender';
import { launchBrowser } from '@pruuv/testkit/browser';
import { makeTestCertificate } from '@pruuv/testkit/tls';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnections } from '../src/domain/connections.js';
import { createApp } from '../src/http/app.js';
import { DEFAULT_SEND_CRON } from '../src/send/send-config.js';
import { createSender } from '../src/send/sender.js';
import { AUDIT_EVENT_SQL } from '../src/store/audit-row.js';
import type { Store } from '../src/store/types.js';
import { addUser, PASSWORD } from '../test/dashboard/helpers.js';
import { FAKE_FIELDS, FAKE_MICROSOFT_APP, microsoftReceipts } from '../test/send-helpers.js';
import { ENGINES, soakDatabase, type SoakDatabase } from './helpers/database.js';

const SHOP = 'www.shop.example.co.uk';
const LANDING_PAGE = fileURLToPath(new URL('../../../examples/landing-page/index.html', import.meta.url));
const PLATFORMS: Platform[] = ['meta', 'google', 'tiktok', 'microsoft'];
const CLICKS = { fbclid: 'IwAR-soak_Click1', gclid: 'Cj0KCQ-soak', ttclid: 'E.C.P.soak-tt1', msclkid: '6e8f2c1a9b3d4e5f8a7b6c5d4e3f2a1b' };
/** The pass runs this long after the visit: Microsoft takes a click once it is an hour old (microsoft-ads.md §6). */
const PASS_DELAY_MS = 2 * 3_600_000;
const EMAIL = ' Jane.Doe+offer@Gmail.com ';
const PHONE = '+44 7700 900123';

const sha256 = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser([`--host-resolver-rules=MAP ${SHOP} 127.0.0.1`]);
});
afterAll(async () => {
  await browser?.close();
});

/** A POST over HTTPS to the loopback collector, trusting only its test certificate. */
function postJson(url: string, ca: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

interface MetaEvent {
  event_name: string;
  event_id: string;
  event_time: number;
  action_source: string;
  user_data: { fbc?: string; fbp?: string; em?: string | string[]; ph?: string | string[] };
  custom_data?: { value?: number; currency?: string };
}
interface DataManagerEvent {
  transactionId: string;
  eventTimestamp: string;
  adIdentifiers: { gclid?: string };
  conversionValue?: number;
  currency?: string;
}
interface TikTokEvent {
  event: string;
  event_id: string;
  user: { ttclid?: string };
  properties?: { value?: number; currency?: string };
}

for (const engine of ENGINES) {
  describe(`the whole loop on ${engine}`, () => {
    let db: SoakDatabase;
    let store: Store;
    let fakes: FakePlatforms;
    let server: Server;
    let origin = '';
    let ca = '';

    beforeAll(async () => {
      db = await soakDatabase(engine);
      store = await db.open();
      fakes = await startFakePlatforms();
      const certificate = await makeTestCertificate([SHOP]);
      ca = certificate.cert;
      server = createServer(certificate);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      origin = `https://${SHOP}:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server?.closeAllConnections();
      await new Promise((r) => server?.close(r));
      await fakes?.close();
      await store?.close();
      await db?.drop();
    });

    it('lands, browses, submits a lead, gets a sale from the CRM, and every platform receives both', async () => {
      // The shop: the landing-page example at /demo/ and a second page, served by the collector itself.
      const demoDir = join(db.dir, 'demo');
      mkdirSync(demoDir);
      copyFileSync(LANDING_PAGE, join(demoDir, 'index.html'));
      copyFileSync(LANDING_PAGE, join(demoDir, 'offer.html'));
      const client = await store.clients.create({ name: 'Shop', origins: [origin] });
      const lead = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
      const sale = await store.stages.create({ client_id: client.id, key: 'sale', name: 'Sale' });
      const key = randomBytes(32).toString('base64');
      const connections = createConnections(store);
      for (const platform of PLATFORMS) await connections.set({ client_id: client.id, platform, fields: FAKE_FIELDS[platform] }, parseKeyRing(key));
      server.on('request', createApp({ store, demoDir, demoSiteKey: client.site_key }));

      // 1. The ad click, then a second page, then the form.
      // A person's Chrome: the headless shell's User-Agent says `HeadlessChrome`, a bot's mark, whose
      // beacons the collector holds (test/browser/beacons.test.ts); everything else is the shell's own.
      const probe = await browser.newContext();
      const userAgent = (await (await probe.newPage()).evaluate(() => navigator.userAgent)).replace('HeadlessChrome/', 'Chrome/');
      await probe.close();
      const context = await browser.newContext({ ignoreHTTPSErrors: true, userAgent });
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      const clickedAt = Date.now();
      const query = new URLSearchParams({ ...CLICKS, utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'spring' });
      await page.goto(`${origin}/demo/?${query}`);
      await page.waitForFunction(() => document.cookie.includes('_fbc=') && document.cookie.includes('_fbp='));
      await page.goto(`${origin}/demo/offer.html`);
      expect(page.url()).not.toContain('clid');
      await page.fill('#email', EMAIL);
      await page.fill('#phone', PHONE);
      await page.click('button[type="submit"]');
      const browserEventId = await page.waitForSelector('#result[data-event-id]').then((el) => el.getAttribute('data-event-id'));
      const cookies = Object.fromEntries((await context.cookies()).map((c) => [c.name, c.value]));
      await context.close();

      const [stored] = await store.events.list({ stage_id: lead.stage.id, limit: 10 });
      expect(stored?.id).toBe(browserEventId);
      expect(stored?.source).toBe('pixel');
      expect(stored?.fbc).toBe(cookies['_fbc']);
      expect(stored?.fbp).toBe(cookies['_fbp']);

      // 2. The CRM closes the sale: same reference, a value, no click IDs.
      const saleAnswer = await postJson(
        `https://127.0.0.1:${new URL(origin).port}/api/webhooks/funnel/${sale.stage.id}`,
        ca,
        { authorization: `Bearer ${sale.token}` },
        { reference: stored!.reference, revenue_value: 250, currency: 'GBP', email: EMAIL, phone: PHONE },
      );
      expect(saleAnswer.status).toBe(200);
      const saleId = (saleAnswer.body as { event_id: string }).event_id;

      // 3. One send pass.
      const sender = await createSender({
        store,
        config: {
          keyRing: parseKeyRing(key),
          cron: DEFAULT_SEND_CRON,
          urls: { ...fakes.urls },
          connectionDefaults: { microsoft: FAKE_MICROSOFT_APP },
          versions: { meta: DEFAULT_VERSIONS.meta, googleAds: DEFAULT_VERSIONS.googleAds },
        },
        now: () => new Date(Date.now() + PASS_DELAY_MS),
      });
      const report = await sender.runPass();
      expect(report.counts.sent).toBe(8);

      // Meta: both events, with the browser's cookies, hashed email and phone, the browser's event id for the lead.
      const meta = fakes.requests('meta').flatMap((r) => (r.status === 200 ? ((r.body as { data: MetaEvent[] }).data ?? []) : []));
      expect(meta.map((e) => e.event_name).sort()).toEqual(['Lead', 'Purchase']);
      const metaLead = meta.find((e) => e.event_name === 'Lead')!;
      const metaSale = meta.find((e) => e.event_name === 'Purchase')!;
      expect(metaLead.event_id).toBe(browserEventId);
      expect(metaSale.event_id).toBe(saleId);
      for (const e of [metaLead, metaSale]) {
        expect(e.user_data.fbc).toBe(cookies['_fbc']);
        expect(e.user_data.fbc).toContain(CLICKS.fbclid);
        expect(e.user_data.fbp).toBe(cookies['_fbp']);
        expect([e.user_data.em].flat()).toEqual([sha256('jane.doe+offer@gmail.com')]);
        expect([e.user_data.ph].flat()).toEqual([sha256('447700900123')]);
      }
      expect(metaSale.custom_data).toMatchObject({ value: 250, currency: 'GBP' });

      // Google: one click conversion per stage, the gclid, a time after the click, the value, the event id as dedup key.
      const google = fakes.requests('dataManager').flatMap((r) => (r.status === 200 ? (r.body as { events: DataManagerEvent[] }).events : []));
      expect(google.map((e) => e.transactionId).sort()).toEqual([browserEventId, saleId].sort());
      for (const e of google) {
        expect(e.adIdentifiers.gclid).toBe(CLICKS.gclid);
        // Whole seconds: the conversion is at or after the click's second.
        expect(Date.parse(e.eventTimestamp)).toBeGreaterThanOrEqual(Math.floor(clickedAt / 1000) * 1000);
      }
      expect(google.find((e) => e.transactionId === saleId)).toMatchObject({ conversionValue: 250, currency: 'GBP' });

      // TikTok: both, with the ttclid.
      const tiktok = fakes.requests('tiktok').flatMap((r) => (r.status === 200 ? (r.body as { data: TikTokEvent[] }).data : []));
      expect(tiktok.map((e) => e.event_id).sort()).toEqual([browserEventId, saleId].sort());
      for (const e of tiktok) expect(e.user.ttclid).toBe(CLICKS.ttclid);

      // Microsoft: both, with the msclkid, each once (keyed on click, goal and time).
      expect(microsoftReceipts(fakes, CLICKS.msclkid)).toEqual([1, 1]);

      // Each counted once, and the audit log says sent for all eight.
      for (const platform of PLATFORMS) expect([...fakes.counted(platform).values()], platform).toEqual([1, 1]);
      const audit = await db.query<{ platform: string; status: string; event_id: string }>(
        // The event id as the store reads it: a record with an outbox row names its event through it (src/store/audit-row.ts).
        `SELECT platform, status, ${AUDIT_EVENT_SQL} AS event_id FROM send_attempts`,
      );
      expect(audit).toHaveLength(8);
      expect(audit.every((a) => a.status === 'sent')).toBe(true);
      expect(new Set(audit.map((a) => `${a.platform} ${a.event_id}`)).size).toBe(8);

      // And the client sees them in the dashboard, over the same HTTPS host: eight attempts, all sent.
      await addUser(store, 'owner@shop.example', 'client', client.id);
      const watch = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-US' });
      const dashboard = await watch.newPage();
      await dashboard.goto(`${origin}/dashboard/sign-in`);
      await dashboard.getByLabel('Email').fill('owner@shop.example');
      await dashboard.getByLabel('Password').fill(PASSWORD);
      await dashboard.getByRole('button', { name: 'Sign in' }).click();
      await dashboard.waitForURL(`${origin}/dashboard`);
      await dashboard.goto(`${origin}/dashboard/sends`);
      const rows = await dashboard.locator('main table tbody tr').allTextContents();
      expect(rows).toHaveLength(8);
      for (const row of rows) expect(row).toContain('sent');
      await watch.close();
    });
  });
}
