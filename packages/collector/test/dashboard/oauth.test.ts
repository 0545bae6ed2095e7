/**
 * "Connect with OAuth" for Google over real HTTP on a real SQLite file, against
 * the strict fake authorization server and Ads discovery: the happy path, each
 * failure of oauth.md §5.4 ending on a page that says what to do with nothing
 * stored and the previous credentials untouched, a grant revoked between two
 * send passes (paused, rows wait, Reconnect, delivered exactly once), and no
 * code, token or secret in the logs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_VERSIONS, parseKeyRing, type KeyRing } from '@pruuv/sender';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConnections } from '../../src/domain/connections.js';
import { DEFAULT_SEND_CRON } from '../../src/send/send-config.js';
import { createSender } from '../../src/send/sender.js';
import type { Client, Stage } from '../../src/store/types.js';
import { startCollector, tempDir, testClock, type Running, type TestClock } from '../helpers/harness.js';
import { addUser, browser, type Browser } from './helpers.js';
import { pageText } from './page-text.js';
import { capturedLogger, consentRedirect, openCallback, openPage, pendingCount, postSave, pressConnect, signedInOn } from './oauth-flow.js';

const CLIENT_SECRET = randomBytes(24).toString('base64url');

let dir: ReturnType<typeof tempDir>;
let run: Running;
let fakes: FakePlatforms;
let ring: KeyRing;
let client: Client;
let lead: Stage;
let clock: TestClock;
let logs: string[];

async function start(options: { timeoutMs?: number; testing?: boolean; noKey?: boolean } = {}): Promise<void> {
  logs = [];
  run = await startCollector({
    dbFile: `${dir.dir}/pruuv.db`,
    clock,
    app: {
      logger: capturedLogger(logs),
      send: { ...(options.noKey === true ? {} : { keyRing: ring }), urls: { ...fakes.urls }, versions: { meta: DEFAULT_VERSIONS.meta, googleAds: DEFAULT_VERSIONS.googleAds } },
      oauth: {
        platforms: {
          google: {
            app: { clientId: FAKE_DEFAULTS.google.clientId, clientSecret: CLIENT_SECRET, ...(options.testing === true ? { extra: { PRUUV_GOOGLE_OAUTH_PUBLISHING_STATUS: 'testing' } } : {}) },
            urls: { authorize: fakes.urls.googleAuthorize, token: fakes.urls.oauthToken, revoke: fakes.urls.googleRevoke, googleAds: fakes.urls.googleAds },
          },
        },
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      },
    },
  });
  fakes.googleOAuth.registerRedirectUri(`${run.url}/oauth/google/callback`);
}

beforeEach(async () => {
  dir = tempDir();
  clock = testClock('2026-11-20T10:00:00.000Z');
  fakes = await startFakePlatforms({
    now: clock.now,
    google: {
      customers: ['1234567890', '3330000003'],
      conversionActions: ['987654321', '987654322', '555000111'],
      clientId: FAKE_DEFAULTS.google.clientId,
      clientSecret: CLIENT_SECRET,
      refreshTokens: [],
    },
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

const connect = (b: Browser): Promise<URL> => pressConnect(b, client.id, 'google');

const consent = consentRedirect;

const callback = (b: Browser, location: string): ReturnType<typeof openCallback> => openCallback(run, b, location);

const page = openPage;

const saveForm = (b: Browser, grant: string, picks: string[]): Promise<Response> => postSave(run, b, 'google', grant, picks);

async function connectFully(b: Browser): Promise<void> {
  const back = await callback(b, await consent(await connect(b)));
  const grant = new URL(back.next ?? '', run.url).searchParams.get('grant') ?? '';
  await page(b, back.next ?? '');
  const res = await saveForm(b, grant, ['1234567890:1110000001', '987654321']);
  expect(res.status, pageText(await res.clone().text())).toBe(303);
}

function connectionRow(): Record<string, unknown> | undefined {
  return run.db.prepare("SELECT * FROM connections WHERE client_id = ? AND platform = 'google'").get(client.id) as Record<string, unknown> | undefined;
}

const pending = (): number => pendingCount(run);

/** No authorization code, state, token or client secret in anything logged. */
function expectCleanLogs(): void {
  const text = logs.join('');
  expect(text).not.toMatch(/4\/0F[A-Za-z0-9_-]{10}/);
  expect(text).not.toMatch(/ya29\.fake/);
  expect(text).not.toMatch(/1\/\/0fake/);
  expect(text).not.toContain(CLIENT_SECRET);
  expect(text).not.toMatch(/state=[A-Za-z0-9_-]{20}/);
}

