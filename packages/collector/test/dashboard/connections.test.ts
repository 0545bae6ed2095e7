/**
 * The connections page over real HTTP on a real SQLite file, against the
 * strict fake platforms: the form built from each platform's fields, secrets
 * that never come back, a pause with the platform's error and when the
 * credentials were last used (set by a real send pass), the test event in each
 * platform's test mode (what the fake received, what the page shows, nothing
 * recorded), escaping, and that it is admin and staff only.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_VERSIONS, parseKeyRing, type KeyRing, type Platform } from '@pruuv/sender';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConnections } from '../../src/domain/connections.js';
import { DEFAULT_SEND_CRON } from '../../src/send/send-config.js';
import { createSender } from '../../src/send/sender.js';
import type { Client, Stage } from '../../src/store/types.js';
import { startCollector, tempDir, testClock, type Running } from '../helpers/harness.js';
import { addUser, browser, type Browser } from './helpers.js';
import { pageText } from './page-text.js';

const MS = FAKE_DEFAULTS.microsoft;

/** Random credentials, so that any 6-character piece of one found in a page can only come from it. */
const secret = (): string => randomBytes(30).toString('base64url');
const SECRETS = {
  meta: secret(),
  tiktok: secret(),
  googleClientSecret: secret(),
  googleRefresh: secret(),
  microsoftRefresh: secret(),
  uetToken: secret(),
};

/** The form fields that reach each fake's seeded account. */
const FORM: Record<Platform, Record<string, string>> = {
  meta: { f_pixel_id: FAKE_DEFAULTS.meta.pixelId, f_access_token: SECRETS.meta },
  google: {
    f_api: 'data-manager',
    f_customer_id: '123-456-7890',
    f_conversion_action_id: FAKE_DEFAULTS.google.conversionActionId,
    f_client_id: FAKE_DEFAULTS.google.clientId,
    f_client_secret: SECRETS.googleClientSecret,
    f_refresh_token: SECRETS.googleRefresh,
  },
  tiktok: { f_pixel_code: FAKE_DEFAULTS.tiktok.pixelCode, f_access_token: SECRETS.tiktok },
  microsoft: {
    f_customer_id: FAKE_DEFAULTS.microsoft.customerId,
    f_account_id: FAKE_DEFAULTS.microsoft.accountId,
    f_goal_name: FAKE_DEFAULTS.microsoft.goalName,
    f_refresh_token: SECRETS.microsoftRefresh,
  },
};

/** Every 6-character piece of every secret: none may appear in a page. */
function leaks(html: string): string[] {
  const found: string[] = [];
  for (const s of Object.values(SECRETS)) for (let i = 0; i + 6 <= s.length; i++) if (html.includes(s.slice(i, i + 6))) found.push(s.slice(i, i + 6));
  return found;
}

