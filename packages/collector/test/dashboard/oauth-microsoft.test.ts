/**
 * "Connect with OAuth" for Microsoft Advertising over real HTTP on a real SQLite file, against the
 * strict fake identity platform and Customer/Campaign Management (microsoft-ads.md §7.1–§7.3, §10):
 * consent on the fake's page, account then offline goal, Save filling the connection (the goal's
 * enhanced flag as a boolean), a conversion sent once, a rotated refresh token written back, a
 * revoked grant pausing the connection until Reconnect, each failure ending on a page that says what
 * to do with nothing stored, and Disconnect saying where to remove the app.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_VERSIONS, decryptSecret, parseKeyRing, type KeyRing } from '@pruuv/sender';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms, type FakeMicrosoftOptions } from '@pruuv/fakes';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createConnections } from '../../src/domain/connections.js';
import { DEFAULT_SEND_CRON } from '../../src/send/send-config.js';
import { createSender, type Sender } from '../../src/send/sender.js';
import type { Client, Stage } from '../../src/store/types.js';
import { startCollector, tempDir, testClock, type Running, type TestClock } from '../helpers/harness.js';
import { browser, type Browser } from './helpers.js';
import { pageText } from './page-text.js';
import { capturedLogger, openCallback, openPage, pendingCount, postSave, pressConnect, signedInOn } from './oauth-flow.js';

const MS = FAKE_DEFAULTS.microsoft;
const SECRET = randomBytes(24).toString('base64url');
const ACCOUNT_PICK = `${MS.customerId}:${MS.accountId}`;

let dir: ReturnType<typeof tempDir>;
let run: Running;
let fakes: FakePlatforms;
let ring: KeyRing;
let client: Client;
let lead: Stage;
let clock: TestClock;
let logs: string[];
/** UET tags of the fake's account: none unless a suite sets them (then Connect asks the path third). */
let uetTags: FakeMicrosoftOptions['uetTags'];

function fakeOptions(goals?: FakeMicrosoftOptions['goals']): FakeMicrosoftOptions {
  return {
    customerId: MS.customerId,
    accounts: [{ id: MS.accountId, name: 'Contoso', number: MS.accountNumber }],
    goals: goals ?? [{ id: MS.goalId, name: MS.goalName, accountId: MS.accountId, enhanced: true }],
    clientId: MS.clientId,
    clientSecret: SECRET,
    redirectUris: [],
    refreshTokens: [],
    developerToken: MS.developerToken,
    ...(uetTags !== undefined ? { uetTags } : {}),
  };
}

async function start(options: { timeoutMs?: number } = {}): Promise<void> {
  logs = [];
  run = await startCollector({
    dbFile: `${dir.dir}/pruuv.db`,
    clock,
    app: {
      logger: capturedLogger(logs),
      send: { keyRing: ring, urls: { ...fakes.urls }, versions: { ...DEFAULT_VERSIONS } },
      oauth: {
        platforms: {
          microsoft: {
            app: { clientId: MS.clientId, clientSecret: SECRET, extra: { PRUUV_MICROSOFT_DEVELOPER_TOKEN: MS.developerToken } },
            urls: {
              authorize: fakes.urls.microsoftAuthorize,
              token: fakes.urls.microsoftToken,
              microsoftCustomer: fakes.urls.microsoftCustomer,
              microsoftCustomerSandbox: fakes.urls.microsoftCustomerSandbox,
              microsoftCampaign: fakes.urls.microsoftCampaign,
              microsoftCampaignSandbox: fakes.urls.microsoftCampaignSandbox,
            },
          },
        },
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      },
    },
  });
  fakes.oauth.allowRedirectUri('microsoft', `${run.url}/oauth/microsoft/callback`);
}

async function startFakes(goals?: FakeMicrosoftOptions['goals']): Promise<void> {
  fakes = await startFakePlatforms({ now: clock.now, microsoft: fakeOptions(goals) });
}