describe('Connect Google', () => {
  it('shows the Connect button only for a platform whose app is configured, with the redirect URI to register', async () => {
    const b = await signedIn();
    const { html, text } = await page(b, `/dashboard/connections?client=${client.id}`);
    expect(html).toContain('id="oauth-connect-google"');
    expect(html).not.toContain('id="oauth-connect-meta"');
    expect(text).toContain(`Redirect URI to register with the app: ${run.url}/oauth/google/callback`);
    // Pasting stays available.
    expect(html).toContain('name="f_refresh_token"');
  });

  it('asks Google for offline access with PKCE, lists accounts then conversion actions, and saves them with the tokens encrypted', async () => {
    const b = await signedIn();
    const consentUrl = await connect(b);
    expect(Object.fromEntries(consentUrl.searchParams)).toMatchObject({ access_type: 'offline', code_challenge_method: 'S256', redirect_uri: `${run.url}/oauth/google/callback`, response_type: 'code' });
    expect(pending()).toBe(1);
    const back = await callback(b, await consent(consentUrl));
    expect(back.status).toBe(303);
    // The state was used up; the grant waits for the picks.
    expect(run.db.prepare("SELECT kind FROM oauth_pending").all()).toEqual([{ kind: 'grant' }]);
    const grant = new URL(back.next ?? '', run.url).searchParams.get('grant') ?? '';
    const steps = await page(b, back.next ?? '');
    expect(steps.text).toContain('Client A (123-456-7890)');
    // Client B sits under two managers: listed once. The test account, whose hierarchy query returns no rows (so no name), is listed as reached directly.
    expect(steps.text.match(/Client B \(333-000-0003\)/g)).toHaveLength(1);
    expect(steps.text).toContain('Account (555-000-0005) direct access');
    const res = await saveForm(b, grant, ['1234567890:1110000001', '987654321']);
    expect(res.status).toBe(303);
    const row = connectionRow();
    expect(JSON.parse(String(row?.['settings']))).toEqual({ api: 'data-manager', customer_id: '1234567890', conversion_action_id: '987654321', login_customer_id: '1110000001', client_id: FAKE_DEFAULTS.google.clientId });
    expect(JSON.parse(String(row?.['secret_names'])).sort()).toEqual(['client_secret', 'refresh_token']);
    const refresh = fakes.googleOAuth.refreshTokens()[0] ?? '';
    expect(String(row?.['secrets'])).not.toContain(refresh.slice(0, 12));
    expect(pending()).toBe(0);
    const { text, html } = await page(b, `/dashboard/connections?client=${client.id}`);
    expect(text).toContain('Connected with OAuth');
    expect(text).toContain('Needs you never on its own');
    expect(html).not.toContain(refresh.slice(6, 20));
    expectCleanLogs();
  });
});