let dir: ReturnType<typeof tempDir>;
let run: Running;
let fakes: FakePlatforms;
let ring: KeyRing;
let client: Client;
let lead: Stage;
beforeEach(async () => {
  dir = tempDir();
  const clock = testClock('2026-11-20T10:00:00.000Z');
  fakes = await startFakePlatforms({
    now: clock.now,
    meta: { pixels: [FAKE_DEFAULTS.meta.pixelId], tokens: [SECRETS.meta] },
    tiktok: { pixelCodes: [FAKE_DEFAULTS.tiktok.pixelCode], tokens: [SECRETS.tiktok] },
    google: {
      customers: [FAKE_DEFAULTS.google.customerId],
      conversionActions: [FAKE_DEFAULTS.google.conversionActionId],
      clientId: FAKE_DEFAULTS.google.clientId,
      clientSecret: SECRETS.googleClientSecret,
      refreshTokens: [SECRETS.googleRefresh],
    },
    microsoft: {
      customerId: MS.customerId,
      accounts: [{ id: MS.accountId, name: 'Contoso', number: MS.accountNumber }],
      goals: [{ id: MS.goalId, name: MS.goalName, accountId: MS.accountId, enhanced: true }],
      clientId: MS.clientId,
      clientSecret: MS.clientSecret,
      redirectUris: [],
      refreshTokens: [SECRETS.microsoftRefresh],
      developerToken: MS.developerToken,
      // No click is known: any msclkid is taken silently and counted nowhere.
      knownClicks: [],
    },
  });
  ring = parseKeyRing(randomBytes(32).toString('base64'));
  run = await startCollector({
    dbFile: `${dir.dir}/pruuv.db`,
    clock,
    app: {
      send: {
        keyRing: ring,
        urls: { ...fakes.urls },
        versions: { meta: DEFAULT_VERSIONS.meta, googleAds: DEFAULT_VERSIONS.googleAds },
        // The operator's Microsoft app (PRUUV_MICROSOFT_*), filled into the test event's connection.
        connectionDefaults: { microsoft: { developer_token: MS.developerToken, client_id: MS.clientId, client_secret: MS.clientSecret } },
      },
    },
  });
  client = await run.store.clients.create({ name: 'Acme', origins: ['https://www.shop.example'] });
  lead = (await run.store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
});
afterEach(async () => {
  await run.close();
  await fakes.close();
  dir.cleanup();
});

async function signedIn(role: 'admin' | 'staff' | 'client' = 'staff', clientId?: string): Promise<Browser> {
  const email = `${role}-${randomUUID()}@agency.example`;
  await addUser(run.store, email, role, clientId);
  const b = browser(run.url);
  await b.signIn(email);
  await b.get('/dashboard');
  return b;
}

const pagePath = () => `/dashboard/connections?client=${client.id}`;
const save = (b: Browser, platform: Platform, fields: Record<string, string>) => b.post(`/dashboard/connections/${client.id}/${platform}`, fields);
const test = (b: Browser, platform: Platform, fields: Record<string, string> = {}) => b.post(`/dashboard/connections/${client.id}/${platform}/test`, fields);

/** What the store holds that a test event must never add to. */
function recorded(): { events: number; outbox: number; attempts: number } {
  const n = (table: string) => (run.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  return { events: n('events'), outbox: n('outbox'), attempts: n('send_attempts') };
}

describe('connections page', () => {
  it("builds each platform's form from its connection fields", async () => {
    const b = await signedIn();
    const res = await b.get(pagePath());
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const [platform, name] of [['meta', 'Meta'], ['google', 'Google'], ['tiktok', 'TikTok']] as const) {
      expect(html).toContain(`action="/dashboard/connections/${client.id}/${platform}"`);
      expect(pageText(html)).toContain(`${name} not connected`);
      // The place kept for the OAuth "Connect" button: a marked slot, no button.
      expect(html).toContain(`data-oauth-slot="${platform}"`);
    }
    const text = pageText(html);
    for (const label of ['Pixel (dataset) id', 'Access token', 'Send as test events under this code', 'Conversion action id', 'OAuth refresh token', 'Pixel Code', 'Validate only']) {
      expect(text).toContain(label);
    }
    // Google's upload path is a choice, data-manager by default; secrets are password inputs, empty.
    expect(html).toMatch(/<select id="google-api" name="f_api"[^>]*><option value="data-manager" selected>data-manager<\/option><option value="ads">ads<\/option>/);
    expect(html).toMatch(/<input type="password" id="meta-access_token" name="f_access_token" value(="")? autocomplete="new-password"/);
    expect(html).toMatch(/<input type="checkbox" id="meta-dry_run" name="f_dry_run"/);
    // Nothing to test before a connection is saved.
    expect(html).not.toContain('/test"');
  });

  it('saves a connection, shows its secrets as "stored" and never any piece of them, keeps them when left empty and replaces them when typed', async () => {
    const b = await signedIn();
    for (const platform of ['meta', 'google', 'tiktok', 'microsoft'] as const) {
      const res = await save(b, platform, FORM[platform]);
      expect(res.status, platform).toBe(303);
      expect(res.headers.get('location')).toBe(`/dashboard/connections?client=${client.id}&saved=${platform}#platform-${platform}`);
    }
    const html = await (await b.get(`${pagePath()}&saved=google`)).text();
    expect(leaks(html)).toEqual([]);
    expect(pageText(html)).toContain('Saved; sending is active.');
    expect(pageText(html)).toMatch(/Access token stored/);
    expect(pageText(html)).toMatch(/OAuth refresh token stored/);
    expect(html).toContain(`value="${FAKE_DEFAULTS.meta.pixelId}"`);
    expect(html).toContain('value="1234567890"'); // the customer id, hyphens removed
    const connections = createConnections(run.store);
    expect((await connections.load(client.id, 'meta', ring))?.connection).toMatchObject({ pixel_id: FAKE_DEFAULTS.meta.pixelId, access_token: SECRETS.meta });
    // Stored encrypted: the database file's rows hold no secret either.
    expect(JSON.stringify(run.db.prepare('SELECT * FROM connections').all())).not.toContain(SECRETS.meta);

    // Saved again with the secret left empty: kept. With a new value: replaced.
    expect((await save(b, 'meta', { f_pixel_id: '42', f_access_token: '' })).status).toBe(303);
    expect((await connections.load(client.id, 'meta', ring))?.connection).toMatchObject({ pixel_id: '42', access_token: SECRETS.meta });
    const replacement = secret();
    expect((await save(b, 'meta', { f_pixel_id: '42', f_access_token: replacement, f_test_event_code: 'TEST1', f_dry_run: 'on' })).status).toBe(303);
    expect((await connections.load(client.id, 'meta', ring))?.connection).toMatchObject({ access_token: replacement, test_event_code: 'TEST1', dry_run: true });
    const after = await (await b.get(pagePath())).text();
    expect(after).not.toContain(replacement.slice(0, 6));
    expect(pageText(after)).toContain('validate only: delivers nothing');
    expect(pageText(after)).toContain('sends everything as test events');
    // An empty setting removes an optional one; an unticked switch is off.
    expect((await save(b, 'meta', { f_pixel_id: '42', f_test_event_code: '' })).status).toBe(303);
    const meta = (await connections.load(client.id, 'meta', ring))?.connection as unknown as Record<string, unknown>;
    expect(meta['test_event_code']).toBeUndefined();
    expect(meta['dry_run']).toBeUndefined();
  });

  it("shows Microsoft's path as a choice, the UET tag id, and the tag's token as a secret; saves the UET path with the token encrypted and never shown", async () => {
    const b = await signedIn();
    const html = await (await b.get(pagePath())).text();
    expect(html).toMatch(
      /<select id="microsoft-api" name="f_api"[^>]*><option value="offline-conversions" selected>offline-conversions<\/option><option value="uet-capi">uet-capi<\/option><\/select>/,
    );
    expect(html).toMatch(/<input type="text" id="microsoft-uet_tag_id" name="f_uet_tag_id" value(="")? /);
    expect(html).toMatch(/<input type="password" id="microsoft-uet_api_token" name="f_uet_api_token" value(="")? autocomplete="new-password"/);
    expect(pageText(html)).toContain("UET tag's Conversions API token (uet-capi path)");

    // The UET path without its tag and token is refused, naming what is missing.
    const refused = await save(b, 'microsoft', { ...FORM.microsoft, f_api: 'uet-capi' });
    expect(refused.status).toBe(400);
    expect(pageText(await refused.text())).toMatch(/UET tag id/);

    const res = await save(b, 'microsoft', { ...FORM.microsoft, f_api: 'uet-capi', f_uet_tag_id: FAKE_DEFAULTS.microsoft.uetTagId, f_uet_api_token: SECRETS.uetToken });
    expect(res.status).toBe(303);
    const saved = await (await b.get(pagePath())).text();
    expect(leaks(saved)).toEqual([]);
    expect(saved).toMatch(/<option value="uet-capi" selected>/);
    expect(pageText(saved)).toMatch(/UET tag's Conversions API token \(uet-capi path\) stored/);
    const stored = (await createConnections(run.store).load(client.id, 'microsoft', ring))?.connection;
    expect(stored).toMatchObject({ api: 'uet-capi', uet_tag_id: FAKE_DEFAULTS.microsoft.uetTagId, uet_api_token: SECRETS.uetToken });
    expect(JSON.stringify(run.db.prepare('SELECT * FROM connections').all())).not.toContain(SECRETS.uetToken);
  });

  it('refuses a bad value or a missing field, naming it by its label, shows the settings typed back and never the secret', async () => {
    const b = await signedIn();
    const bad = await save(b, 'meta', { f_pixel_id: 'px-abc', f_access_token: SECRETS.meta });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(pageText(html)).toContain('Pixel (dataset) id: must be the numeric Pixel (dataset) id from Events Manager.');
    expect(html).toContain('value="px-abc"');
    expect(leaks(html)).toEqual([]);
    const missing = await save(b, 'tiktok', { f_pixel_code: FAKE_DEFAULTS.tiktok.pixelCode });
    expect(missing.status).toBe(400);
    expect(pageText(await missing.text())).toContain('A tiktok connection needs Access token.');
    expect(await run.store.connections.list()).toEqual([]);
  });

  it("shows a connection paused by a real send pass with the platform's error, what it holds back, and when its credentials were last used", async () => {
    const b = await signedIn();
    await save(b, 'meta', FORM.meta);
    let html = pageText(await (await b.get(pagePath())).text());
    expect(html).toContain('Credentials last used not yet used by a send pass');
    const event = {
      id: randomUUID(), client_id: client.id, stage_id: lead.id, stage_key: 'lead', source: 'webhook' as const, reference: 'crm-1', consent: 'granted' as const,
      clicks: { fbclid: { value: 'IwAR-fb-1', ts: new Date(run.clock.now().getTime() - 3_600_000).toISOString() } }, utm: {}, demographics: {},
    };
    expect(run.store.events.admitNow(event, run.clock.now()).status).toBe('stored');
    fakes.script('meta', [{ kind: 'meta-error', code: 190 }]);
    const sender = await createSender({
      store: run.store,
      config: { keyRing: ring, cron: DEFAULT_SEND_CRON, urls: { ...fakes.urls }, versions: { meta: DEFAULT_VERSIONS.meta, googleAds: DEFAULT_VERSIONS.googleAds } },
      now: run.clock.now,
      random: () => 0.5,
      timeoutMs: 2000,
    });
    await sender.runPass({ retriesOnly: false });
    expect((await run.store.connections.get(client.id, 'meta'))?.status).toBe('paused');
    run.clock.advance(5 * 60_000);
    html = pageText(await (await b.get(pagePath())).text());
    expect(html).toMatch(/Meta paused/);
    expect(html).toMatch(/Paused 5 minutes ago\s*: the platform said .*190/);
    expect(html).toContain('1 conversion waits.');
    expect(html).toContain('Credentials last used by a send pass 5 minutes ago');
    // New credentials resume sending.
    await save(b, 'meta', { f_pixel_id: FAKE_DEFAULTS.meta.pixelId, f_access_token: SECRETS.meta });
    expect(pageText(await (await b.get(pagePath())).text())).not.toContain('Paused');
  });

  it('sends a Meta test event only with the test event code typed, shows the answer, and records nothing', async () => {
    const b = await signedIn();
    // Even a connection saved as validate-only: the test needs Meta's answer, so it goes with the code.
    await save(b, 'meta', { ...FORM.meta, f_dry_run: 'on' });
    const before = recorded();
    const noCode = await test(b, 'meta', { test_event_code: '  ' });
    expect(noCode.status).toBe(400);
    expect(pageText(await noCode.text())).toContain('Type the test event code from the events manager');
    expect(fakes.requests('meta')).toHaveLength(0);

    const res = await test(b, 'meta', { test_event_code: 'TEST4242', stage: lead.id });
    expect(res.status).toBe(200);
    const [request] = fakes.requests('meta');
    expect(request?.status).toBe(200);
    const body = request!.body as { test_event_code?: string; data: Array<{ event_name: string; event_id: string }> };
    expect(body.test_event_code).toBe('TEST4242');
    expect(body.data).toHaveLength(1);
    expect(body.data[0]!.event_name).toBe('Lead');
    const html = await res.text();
    const text = pageText(html);
    expect(text).toContain('Meta accepted the test event under the test code TEST4242');
    expect(text).toMatch(/Status sent .*HTTP status 200/);
    expect(text).toContain(`Request id ${(request!.response as { fbtrace_id: string }).fbtrace_id}`);
    expect(text).toContain(`Test event id ${body.data[0]!.event_id}`);
    expect(leaks(html)).toEqual([]);
    // Never a real conversion: nothing stored, the connection untouched.
    expect(recorded()).toEqual(before);
    expect((await run.store.connections.get(client.id, 'meta'))?.last_used_at).toBeUndefined();
  });

  it('sends a TikTok test event with its code and a Google one validate-only, each answer shown', async () => {
    const b = await signedIn();
    await save(b, 'tiktok', FORM.tiktok);
    await save(b, 'google', FORM.google);
    const before = recorded();

    const tiktok = pageText(await (await test(b, 'tiktok', { test_event_code: 'TEST777' })).text());
    const [tt] = fakes.requests('tiktok');
    expect((tt!.body as { test_event_code?: string }).test_event_code).toBe('TEST777');
    expect(tiktok).toContain('TikTok accepted the test event under the test code TEST777');
    expect(tiktok).toContain(`Request id ${(tt!.response as { request_id: string }).request_id}`);

    const google = await test(b, 'google', {});
    expect(google.status).toBe(200);
    const [dm] = fakes.requests('dataManager');
    expect((dm!.body as { validateOnly?: boolean }).validateOnly).toBe(true);
    expect(pageText(await google.text())).toContain('Google validated the request (validate only): nothing was uploaded.');
    expect(fakes.counted('google').size).toBe(0);
    expect(recorded()).toEqual(before);
  });

  it('sends a Microsoft test conversion with a click that matches none, shows the answer, and records nothing', async () => {
    const b = await signedIn();
    await save(b, 'microsoft', FORM.microsoft);
    const before = recorded();
    const res = await test(b, 'microsoft', { stage: lead.id });
    expect(res.status).toBe(200);
    const text = pageText(await res.text());
    expect(text).toContain('Microsoft accepted the test conversion: the credentials, the account and the conversion goal were accepted.');
    const [apply] = fakes.requests('microsoftCampaign').filter((r) => r.path.endsWith('/OfflineConversions/Apply'));
    const item = (apply!.body as { OfflineConversions: Array<Record<string, unknown>> }).OfflineConversions[0]!;
    expect(item).toMatchObject({ ConversionName: MS.goalName, MicrosoftClickId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(item).not.toHaveProperty('HashedEmailAddress');
    expect(fakes.microsoft.silent()).toMatchObject([{ reason: 'NoMatchingClickFound' }]);
    expect(fakes.microsoft.stored()).toEqual([]);
    expect(recorded()).toEqual(before);
    expect((await run.store.connections.get(client.id, 'microsoft'))?.last_used_at).toBeUndefined();

    // A goal the account does not have: Microsoft's refusal, and the connection left active.
    await save(b, 'microsoft', { ...FORM.microsoft, f_goal_name: 'Offline purchases', f_refresh_token: '' });
    const refused = pageText(await (await test(b, 'microsoft', {})).text());
    expect(refused).toContain('Microsoft refused it.');
    expect(refused).toContain('a send pass would pause this connection');
    expect(refused).toContain('names match exactly');
    expect((await run.store.connections.get(client.id, 'microsoft'))?.status).toBe('active');
    expect(fakes.requests('microsoftCampaign').filter((r) => r.path.endsWith('/OfflineConversions/Apply'))).toHaveLength(1);
  });

  it("shows the platform's refusal without pausing the connection", async () => {
    const b = await signedIn();
    await save(b, 'meta', FORM.meta);
    fakes.script('meta', [{ kind: 'meta-error', code: 190 }]);
    const res = await test(b, 'meta', { test_event_code: 'TEST1' });
    expect(res.status).toBe(200);
    const text = pageText(await res.text());
    expect(text).toContain('Meta refused it.');
    expect(text).toContain('a send pass would pause this connection');
    expect(text).toMatch(/HTTP status 400 Error code 190 Error message \S+/);
    expect((await run.store.connections.get(client.id, 'meta'))?.status).toBe('active');
  });

  it('renders hostile client, stage and pause texts as text', async () => {
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    await run.store.clients.rename(client.id, hostile);
    await run.store.stages.create({ client_id: client.id, key: 'evil', name: hostile });
    const b = await signedIn();
    await save(b, 'meta', FORM.meta);
    const con = await run.store.connections.get(client.id, 'meta');
    await run.store.connections.pause(con!.id, hostile, run.clock.now());
    const html = await (await b.get(pagePath())).text();
    expect(html).toContain('&lt;script>alert(1)&lt;/script>&lt;img src=x onerror=alert(2)>');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toMatch(/<img src=x/);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
  });

  it('answers 404 for an unknown client or platform', async () => {
    const b = await signedIn('admin');
    expect((await b.get('/dashboard/connections?client=cli_nope')).status).toBe(404);
    expect((await save(b, 'bing' as Platform, {})).status).toBe(404);
    expect((await b.post('/dashboard/connections/cli_nope/meta', FORM.meta)).status).toBe(404);
  });
});

describe('connections page for a client user', () => {
  it('is 404 (its own client included) and every write 403, and nothing changes or goes out', async () => {
    const staff = await signedIn();
    await save(staff, 'meta', FORM.meta);
    const other = await run.store.clients.create({ name: 'Other' });
    const b = await signedIn('client', client.id);
    for (const path of ['/dashboard/connections', pagePath(), `/dashboard/connections?client=${other.id}`]) {
      const res = await b.get(path);
      expect(res.status, path).toBe(404);
      const html = await res.text();
      expect(html).not.toContain(FAKE_DEFAULTS.meta.pixelId);
      expect(leaks(html)).toEqual([]);
    }
    await b.get('/dashboard/clients');
    expect((await save(b, 'meta', { f_pixel_id: '1', f_access_token: 'x' })).status).toBe(403);
    expect((await b.post(`/dashboard/connections/${other.id}/meta`, { f_pixel_id: '1', f_access_token: 'x' })).status).toBe(403);
    expect((await test(b, 'meta', { test_event_code: 'TEST1' })).status).toBe(403);
    expect(fakes.requests()).toHaveLength(0);
    expect((await run.store.connections.get(client.id, 'meta'))?.settings).toEqual({ pixel_id: FAKE_DEFAULTS.meta.pixelId });
    expect(await run.store.connections.get(other.id, 'meta')).toBeUndefined();
    // The navigation does not offer the page.
    expect(await (await b.get('/dashboard/clients')).text()).not.toContain('href="/dashboard/connections"');
  });
});
