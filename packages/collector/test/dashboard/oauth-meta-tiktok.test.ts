/**
 * "Connect with OAuth" for Meta and TikTok over real HTTP on a real SQLite file, against the strict
 * fake authorization servers and discovery (oauth.md §5.2, §5.3, §5.4): the happy path per platform,
 * each failure ending on a page that says what to do with nothing stored, a token killed or revoked
 * between two send passes (paused with the platform's own error, rows waiting, Reconnect, delivered
 * exactly once), Disconnect, and no code, token or secret in the logs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_VERSIONS, parseKeyRing, type KeyRing } from '@pruuv/sender';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SEND_CRON } from '../../src/send/send-config.js';
import { createSender, type Sender } from '../../src/send/sender.js';
import type { Client, Stage } from '../../src/store/types.js';
import { startCollector, tempDir, testClock, type Running, type TestClock } from '../helpers/harness.js';
import { type Browser } from './helpers.js';
import { pageText } from './page-text.js';
import { capturedLogger, consentRedirect, openCallback, openPage, pendingCount, postSave, pressConnect, signedInOn } from './oauth-flow.js';

const META_SECRET = randomBytes(24).toString('base64url');
const TIKTOK_SECRET = randomBytes(24).toString('base64url');
const META_APP = FAKE_DEFAULTS.metaOAuth.app.id;
const TIKTOK_APP = FAKE_DEFAULTS.tiktokOAuth.app.id;
const BISU_CONFIG = '900000000000001';
const USER_CONFIG = '900000000000002';
const META_PIXEL = '1234567890123456';
const CLIENT_SHOP = '7012345678901234567';
const TIKTOK_PIXEL = 'CFAKEPIXEL0000000000';

type OAuthPlatform = 'meta' | 'tiktok';

let dir: ReturnType<typeof tempDir>;
let run: Running;
let fakes: FakePlatforms;
let ring: KeyRing;
let client: Client;
let lead: Stage;
let clock: TestClock;
let logs: string[];

async function start(options: { timeoutMs?: number; metaConfig?: string } = {}): Promise<void> {
  logs = [];
  run = await startCollector({
    dbFile: `${dir.dir}/pruuv.db`,
    clock,
    app: {
      logger: capturedLogger(logs),
      send: { keyRing: ring, urls: { ...fakes.urls }, versions: { ...DEFAULT_VERSIONS } },
      oauth: {
        platforms: {
          meta: {
            app: { clientId: META_APP, clientSecret: META_SECRET, extra: { PRUUV_META_APP_CONFIG_ID: options.metaConfig ?? BISU_CONFIG } },
            urls: { authorize: fakes.urls.metaOAuth, meta: fakes.urls.meta },
          },
          tiktok: { app: { clientId: TIKTOK_APP, clientSecret: TIKTOK_SECRET }, urls: { authorize: fakes.urls.tiktokOAuth, tiktok: fakes.urls.tiktok } },
        },
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      },
    },
  });
  fakes.oauth.allowRedirectUri('meta', `${run.url}/oauth/meta/callback`);
  fakes.oauth.allowRedirectUri('tiktok', `${run.url}/oauth/tiktok/callback`);
}

beforeEach(async () => {
  dir = tempDir();
  clock = testClock('2026-11-20T10:00:00.000Z');
  fakes = await startFakePlatforms({
    now: clock.now,
    metaOAuth: { ...FAKE_DEFAULTS.metaOAuth, app: { id: META_APP, secret: META_SECRET } },
    tiktokOAuth: { ...FAKE_DEFAULTS.tiktokOAuth, app: { id: TIKTOK_APP, secret: TIKTOK_SECRET } },
  });
  ring = parseKeyRing(randomBytes(32).toString('base64'));
  await start();
  client = await run.store.clients.create({ name: 'Acme', origins: ['https://www.shop.example'] });
  lead = (await run.store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
});
afterEach(async () => {
  await run.close();
  await fakes.close();
  dir.cleanup();
});

const signedIn = (role: 'admin' | 'staff' = 'staff'): Promise<Browser> => signedInOn(run, client.id, role);

const connect = (b: Browser, platform: OAuthPlatform): Promise<URL> => pressConnect(b, client.id, platform);

const consent = consentRedirect;

const callback = (b: Browser, location: string): ReturnType<typeof openCallback> => openCallback(run, b, location);

const page = openPage;

const saveForm = (b: Browser, platform: OAuthPlatform, grant: string, picks: string[]): Promise<Response> => postSave(run, b, platform, grant, picks);

const PICKS: Record<OAuthPlatform, string[]> = { meta: [META_PIXEL], tiktok: [CLIENT_SHOP, TIKTOK_PIXEL] };

async function connectFully(b: Browser, platform: OAuthPlatform, picks: string[] = PICKS[platform]): Promise<void> {
  const back = await callback(b, await consent(await connect(b, platform)));
  expect(back.status, back.text).toBe(303);
  const grant = new URL(back.next ?? '', run.url).searchParams.get('grant') ?? '';
  await page(b, back.next ?? '');
  const res = await saveForm(b, platform, grant, picks);
  expect(res.status, pageText(await res.clone().text())).toBe(303);
}

function connectionRow(platform: OAuthPlatform): Record<string, unknown> | undefined {
  return run.db.prepare('SELECT * FROM connections WHERE client_id = ? AND platform = ?').get(client.id, platform) as Record<string, unknown> | undefined;
}

const pending = (): number => pendingCount(run);

/** No authorization code, token or app secret in anything logged. */
function expectCleanLogs(): void {
  const text = logs.join('');
  for (const t of fakes.oauth.metaTokens()) expect(text).not.toContain(t.token);
  for (const t of fakes.oauth.tiktokTokens()) expect(text).not.toContain(t.token);
  expect(text).not.toContain(META_SECRET);
  expect(text).not.toContain(TIKTOK_SECRET);
  // Meta codes start with AQ, TikTok's are 40 hex digits.
  expect(text).not.toMatch(/AQ[\w-]{40}/);
  expect(text).not.toMatch(/code=[0-9a-f]{40}/);
  expect(text).not.toMatch(/state=[A-Za-z0-9_-]{20}/);
}