describe('Connect Google: failures', () => {
  /** A pasted connection, to check it is left as it was. */
  async function pasted(b: Browser): Promise<Record<string, unknown> | undefined> {
    await b.post(`/dashboard/connections/${client.id}/google`, {
      f_api: 'data-manager', f_customer_id: '1234567890', f_conversion_action_id: '987654321', f_client_id: 'pasted-client', f_client_secret: 'pasted-secret-value', f_refresh_token: 'pasted-refresh-token',
    });
    return connectionRow();
  }

  it('ends a denied consent on a page saying so, with the pasted credentials untouched', async () => {
    const b = await signedIn();
    const before = await pasted(b);
    fakes.googleOAuth.consent('deny');
    const back = await callback(b, await consent(await connect(b)));
    expect(back.status).toBe(400);
    expect(back.text).toContain('Access not granted');
    expect(back.text).toContain('the connection keeps its previous credentials');
    expect(connectionRow()).toEqual(before);
    expect(pending()).toBe(0);
  });

  it('refuses a callback without state, a forged one, and a second hit of the same callback', async () => {
    const b = await signedIn();
    const location = await consent(await connect(b));
    const url = new URL(location);
    url.searchParams.delete('state');
    expect(await callback(b, url.href)).toMatchObject({ status: 400, text: expect.stringContaining('carries no state') });
    url.searchParams.set('state', randomBytes(32).toString('base64url'));
    expect(await callback(b, url.href)).toMatchObject({ status: 400, text: expect.stringContaining('was used already') });
    expect((await callback(b, location)).status).toBe(303);
    const again = await callback(b, location);
    expect(again.status).toBe(400);
    expect(again.text).toContain('Sign-in already used or not recognised');
    expect(again.text).toContain('start again with the Connect button');
  });

  it('refuses a state started by another user, and one older than 10 minutes', async () => {
    const a = await signedIn();
    const other = await signedIn('admin');
    const location = await consent(await connect(a));
    const foreign = await callback(other, location);
    expect(foreign.status).toBe(403);
    expect(foreign.text).toContain('started by another user or in another browser session');
    // Used up by the foreign attempt: the owner cannot use it either.
    expect((await callback(a, location)).status).toBe(400);
    const late = await consent(await connect(a));
    clock.advance(10 * 60_000 + 1);
    const expired = await callback(a, late);
    expect(expired).toMatchObject({ status: 400, text: expect.stringContaining('longer than 10 minutes') });
    expect(connectionRow()).toBeUndefined();
  });

  it('shows Google\'s refusal of a code already used and of an expired code', async () => {
    const b = await signedIn();
    const first = await consent(await connect(b));
    const secondStart = await connect(b);
    await callback(b, first);
    // A second authorization of ours carrying the first (used) code.
    const reused = new URL(first);
    reused.searchParams.set('state', secondStart.searchParams.get('state') ?? '');
    const used = await callback(b, reused.href);
    expect(used.status).toBe(400);
    expect(used.text).toContain('Sign-in code refused');
    expect(used.text).toContain('invalid_grant');
    const late = await consent(await connect(b));
    clock.advance(61_000);
    expect(await callback(b, late)).toMatchObject({ status: 400, text: expect.stringContaining('invalid_grant') });
  });

  it('never reaches the callback when the redirect URI is not registered: Google shows redirect_uri_mismatch', async () => {
    await run.close();
    const unregistered = run.url;
    await start();
    // The new server has another port: its redirect URI is not the registered one.
    expect(run.url).not.toBe(unregistered);
    const b = browser(run.url);
    const email = `staff-${randomUUID()}@agency.example`;
    await addUser(run.store, email, 'staff');
    await b.signIn(email);
    await b.get(`/dashboard/connections?client=${client.id}`);
    fakes.googleOAuth.consent('approve');
    const fresh = new URL(`${run.url}/oauth/google/callback`);
    const url = await connect(b);
    url.searchParams.set('redirect_uri', `${fresh.href}/`);
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Error 400: redirect_uri_mismatch');
  });

  it('ends a token endpoint that answers 503 or does not answer on a page saying to try again, nothing stored', async () => {
    await run.close();
    await start({ timeoutMs: 300 });
    const b = await signedIn();
    fakes.script('oauth', [{ kind: 'status', status: 503, body: { error: 'backend_error' } }]);
    const down = await callback(b, await consent(await connect(b)));
    expect(down.status).toBe(502);
    expect(down.text).toContain('The platform did not answer');
    expect(down.text).toContain('HTTP 503');
    fakes.script('oauth', [{ kind: 'hang' }]);
    const hung = await callback(b, await consent(await connect(b)));
    expect(hung.status).toBe(502);
    expect(hung.text).toContain('did not answer');
    expect(connectionRow()).toBeUndefined();
    expect(pending()).toBe(0);
  });

  it('says so when the Google account reaches no Ads account, and stores nothing', async () => {
    const b = await signedIn();
    fakes.googleOAuth.grantAccess([]);
    const back = await callback(b, await consent(await connect(b)));
    const pick = await page(b, back.next ?? '');
    expect(pick.status).toBe(400);
    expect(pick.text).toContain('Nothing to connect');
    expect(pick.text).toContain('reaches no Google Ads account');
    expect(connectionRow()).toBeUndefined();
  });

  it('answers 404 for the callback of a platform without OAuth', async () => {
    const b = await signedIn();
    const res = await b.get('/oauth/nowhere/callback?state=x&code=y');
    expect(res.status).toBe(404);
    expect(pageText(await res.text())).toContain('There is no such platform to connect.');
  });

  it('says the encryption key is missing before sending anyone to Google', async () => {
    await run.close();
    await start({ noKey: true });
    const b = await signedIn();
    const res = await b.post(`/dashboard/connections/${client.id}/oauth/google/start`, {});
    expect(res.status).toBe(400);
    expect(pageText(await res.text())).toContain('PRUUV_ENCRYPTION_KEY is not set');
    expect(pending()).toBe(0);
  });

  it('says which permission is missing when only adwords was granted', async () => {
    const b = await signedIn();
    fakes.googleOAuth.consent('partial');
    const back = await callback(b, await consent(await connect(b)));
    expect(back.status).toBe(400);
    expect(back.text).toContain('A permission is missing');
    expect(back.text).toContain('https://www.googleapis.com/auth/datamanager');
  });
});