beforeEach(async () => {
  dir = tempDir();
  clock = testClock('2026-11-20T10:00:00.000Z');
  await startFakes();
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

const signedIn = (): Promise<Browser> => signedInOn(run, client.id);

const connect = (b: Browser): Promise<URL> => pressConnect(b, client.id, 'microsoft');

/** The fake's consent page, then its Accept (or Cancel) link: where it sends the browser back. */
async function consent(url: URL, choice: 'accept' | 'deny' = 'accept'): Promise<string> {
  const pageRes = await fetch(url, { redirect: 'manual' });
  expect(pageRes.status, await pageRes.clone().text()).toBe(200);
  const link = new RegExp(`id="${choice}" href="([^"]+)"`).exec(await pageRes.text())?.[1] ?? '';
  const res = await fetch(new URL(link.replace(/&#38;/g, '&'), url), { redirect: 'manual' });
  expect(res.status).toBe(302);
  return res.headers.get('location') ?? '';
}

const callback = (b: Browser, location: string): ReturnType<typeof openCallback> => openCallback(run, b, location);

const page = openPage;

const saveForm = (b: Browser, grant: string, picks: string[]): Promise<Response> => postSave(run, b, 'microsoft', grant, picks);

async function connectFully(b: Browser, path: string[] = []): Promise<void> {
  const back = await callback(b, await consent(await connect(b)));
  expect(back.status, back.text).toBe(303);
  const grant = new URL(back.next ?? '', run.url).searchParams.get('grant') ?? '';
  await page(b, back.next ?? '');
  const res = await saveForm(b, grant, [ACCOUNT_PICK, MS.goalId, ...path]);
  expect(res.status, pageText(await res.clone().text())).toBe(303);
}

function connectionRow(): Record<string, unknown> | undefined {
  return run.db.prepare('SELECT * FROM connections WHERE client_id = ? AND platform = ?').get(client.id, 'microsoft') as Record<string, unknown> | undefined;
}

function secretsOf(row: Record<string, unknown> | undefined): Record<string, string> {
  return JSON.parse(decryptSecret(String(row?.['secrets']), ring)) as Record<string, string>;
}

const pending = (): number => pendingCount(run);

/** No authorization code, token or app secret in anything logged. */
function expectCleanLogs(): void {
  const text = logs.join('');
  expect(text).not.toContain(SECRET);
  expect(text).not.toMatch(/M\.C-(?:fake|code)-[\w-]{16}/);
  expect(text).not.toMatch(/EwB-fake-[\w-]{16}/);
  expect(text).not.toMatch(/state=[A-Za-z0-9_-]{20}/);
}

function admit(n: number): void {
  // Microsoft asks to wait an hour after the click: the click is two hours old.
  const ts = new Date(run.clock.now().getTime() - 2 * 3_600_000).toISOString();
  const msclkid = randomBytes(16).toString('hex');
  const event = {
    id: randomUUID(), client_id: client.id, stage_id: lead.id, stage_key: 'lead', source: 'webhook' as const, reference: `crm-ms-${n}`,
    consent: 'granted' as const, clicks: { msclkid: { value: msclkid, ts } }, utm: {}, demographics: {},
  };
  expect(run.store.events.admitNow(event, run.clock.now()).status).toBe('stored');
}

async function sender(): Promise<Sender> {
  return createSender({
    store: run.store,
    config: {
      keyRing: ring,
      cron: DEFAULT_SEND_CRON,
      urls: { ...fakes.urls },
      versions: { ...DEFAULT_VERSIONS },
      connectionDefaults: { microsoft: { developer_token: MS.developerToken, client_id: MS.clientId, client_secret: SECRET } },
    },
    now: run.clock.now,
    random: () => 0.5,
    timeoutMs: 2000,
  });
}

describe('Connect Microsoft', () => {
  it('shows Connect for Microsoft with the redirect URI to register', async () => {
    const b = await signedIn();
    const { html, text } = await page(b, `/dashboard/connections?client=${client.id}`);
    expect(html).toContain('id="oauth-connect-microsoft"');
    expect(text).toContain(`${run.url}/oauth/microsoft/callback`);
  });

  it('asks the identity platform with PKCE, picks account then goal, and saves them with the refresh token encrypted and the enhanced flag as a boolean', async () => {
    const b = await signedIn();
    const url = await connect(b);
    expect(`${url.origin}${url.pathname}`).toBe(fakes.urls.microsoftAuthorize);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: MS.clientId,
      response_type: 'code',
      redirect_uri: `${run.url}/oauth/microsoft/callback`,
      response_mode: 'query',
      scope: 'https://ads.microsoft.com/msads.manage offline_access',
      state: expect.any(String),
      prompt: 'select_account',
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      code_challenge_method: 'S256',
    });
    const back = await callback(b, await consent(url));
    expect(back.status, back.text).toBe(303);
    const exchange = fakes.requests('microsoftOAuth').find((r) => r.path.endsWith('/token'));
    expect(exchange?.body).toMatchObject({ grant_type: 'authorization_code', client_secret: SECRET, code_verifier: expect.stringMatching(/^[\w-]{43}$/) });
    const grant = new URL(back.next ?? '', run.url).searchParams.get('grant') ?? '';
    const first = await page(b, back.next ?? '');
    expect(first.text).toContain('Which Microsoft Advertising account receives the conversions?');
    expect(first.text).toContain(`Contoso (${MS.accountNumber})`);
    const second = await page(b, `/dashboard/oauth/microsoft/pick?grant=${encodeURIComponent(grant)}&pick=${encodeURIComponent(ACCOUNT_PICK)}`);
    expect(second.status).toBe(200);
    expect(second.text).toContain(`Which offline conversion goal of Contoso (${MS.accountNumber})?`);
    expect(second.text).toContain(MS.goalName);
    expect(second.text).toContain('enhanced conversions on');
    expect((await saveForm(b, grant, [ACCOUNT_PICK, MS.goalId])).status).toBe(303);
    const row = connectionRow();
    expect(JSON.parse(String(row?.['settings']))).toEqual({
      customer_id: MS.customerId, account_id: MS.accountId, goal_name: MS.goalName, goal_id: MS.goalId, enhanced_conversions: true,
      // The path's default, filled in on save.
      api: 'offline-conversions',
    });
    expect(JSON.parse(String(row?.['secret_names']))).toEqual(['refresh_token']);
    const refresh = secretsOf(row)['refresh_token'] ?? '';
    expect(fakes.microsoft.refreshTokenValid(refresh)).toBe(true);
    expect(String(row?.['secrets'])).not.toContain(refresh.slice(0, 16));
    expect(pending()).toBe(0);
    const { text, html } = await page(b, `/dashboard/connections?client=${client.id}`);
    expect(text).toContain('Connected with OAuth');
    expect(html).toContain('Reconnect Microsoft');
    expect(html).not.toContain(refresh.slice(4, 20));
    expectCleanLogs();
  });

  it('clears a pasted Azure app and developer token, so the server\'s app the grant belongs to is used', async () => {
    const b = await signedIn();
    await connectFully(b);
    // Another app's credentials pasted over the connection, then Connect again.
    await createConnections(run.store).set({ client_id: client.id, platform: 'microsoft', fields: { client_id: 'other-app', client_secret: 'other-secret', developer_token: 'OTHERDEV' } }, ring);
    expect(Object.keys(secretsOf(connectionRow())).sort()).toEqual(['client_secret', 'developer_token', 'refresh_token']);
    expect(JSON.parse(String(connectionRow()?.['settings']))).toHaveProperty('client_id', 'other-app');
    await connectFully(b);
    expect(Object.keys(secretsOf(connectionRow()))).toEqual(['refresh_token']);
    expect(JSON.parse(String(connectionRow()?.['settings']))).not.toHaveProperty('client_id');
  });

  it('sends a conversion once, refreshes with a rotated refresh token written back, and pauses on a revoked grant until Reconnect', async () => {
    const b = await signedIn();
    await connectFully(b);
    const s = await sender();
    admit(1);
    await s.runPass({ retriesOnly: false });
    expect([...fakes.counted('microsoft').values()]).toEqual([1]);
    expect(fakes.microsoft.stored()[0]?.body).toMatchObject({ ConversionName: MS.goalName });
    const before = secretsOf(connectionRow())['refresh_token'];
    // An hour later the access token has expired: the pass refreshes, and Microsoft rotates the refresh token.
    clock.advance(3_600_000);
    admit(2);
    await s.runPass({ retriesOnly: false });
    expect([...fakes.counted('microsoft').values()]).toEqual([1, 1]);
    const after = secretsOf(connectionRow())['refresh_token'];
    expect(after).not.toBe(before);
    expect(fakes.microsoft.refreshTokenValid(after ?? '')).toBe(true);
    // The user withdraws consent: the next refresh is invalid_grant, the connection pauses with Microsoft's text.
    fakes.microsoft.revokeAll();
    clock.advance(3_600_000);
    admit(3);
    admit(4);
    await s.runPass({ retriesOnly: false });
    const paused = await run.store.connections.get(client.id, 'microsoft');
    expect(paused?.status).toBe('paused');
    expect(paused?.status_reason).toContain('AADSTS70000');
    const { text, html } = await page(b, `/dashboard/connections?client=${client.id}`);
    expect(text).toContain('2 conversions wait.');
    expect(html).toContain('Reconnect Microsoft');
    await connectFully(b);
    expect((await run.store.connections.get(client.id, 'microsoft'))?.status).toBe('active');
    await s.runPass({ retriesOnly: false });
    await s.runPass({ retriesOnly: false });
    expect([...fakes.counted('microsoft').values()]).toEqual([1, 1, 1, 1]);
    expectCleanLogs();
  });
});

describe('failures', () => {
  it('ends a cancelled consent (access_denied) on a page saying so, nothing stored', async () => {
    const b = await signedIn();
    const location = await consent(await connect(b), 'deny');
    expect(new URL(location).searchParams.get('error')).toBe('access_denied');
    const back = await callback(b, location);
    expect(back.status).toBe(400);
    expect(back.text).toContain('Access not granted');
    expect(connectionRow()).toBeUndefined();
    expect(pending()).toBe(0);
  });

  it('shows Microsoft\'s refusal of a code already used (AADSTS70008)', async () => {
    const b = await signedIn();
    const first = await consent(await connect(b));
    const secondStart = await connect(b);
    expect((await callback(b, first)).status).toBe(303);
    const reused = new URL(first);
    reused.searchParams.set('state', secondStart.searchParams.get('state') ?? '');
    const used = await callback(b, reused.href);
    expect(used.status).toBe(400);
    expect(used.text).toContain('AADSTS70008');
  });

  it('never reaches the callback when the redirect URI is not registered: Microsoft shows AADSTS50011', async () => {
    const b = await signedIn();
    const url = await connect(b);
    url.searchParams.set('redirect_uri', `${run.url}/oauth/microsoft/callback/`);
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('AADSTS50011');
  });

  it('says so when the account has no active offline goal, and stores nothing', async () => {
    await run.close();
    await fakes.close();
    await startFakes([{ id: '33000009', name: 'Paused offline', accountId: MS.accountId, status: 'Paused' }]);
    await start();
    const b = await signedIn();
    const back = await callback(b, await consent(await connect(b)));
    const grant = new URL(back.next ?? '', run.url).searchParams.get('grant') ?? '';
    const pick = await page(b, `/dashboard/oauth/microsoft/pick?grant=${encodeURIComponent(grant)}&pick=${encodeURIComponent(ACCOUNT_PICK)}`);
    expect(pick.status).toBe(400);
    expect(pick.text).toContain('Nothing to connect');
    expect(pick.text).toContain('no active offline conversion goal');
    expect(connectionRow()).toBeUndefined();
  });

  it('ends a token endpoint that answers 5xx on a page saying to try again, nothing stored', async () => {
    const b = await signedIn();
    const location = await consent(await connect(b));
    fakes.script('microsoftOAuth', [{ kind: 'status', status: 503, body: 'unavailable' }]);
    const down = await callback(b, location);
    expect(down.status).toBe(502);
    expect(down.text).toContain('HTTP 503');
    expect(connectionRow()).toBeUndefined();
    expect(pending()).toBe(0);
  });
});

describe('Disconnect', () => {
  it('deletes the tokens here and says where to remove the app, Microsoft having no revoke', async () => {
    const b = await signedIn();
    await connectFully(b);
    const res = await b.post(`/dashboard/connections/${client.id}/oauth/microsoft/disconnect`, {});
    expect(res.status).toBe(303);
    expect(connectionRow()).toBeUndefined();
    const text = (await page(b, res.headers.get('location') ?? '')).text;
    expect(text).toContain('Disconnected: the connection and its credentials were deleted here.');
    expect(text).toContain('account.live.com/consent/Manage');
  });
});

describe("the UET Conversions API path, on an account with UET tags", () => {
  beforeAll(() => {
    uetTags = [{ id: MS.uetTagId, name: MS.uetTagName, accountId: MS.accountId, authKey: MS.uetTagToken }];
  });
  afterAll(() => {
    uetTags = undefined;
  });

  it("asks the path third; the tag picked is saved with its token, encrypted, and the pass sends through the UET Conversions API", async () => {
    const b = await signedIn();
    const back = await callback(b, await consent(await connect(b)));
    const grant = new URL(back.next ?? '', run.url).searchParams.get('grant') ?? '';
    const third = await page(b, `/dashboard/oauth/microsoft/pick?grant=${encodeURIComponent(grant)}&pick=${encodeURIComponent(ACCOUNT_PICK)}&pick=${MS.goalId}`);
    expect(third.text).toContain(`Send the conversions to the offline goal "${MS.goalName}", or through the UET Conversions API to a UET tag?`);
    expect(third.text).toContain(`UET Conversions API to ${MS.uetTagName}`);
    const res = await saveForm(b, grant, [ACCOUNT_PICK, MS.goalId, `uet:${MS.uetTagId}`]);
    expect(res.status, pageText(await res.clone().text())).toBe(303);
    const row = connectionRow();
    expect(JSON.parse(String(row?.['settings']))).toMatchObject({ api: 'uet-capi', uet_tag_id: MS.uetTagId });
    expect(secretsOf(row)['uet_api_token']).toBe(MS.uetTagToken);
    expect(JSON.stringify(row)).not.toContain(MS.uetTagToken);
    const shown = await page(b, `/dashboard/connections?client=${client.id}`);
    expect(shown.html).not.toContain(MS.uetTagToken);
    expect(logs.join('')).not.toContain(MS.uetTagToken);
    admit(1);
    expect((await (await sender()).runPass({ retriesOnly: false })).platforms.microsoft.sent).toBe(1);
    expect(fakes.counted('microsoftCapi').size).toBe(1);
    expect(fakes.counted('microsoft').size).toBe(0);
  });

  it('fetches the token on the Connections page, stores it encrypted with the rotated refresh token, never shows it, and the UET path then sends with it', async () => {
    const b = await signedIn();
    await connectFully(b, ['offline']);
    const before = secretsOf(connectionRow())['refresh_token'];
    const connections = createConnections(run.store);
    // The tag id is saved first (the uet-capi path needs its token to be saved).
    await connections.set({ client_id: client.id, platform: 'microsoft', fields: { uet_tag_id: MS.uetTagId } }, ring);
    const { html } = await page(b, `/dashboard/connections?client=${client.id}`);
    expect(html).toContain(`action="/dashboard/connections/${client.id}/microsoft/uet-token"`);
    expect(pageText(html)).toContain(`Fetch the token of UET tag ${MS.uetTagId} from Microsoft`);

    const res = await b.post(`/dashboard/connections/${client.id}/microsoft/uet-token`, {});
    expect(res.status, pageText(await res.clone().text())).toBe(303);
    const after = await page(b, res.headers.get('location') ?? '');
    expect(after.text).toContain(`Fetched the token of UET tag ${MS.uetTagId} from Microsoft and stored it encrypted.`);
    expect(after.html).not.toContain(MS.uetTagToken);
    const secrets = secretsOf(connectionRow());
    expect(secrets['uet_api_token']).toBe(MS.uetTagToken);
    expect(secrets['refresh_token']).not.toBe(before);
    expect(fakes.microsoft.refreshTokenValid(secrets['refresh_token'] ?? '')).toBe(true);
    expect(JSON.stringify(connectionRow())).not.toContain(MS.uetTagToken);
    expect(fakes.requests('microsoftCampaign').at(-1)?.body).toEqual({ UetTagId: MS.uetTagId });
    expectCleanLogs();
    expect(logs.join('')).not.toContain(MS.uetTagToken);

    await connections.set({ client_id: client.id, platform: 'microsoft', fields: { api: 'uet-capi' } }, ring);
    admit(1);
    const report = await (await sender()).runPass({ retriesOnly: false });
    expect(report.platforms.microsoft.sent).toBe(1);
    expect(fakes.counted('microsoftCapi').size).toBe(1);
    expect(fakes.counted('microsoft').size).toBe(0);
  });

  it("shows Microsoft's refusal for a tag the account does not own, and stores nothing", async () => {
    const b = await signedIn();
    await connectFully(b, ['offline']);
    await createConnections(run.store).set({ client_id: client.id, platform: 'microsoft', fields: { uet_tag_id: '999' } }, ring);
    const res = await b.post(`/dashboard/connections/${client.id}/microsoft/uet-token`, {});
    expect(res.status).toBe(400);
    expect(pageText(await res.text())).toMatch(/Microsoft gave no token for UET tag 999 \(UetTagIdInvalid: .*\): check that the tag belongs to this account\./);
    expect(secretsOf(connectionRow())['uet_api_token']).toBeUndefined();
  });
});