function admit(n: number, platform: OAuthPlatform): void {
  const ts = new Date(run.clock.now().getTime() - 3_600_000).toISOString();
  const clicks = platform === 'meta' ? { fbclid: { value: `IwAR-oauth-${n}`, ts } } : { ttclid: { value: `E.C.P.oauth-${n}`, ts } };
  const event = {
    id: randomUUID(), client_id: client.id, stage_id: lead.id, stage_key: 'lead', source: 'webhook' as const, reference: `crm-${platform}-${n}`,
    consent: 'granted' as const, clicks, utm: {}, demographics: {},
  };
  expect(run.store.events.admitNow(event, run.clock.now()).status).toBe('stored');
}

async function sender(): Promise<Sender> {
  return createSender({
    store: run.store,
    config: { keyRing: ring, cron: DEFAULT_SEND_CRON, urls: { ...fakes.urls }, versions: { ...DEFAULT_VERSIONS } },
    now: run.clock.now,
    random: () => 0.5,
    timeoutMs: 2000,
  });
}

describe('Connect Meta', () => {
  it('shows Connect for Meta and TikTok with the redirect URIs to register', async () => {
    const b = await signedIn();
    const { html, text } = await page(b, `/dashboard/connections?client=${client.id}`);
    expect(html).toContain('id="oauth-connect-meta"');
    expect(html).toContain('id="oauth-connect-tiktok"');
    expect(text).toContain(`${run.url}/oauth/meta/callback`);
    expect(text).toContain(`${run.url}/oauth/tiktok/callback`);
  });

  it('sends the dialog the config_id, picks a dataset of the client business, and saves it with the system-user token encrypted', async () => {
    const b = await signedIn();
    const url = await connect(b, 'meta');
    expect(`${url.origin}${url.pathname}`).toBe(`${fakes.urls.metaOAuth}/v26.0/dialog/oauth`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: META_APP, redirect_uri: `${run.url}/oauth/meta/callback`, state: expect.any(String), response_type: 'code', config_id: BISU_CONFIG,
    });
    const back = await callback(b, await consent(url));
    expect(back.status).toBe(303);
    const grant = new URL(back.next ?? '', run.url).searchParams.get('grant') ?? '';
    const steps = await page(b, back.next ?? '');
    expect(steps.text).toContain('Which dataset (pixel) receives the conversions?');
    expect(steps.text).toContain('Client Shop web');
    expect(steps.text).toContain('Wholesale partner pixel');
    expect((await saveForm(b, 'meta', grant, [META_PIXEL])).status).toBe(303);
    const row = connectionRow('meta');
    expect(JSON.parse(String(row?.['settings']))).toMatchObject({ pixel_id: META_PIXEL });
    expect(JSON.parse(String(row?.['secret_names']))).toEqual(['access_token']);
    const token = fakes.oauth.metaTokens()[0]?.token ?? '';
    expect(String(row?.['secrets'])).not.toContain(token.slice(0, 16));
    expect(pending()).toBe(0);
    const { text, html } = await page(b, `/dashboard/connections?client=${client.id}`);
    expect(text).toContain('Connected with OAuth');
    expect(text).toContain('never on its own');
    expect(html).not.toContain(token.slice(4, 20));
    expectCleanLogs();
  });

  it('with a user-token configuration, offers businesses and ad accounts and shows when the long-lived token ends', async () => {
    await run.close();
    await start({ metaConfig: USER_CONFIG });
    const b = await signedIn();
    await connectFully(b, 'meta', ['act:300000000000001', META_PIXEL]);
    const { text } = await page(b, `/dashboard/connections?client=${client.id}`);
    // 5,183,944 s after 2026-11-20 10:00 UTC.
    expect(text).toContain('reconnect before 2027-01-19 09:59 UTC');
    expect(text).toContain('expires 2027-01-19 09:59 UTC (only a new sign-in renews it)');
    expect(text).not.toContain('renewed by itself');
  });
});