describe('a grant revoked mid-way', () => {
  it('pauses the connection with Google\'s error, keeps the rows waiting, and delivers them exactly once after Reconnect', async () => {
    const b = await signedIn();
    await connectFully(b);
    const sender = await createSender({
      store: run.store,
      config: { keyRing: ring, cron: DEFAULT_SEND_CRON, urls: { ...fakes.urls }, versions: { meta: DEFAULT_VERSIONS.meta, googleAds: DEFAULT_VERSIONS.googleAds } },
      now: run.clock.now,
      random: () => 0.5,
      timeoutMs: 2000,
    });
    const admit = (n: number): void => {
      const event = {
        id: randomUUID(), client_id: client.id, stage_id: lead.id, stage_key: 'lead', source: 'webhook' as const, reference: `crm-${n}`, consent: 'granted' as const,
        clicks: { gclid: { value: `Cj0KCQiA-oauth-${n}`, ts: new Date(run.clock.now().getTime() - 3_600_000).toISOString() } }, utm: {}, demographics: {},
      };
      expect(run.store.events.admitNow(event, run.clock.now()).status).toBe('stored');
    };
    admit(1);
    await sender.runPass({ retriesOnly: false });
    expect([...fakes.counted('google').values()]).toEqual([1]);
    // The user removes Pruuv's access in their Google account.
    fakes.googleOAuth.revoke();
    admit(2);
    admit(3);
    await sender.runPass({ retriesOnly: false });
    const paused = await run.store.connections.get(client.id, 'google');
    expect(paused?.status).toBe('paused');
    expect(paused?.status_reason).toContain('invalid_grant');
    const { text, html } = await page(b, `/dashboard/connections?client=${client.id}`);
    expect(text).toContain('2 conversions wait.');
    expect(html).toContain('Reconnect Google');
    await connectFully(b);
    expect((await run.store.connections.get(client.id, 'google'))?.status).toBe('active');
    await sender.runPass({ retriesOnly: false });
    await sender.runPass({ retriesOnly: false });
    const counts = [...fakes.counted('google').values()];
    expect(counts).toEqual([1, 1, 1]);
    expectCleanLogs();
  });
});

describe('refresh in the send runtime', () => {
  it('lets one worker at a time refresh a credential, and records the refresh on the connection', async () => {
    const b = await signedIn();
    await connectFully(b);
    const connection = await run.store.connections.get(client.id, 'google');
    expect((await run.store.oauth.grant(connection?.id ?? ''))?.refreshed_at).toBeUndefined();
    // Token requests take 150 ms: two workers refreshing together would overlap.
    const intervals: Array<[number, number]> = [];
    const slowTokens = async (input: string, init: RequestInit): Promise<Response> => {
      if (!input.startsWith(fakes.urls.oauthToken)) return fetch(input, init);
      const startedAt = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 150));
      const res = await fetch(input, init);
      intervals.push([startedAt, performance.now()]);
      return res;
    };
    const worker = (owner: string) =>
      createSender({
        store: run.store,
        config: { keyRing: ring, cron: DEFAULT_SEND_CRON, urls: { ...fakes.urls }, versions: { meta: DEFAULT_VERSIONS.meta, googleAds: DEFAULT_VERSIONS.googleAds } },
        now: run.clock.now,
        random: () => 0.5,
        timeoutMs: 2000,
        owner,
        claimLimit: 1,
        fetch: slowTokens,
      });
    const [w1, w2] = await Promise.all([worker('w1'), worker('w2')]);
    for (const n of [1, 2]) {
      const event = {
        id: randomUUID(), client_id: client.id, stage_id: lead.id, stage_key: 'lead', source: 'webhook' as const, reference: `crm-${n}`, consent: 'granted' as const,
        clicks: { gclid: { value: `Cj0KCQiA-lock-${n}`, ts: new Date(run.clock.now().getTime() - 3_600_000).toISOString() } }, utm: {}, demographics: {},
      };
      run.store.events.admitNow(event, run.clock.now());
    }
    await Promise.all([w1.runPass({ retriesOnly: false }), w2.runPass({ retriesOnly: false })]);
    expect(intervals).toHaveLength(2);
    const [a, c] = [...intervals].sort((x, y) => x[0] - y[0]) as [[number, number], [number, number]];
    expect(c[0], 'the second refresh started before the first one ended').toBeGreaterThanOrEqual(a[1] - 1);
    expect([...fakes.counted('google').values()]).toEqual([1, 1]);
    const grant = await run.store.oauth.grant(connection?.id ?? '');
    expect(grant?.refreshed_at).toBe(run.clock.now().toISOString());
    expect((await page(b, `/dashboard/connections?client=${client.id}`)).text).toMatch(/Access token refreshed/);
    // The leases were given back.
    expect(run.db.prepare('SELECT COUNT(*) AS n FROM oauth_refresh_leases').get()).toEqual({ n: 0 });
  });
});