describe('Connect TikTok', () => {
  it('lists advertisers, then the pixels of the one picked over two pages, and saves the pixel code with the token encrypted', async () => {
    const b = await signedIn();
    const url = await connect(b, 'tiktok');
    expect(Object.fromEntries(url.searchParams)).toEqual({ app_id: TIKTOK_APP, state: expect.any(String), redirect_uri: `${run.url}/oauth/tiktok/callback` });
    const back = await callback(b, await consent(url));
    const grant = new URL(back.next ?? '', run.url).searchParams.get('grant') ?? '';
    const first = await page(b, back.next ?? '');
    expect(first.text).toContain('Which TikTok ad account (advertiser)?');
    expect(first.text).toContain('Second Client');
    const second = await page(b, `/dashboard/oauth/tiktok/pick?grant=${encodeURIComponent(grant)}&pick=${CLIENT_SHOP}`);
    expect(second.status).toBe(200);
    expect(second.text).toContain('Which pixel of Client Shop?');
    // Pixel 20 sits on the second page of 20; 21 was shared, then unbound.
    expect(second.text).toContain('Client Shop campaign 20');
    expect(second.text).not.toContain('Client Shop campaign 21');
    expect((await saveForm(b, 'tiktok', grant, PICKS.tiktok)).status).toBe(303);
    const row = connectionRow('tiktok');
    expect(JSON.parse(String(row?.['settings']))).toMatchObject({ pixel_code: TIKTOK_PIXEL });
    expect(JSON.parse(String(row?.['secret_names']))).toEqual(['access_token']);
    expect(String(row?.['secrets'])).not.toContain(fakes.oauth.tiktokTokens()[0]?.token ?? 'none');
    expectCleanLogs();
  });

  it('reads a callback with code only (no auth_code)', async () => {
    const b = await signedIn();
    fakes.script('tiktokPortal', [{ kind: 'consent', decision: 'approve', codeOnly: true }]);
    const back = await callback(b, await consent(await connect(b, 'tiktok')));
    expect(back.status).toBe(303);
  });
});

describe('failures, per platform', () => {
  for (const platform of ['meta', 'tiktok'] as const) {
    describe(platform, () => {
      it('ends a denied consent on a page saying so, nothing stored', async () => {
        const b = await signedIn();
        fakes.script(platform === 'meta' ? 'metaDialog' : 'tiktokPortal', [{ kind: 'consent', decision: 'deny' }]);
        const back = await callback(b, await consent(await connect(b, platform)));
        expect(back.status).toBe(400);
        expect(back.text).toContain('Access not granted');
        expect(connectionRow(platform)).toBeUndefined();
        expect(pending()).toBe(0);
      });

      it('refuses a missing, a forged and a replayed state, and one older than 10 minutes', async () => {
        const b = await signedIn();
        const location = await consent(await connect(b, platform));
        const url = new URL(location);
        url.searchParams.delete('state');
        expect(await callback(b, url.href)).toMatchObject({ status: 400, text: expect.stringContaining('carries no state') });
        url.searchParams.set('state', randomBytes(32).toString('base64url'));
        expect((await callback(b, url.href)).status).toBe(400);
        expect((await callback(b, location)).status).toBe(303);
        const again = await callback(b, location);
        expect(again.status).toBe(400);
        expect(again.text).toContain('start again with the Connect button');
        const late = await consent(await connect(b, platform));
        clock.advance(10 * 60_000 + 1);
        expect(await callback(b, late)).toMatchObject({ status: 400, text: expect.stringContaining('longer than 10 minutes') });
      });

      it("shows the platform's refusal of a code already used", async () => {
        const b = await signedIn();
        const first = await consent(await connect(b, platform));
        const secondStart = await connect(b, platform);
        await callback(b, first);
        const reused = new URL(first);
        reused.searchParams.set('state', secondStart.searchParams.get('state') ?? '');
        const used = await callback(b, reused.href);
        expect(used.status).toBe(400);
        expect(used.text).toContain(platform === 'meta' ? '36009' : '40110');
        expect(connectionRow(platform)).toBeUndefined();
      });

      it('never reaches the callback when the redirect URI is not registered: the platform shows its error page', async () => {
        const b = await signedIn();
        const url = await connect(b, platform);
        url.searchParams.set('redirect_uri', `${run.url}/oauth/${platform}/callback/`);
        const res = await fetch(url, { redirect: 'manual' });
        expect(res.status).toBe(400);
        expect(res.headers.get('location')).toBeNull();
      });

      it('ends a token endpoint that answers 5xx or does not answer on a page saying to try again, nothing stored', async () => {
        await run.close();
        await start({ timeoutMs: 300 });
        const b = await signedIn();
        const route = platform === 'meta' ? 'meta' : 'tiktok';
        fakes.script(route, [{ kind: 'status', status: 503, body: 'unavailable' }]);
        const down = await callback(b, await consent(await connect(b, platform)));
        expect(down.status).toBe(502);
        expect(down.text).toContain('HTTP 503');
        fakes.script(route, [{ kind: 'hang' }]);
        const hung = await callback(b, await consent(await connect(b, platform)));
        expect(hung.status).toBe(502);
        expect(hung.text).toContain('did not answer');
        expect(connectionRow(platform)).toBeUndefined();
        expect(pending()).toBe(0);
      });
    });
  }

  it('says so when the Meta business has no dataset', async () => {
    await run.close();
    await fakes.close();
    fakes = await startFakePlatforms({
      now: clock.now,
      metaOAuth: { ...FAKE_DEFAULTS.metaOAuth, app: { id: META_APP, secret: META_SECRET }, businesses: [{ id: '200000000000001', name: 'Empty', ownedPixels: [], clientPixels: [], adAccounts: [] }] },
    });
    await start();
    const b = await signedIn();
    const back = await callback(b, await consent(await connect(b, 'meta')));
    const pick = await page(b, back.next ?? '');
    expect(pick.status).toBe(400);
    expect(pick.text).toContain('Nothing to connect');
    expect(pick.text).toContain('reaches no dataset');
    expect(connectionRow('meta')).toBeUndefined();
  });

  it('says so when every TikTok advertiser was unticked or withdrawn', async () => {
    const b = await signedIn();
    const back = await callback(b, await consent(await connect(b, 'tiktok')));
    fakes.oauth.withdrawTikTokAdvertiser(CLIENT_SHOP);
    fakes.oauth.withdrawTikTokAdvertiser('7012345678901234568');
    const pick = await page(b, back.next ?? '');
    expect(pick.status).toBe(400);
    expect(pick.text).toContain('Nothing to connect');
    expect(connectionRow('tiktok')).toBeUndefined();
  });

  it('says which Meta permission is missing after a partial grant', async () => {
    const b = await signedIn();
    fakes.script('metaDialog', [{ kind: 'consent', decision: 'approve', grant: ['ads_read'] }]);
    const back = await callback(b, await consent(await connect(b, 'meta')));
    expect(back.status).toBe(400);
    expect(back.text).toContain('A permission is missing');
    expect(back.text).toContain('business_management');
  });
});