describe('a rotated refresh token', () => {
  it('is written back, encrypted, into the connection that holds it', async () => {
    const b = await signedIn();
    await connectFully(b);
    const rotated = `1//0rotated-${randomBytes(16).toString('base64url')}`;
    // A platform that rotates refresh tokens answers the refresh with a new one.
    const rotating = async (input: string, init: RequestInit): Promise<Response> => {
      const res = await fetch(input, init);
      if (!input.startsWith(fakes.urls.oauthToken) || res.status !== 200) return res;
      const body = (await res.json()) as Record<string, unknown>;
      return new Response(JSON.stringify({ ...body, refresh_token: rotated }), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const sender = await createSender({
      store: run.store,
      config: { keyRing: ring, cron: DEFAULT_SEND_CRON, urls: { ...fakes.urls }, versions: { meta: DEFAULT_VERSIONS.meta, googleAds: DEFAULT_VERSIONS.googleAds } },
      now: run.clock.now,
      random: () => 0.5,
      timeoutMs: 2000,
      fetch: rotating,
    });
    const event = {
      id: randomUUID(), client_id: client.id, stage_id: lead.id, stage_key: 'lead', source: 'webhook' as const, reference: 'crm-r', consent: 'granted' as const,
      clicks: { gclid: { value: 'Cj0KCQiA-rotate-1', ts: new Date(run.clock.now().getTime() - 3_600_000).toISOString() } }, utm: {}, demographics: {},
    };
    run.store.events.admitNow(event, run.clock.now());
    await sender.runPass({ retriesOnly: false });
    const stored = await createConnections(run.store).load(client.id, 'google', ring);
    expect((stored?.connection as { refresh_token?: string } | undefined)?.refresh_token).toBe(rotated);
    expect(String(connectionRow()?.['secrets'])).not.toContain(rotated.slice(0, 16));
    expect((await run.store.connections.get(client.id, 'google'))?.status).toBe('active');
  });
});

describe('token health', () => {
  it('shows when a grant of an app in Testing status ends, and warns on the overview', async () => {
    await run.close();
    await start({ testing: true });
    const b = await signedIn();
    await connectFully(b);
    const { text } = await page(b, `/dashboard/connections?client=${client.id}`);
    expect(text).toContain('Needs you reconnect before 2026-11-27 10:00 UTC');
    const overview = await page(b, '/dashboard');
    expect(overview.text).toContain("Acme: Google 's access ends on 2026-11-27 10:00 UTC unless someone reconnects it.");
    // A published app's grant needs nobody: no warning.
    await run.close();
    await start();
    const again = await signedIn();
    await connectFully(again);
    expect((await page(again, '/dashboard')).text).not.toContain('unless someone reconnects it');
  });
});

describe('Disconnect', () => {
  it('revokes the grant at Google and deletes the connection here', async () => {
    const b = await signedIn();
    await connectFully(b);
    expect(fakes.googleOAuth.refreshTokens()).toHaveLength(1);
    const res = await b.post(`/dashboard/connections/${client.id}/oauth/google/disconnect`, {});
    expect(res.status).toBe(303);
    expect(fakes.googleOAuth.refreshTokens()).toEqual([]);
    expect(connectionRow()).toBeUndefined();
    expect((await page(b, res.headers.get('location') ?? '')).text).toContain('Google revoked the access and the token was deleted here');
  });
});