describe('a token killed or revoked mid-way', () => {
  const cases = [
    { platform: 'meta' as const, kill: () => fakes.oauth.killMetaTokens(460), reason: /190/, message: 'changed their password' },
    { platform: 'tiktok' as const, kill: () => fakes.oauth.revokeTikTokTokens(), reason: /40001/, message: 'revoked' },
  ];
  for (const { platform, kill, reason, message } of cases) {
    it(`pauses ${platform} with the platform's own error, keeps the rows waiting, and delivers them exactly once after Reconnect`, async () => {
      const b = await signedIn();
      await connectFully(b, platform);
      const s = await sender();
      admit(1, platform);
      await s.runPass({ retriesOnly: false });
      const counted = platform === 'meta' ? 'meta' : 'tiktok';
      expect([...fakes.counted(counted).values()]).toEqual([1]);
      kill();
      admit(2, platform);
      admit(3, platform);
      await s.runPass({ retriesOnly: false });
      const paused = await run.store.connections.get(client.id, platform);
      expect(paused?.status).toBe('paused');
      expect(paused?.status_reason).toMatch(reason);
      expect(paused?.status_reason).toContain(message);
      const { text, html } = await page(b, `/dashboard/connections?client=${client.id}`);
      expect(text).toContain('2 conversions wait.');
      expect(html).toContain(`Reconnect ${platform === 'meta' ? 'Meta' : 'TikTok'}`);
      await connectFully(b, platform);
      expect((await run.store.connections.get(client.id, platform))?.status).toBe('active');
      await s.runPass({ retriesOnly: false });
      await s.runPass({ retriesOnly: false });
      expect([...fakes.counted(counted).values()]).toEqual([1, 1, 1]);
      expectCleanLogs();
    });
  }
});

describe('Disconnect', () => {
  it('revokes the TikTok token at TikTok and deletes the connection here', async () => {
    const b = await signedIn();
    await connectFully(b, 'tiktok');
    const res = await b.post(`/dashboard/connections/${client.id}/oauth/tiktok/disconnect`, {});
    expect(res.status).toBe(303);
    expect(fakes.oauth.tiktokTokens().map((t) => t.live)).toEqual([false]);
    expect(connectionRow('tiktok')).toBeUndefined();
  });

  it('deletes the Meta token here and says where to remove the app, Meta having no revoke', async () => {
    const b = await signedIn();
    await connectFully(b, 'meta');
    const res = await b.post(`/dashboard/connections/${client.id}/oauth/meta/disconnect`, {});
    expect(res.status).toBe(303);
    expect(connectionRow('meta')).toBeUndefined();
    const text = (await page(b, res.headers.get('location') ?? '')).text;
    expect(text).toContain('Disconnected: the connection and its credentials were deleted here.');
    expect(text).toContain('Business Settings → Integrations → Connected apps');
  });
});
