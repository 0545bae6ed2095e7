/** Microsoft's OAuth provider: the pure request/response rules, and the whole flow against the strict fake. */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { testClock } from '@pruuv/fakes/vitest';
import type { HttpResponse } from '../../src/http.js';
import { microsoftOAuth, microsoftTokenFailure, microsoftUetTags, readMicrosoftToken, refreshMicrosoft } from '../../src/platforms/microsoft/oauth.js';
import { OAuthFlowError, pkcePair, type OAuthCallContext, type OAuthTokenSet } from '../../src/platforms/oauth-provider.js';
import { microsoft } from '../../src/platforms/microsoft/index.js';

const clock = testClock();
const MS = FAKE_DEFAULTS.microsoft;
const REDIRECT = 'http://127.0.0.1:1/oauth/microsoft/callback';
const fakes: FakePlatforms = await startFakePlatforms({ now: clock.now });
fakes.oauth.allowRedirectUri('microsoft', REDIRECT);
// An account without any offline goal, and one whose only goals are paused or not offline.
const bare: FakePlatforms = await startFakePlatforms({
  now: clock.now,
  microsoft: {
    customerId: MS.customerId,
    accounts: [{ id: MS.accountId, name: 'Contoso', number: MS.accountNumber }],
    goals: [
      { id: '33000009', name: 'Paused offline', accountId: MS.accountId, status: 'Paused' },
      { id: '33000010', name: 'Website purchase', accountId: MS.accountId, type: 'Event' },
    ],
    clientId: MS.clientId,
    clientSecret: MS.clientSecret,
    redirectUris: [REDIRECT],
    refreshTokens: [],
    developerToken: MS.developerToken,
  },
});
afterAll(async () => {
  await fakes.close();
  await bare.close();
});

function ctxOf(f: FakePlatforms): OAuthCallContext {
  return {
    app: { clientId: MS.clientId, clientSecret: MS.clientSecret, extra: { PRUUV_MICROSOFT_DEVELOPER_TOKEN: MS.developerToken } },
    urls: {
      authorize: f.urls.microsoftAuthorize,
      token: f.urls.microsoftToken,
      microsoftCustomer: f.urls.microsoftCustomer,
      microsoftCustomerSandbox: f.urls.microsoftCustomerSandbox,
      microsoftCampaign: f.urls.microsoftCampaign,
      microsoftCampaignSandbox: f.urls.microsoftCampaignSandbox,
    },
    versions: {},
    fetch: (input, init) => fetch(input, init),
    now: clock.now,
    timeoutMs: 2000,
  };
}
const ctx = ctxOf(fakes);

beforeEach(() => {
  fakes.reset();
  bare.reset();
  clock.set(Date.parse('2026-11-20T12:00:00Z'));
});

/** Walks the fake's consent page as a person would: the page, then its Accept (or Cancel) link. */
async function consent(opts: { settings?: Record<string, unknown>; challenge?: string; deny?: boolean; c?: OAuthCallContext } = {}): Promise<URLSearchParams> {
  const c = opts.c ?? ctx;
  const start = microsoftOAuth.authorizeUrl({ state: 'st', redirectUri: REDIRECT, settings: opts.settings ?? {}, ...(opts.challenge !== undefined ? { codeChallenge: opts.challenge } : {}) }, c);
  const page = await fetch(start, { redirect: 'manual' });
  expect(page.status).toBe(200);
  const html = await page.text();
  const link = new RegExp(`id="${opts.deny === true ? 'deny' : 'accept'}" href="([^"]+)"`).exec(html)?.[1];
  if (link === undefined) throw new Error('no consent link');
  const back = await fetch(new URL(link.replace(/&amp;/g, '&').replace(/&#38;/g, '&'), start), { redirect: 'manual' });
  expect(back.status).toBe(302);
  return new URL(back.headers.get('location') ?? 'http://x/').searchParams;
}

async function connect(settings: Record<string, unknown> = {}, c: OAuthCallContext = ctx): Promise<OAuthTokenSet> {
  const pkce = pkcePair();
  const back = microsoftOAuth.readCallback(await consent({ settings, challenge: pkce.challenge, c }));
  if (back.kind !== 'code') throw new Error(`no code: ${back.error}`);
  return microsoftOAuth.exchangeCode({ code: back.code, redirectUri: REDIRECT, codeVerifier: pkce.verifier, settings }, c);
}

const answer = (json: unknown, status = 200): HttpResponse => ({ status, headers: {}, text: JSON.stringify(json), json });

describe('the authorization request', () => {
  it('is the identity platform v2.0 on tenant common, with PKCE S256, msads.manage offline_access and the exact redirect URI', () => {
    const url = new URL(microsoftOAuth.authorizeUrl({ state: 's1', redirectUri: 'https://c.example/oauth/microsoft/callback', codeChallenge: 'ch', settings: {} }, { ...ctx, urls: {} }));
    expect(`${url.origin}${url.pathname}`).toBe('https://login.microsoftonline.com/common/oauth2/v2.0/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: MS.clientId,
      response_type: 'code',
      redirect_uri: 'https://c.example/oauth/microsoft/callback',
      response_mode: 'query',
      scope: 'https://ads.microsoft.com/msads.manage offline_access',
      state: 's1',
      prompt: 'select_account',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
    });
    expect(microsoftOAuth.pkce).toBe(true);
  });

  it('asks the sandbox scope for a connection in test mode', () => {
    const url = new URL(microsoftOAuth.authorizeUrl({ state: 's', redirectUri: REDIRECT, settings: { test_mode: true } }, ctx));
    expect(url.searchParams.get('scope')).toBe('https://si.ads.microsoft.com/msads.manage offline_access');
  });

  it('is attached to the adapter, needs the developer token besides the Azure app, and has no revoke but a hint', () => {
    expect(microsoft.oauth).toBe(microsoftOAuth);
    expect(microsoftOAuth.env).toMatchObject({ clientId: 'PRUUV_MICROSOFT_CLIENT_ID', clientSecret: 'PRUUV_MICROSOFT_CLIENT_SECRET', extra: ['PRUUV_MICROSOFT_DEVELOPER_TOKEN'] });
    expect(microsoftOAuth.env.urls).toMatchObject({ authorize: 'PRUUV_MICROSOFT_OAUTH_AUTHORIZE_URL', token: 'PRUUV_MICROSOFT_OAUTH_TOKEN_URL' });
    expect(microsoftOAuth.revoke).toBeUndefined();
    expect(microsoftOAuth.disconnectHint).toMatch(/account\.live\.com\/consent\/Manage/);
  });
});

describe('reading answers', () => {
  it('reads AADSTS50011 as a redirect mismatch, invalid_grant and invalid_client by their code, keeping the description', () => {
    expect(microsoftTokenFailure(answer({ error: 'invalid_client', error_description: 'AADSTS50011: The redirect URI does not match.' }, 400), 'x')).toMatchObject({ kind: 'redirect_uri_mismatch' });
    const grant = microsoftTokenFailure(answer({ error: 'invalid_grant', error_description: 'AADSTS70008: expired or already used.' }, 400), 'x');
    expect(grant).toMatchObject({ kind: 'invalid_grant', platformError: 'invalid_grant' });
    expect(grant.message).toContain('AADSTS70008');
    expect(microsoftTokenFailure(answer({ error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' }, 401), 'x')).toMatchObject({ kind: 'invalid_client' });
    expect(microsoftTokenFailure(answer('<html>proxy</html>', 400), 'x')).toMatchObject({ kind: 'refused', platformError: 'http_400' });
  });

  it('reads a token answer with its expiry and rotated refresh token', () => {
    const now = new Date('2026-11-20T12:00:00Z');
    const t = readMicrosoftToken(answer({ token_type: 'Bearer', scope: 'https://ads.microsoft.com/msads.manage', expires_in: 3599, ext_expires_in: 3599, access_token: 'a', refresh_token: 'r' }), now, 'x');
    expect(t).toEqual({ accessToken: 'a', refreshToken: 'r', expiresAt: new Date('2026-11-20T12:59:59Z'), scopes: ['https://ads.microsoft.com/msads.manage'] });
    expect(() => readMicrosoftToken(answer({ token_type: 'Bearer' }), now, 'x')).toThrow(OAuthFlowError);
  });
});

describe('the flow against the fake', () => {
  it('exchanges the code with the PKCE verifier and the client secret, form-encoded', async () => {
    const tokens = await connect();
    expect(tokens.refreshToken).toMatch(/^M\.C-fake-/);
    expect(tokens.scopes).toEqual(['https://ads.microsoft.com/msads.manage']);
    expect(tokens.expiresAt?.toISOString()).toBe('2026-11-20T12:59:59.000Z');
    const exchange = fakes.requests('microsoftOAuth').find((r) => r.path.endsWith('/token'));
    expect(exchange?.headers['content-type']).toContain('application/x-www-form-urlencoded');
    expect(exchange?.body).toMatchObject({
      client_id: MS.clientId,
      client_secret: MS.clientSecret,
      grant_type: 'authorization_code',
      redirect_uri: REDIRECT,
      scope: 'https://ads.microsoft.com/msads.manage offline_access',
    });
    expect((exchange?.body as Record<string, string>)['code_verifier']).toMatch(/^[\w-]{43}$/);
  });

  it('refuses a wrong PKCE verifier as invalid_grant (AADSTS501481)', async () => {
    const pkce = pkcePair();
    const back = microsoftOAuth.readCallback(await consent({ challenge: pkce.challenge }));
    if (back.kind !== 'code') throw new Error('no code');
    const e = await microsoftOAuth.exchangeCode({ code: back.code, redirectUri: REDIRECT, codeVerifier: pkcePair().verifier, settings: {} }, ctx).catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'invalid_grant' });
    expect((e as Error).message).toContain('AADSTS501481');
  });

  it('refuses a reused code as invalid_grant', async () => {
    const pkce = pkcePair();
    const back = microsoftOAuth.readCallback(await consent({ challenge: pkce.challenge }));
    if (back.kind !== 'code') throw new Error('no code');
    const input = { code: back.code, redirectUri: REDIRECT, codeVerifier: pkce.verifier, settings: {} };
    await microsoftOAuth.exchangeCode(input, ctx);
    const again = await microsoftOAuth.exchangeCode(input, ctx).catch((x: unknown) => x);
    expect(again).toMatchObject({ kind: 'invalid_grant', platformError: 'invalid_grant' });
    expect((again as Error).message).toContain('AADSTS70008');
  });

  it('reads a redirect URI differing from the authorization request as redirect_uri_mismatch (AADSTS50011)', async () => {
    const pkce = pkcePair();
    const back = microsoftOAuth.readCallback(await consent({ challenge: pkce.challenge }));
    if (back.kind !== 'code') throw new Error('no code');
    const e = await microsoftOAuth.exchangeCode({ code: back.code, redirectUri: 'http://127.0.0.1:2/oauth/microsoft/callback', codeVerifier: pkce.verifier, settings: {} }, ctx).catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'redirect_uri_mismatch', platformError: 'invalid_client' });
  });

  it('does not get past the consent page with an unregistered redirect URI', async () => {
    const url = microsoftOAuth.authorizeUrl({ state: 's', redirectUri: 'http://127.0.0.1:3/elsewhere', settings: {} }, ctx);
    const r = await fetch(url, { redirect: 'manual' });
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('AADSTS50011');
  });

  it('reads a wrong client secret as invalid_client', async () => {
    const e = await connect({}, { ...ctx, app: { ...ctx.app, clientSecret: 'wrong' } }).catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'invalid_client' });
  });

  it('reads a cancelled consent as access_denied with Microsoft\'s description', async () => {
    const back = microsoftOAuth.readCallback(await consent({ deny: true }));
    expect(back).toMatchObject({ kind: 'denied', error: 'access_denied' });
    expect(back.kind === 'denied' ? back.description : '').toContain('AADSTS65004');
    expect(microsoftOAuth.readCallback(new URLSearchParams('state=s'))).toMatchObject({ kind: 'denied', error: 'no_code' });
  });

  it('refreshes with a rotating refresh token; the new one works, an unknown one is token_revoked', async () => {
    const tokens = await connect();
    const first = tokens.refreshToken as string;
    const next = await microsoftOAuth.refresh?.(first, ctx);
    expect(next?.refreshToken).toBeDefined();
    expect(next?.refreshToken).not.toBe(first);
    expect(next?.accessToken).not.toBe(tokens.accessToken);
    const after = await refreshMicrosoft(next?.refreshToken as string, ctx);
    expect(after.refreshToken).not.toBe(next?.refreshToken);
    expect(fakes.microsoft.refreshes()).toBe(2);
    const refresh = fakes.requests('microsoftOAuth').filter((r) => r.path.endsWith('/token')).at(-1);
    expect(refresh?.body).toEqual({
      client_id: MS.clientId, client_secret: MS.clientSecret, grant_type: 'refresh_token', refresh_token: next?.refreshToken, scope: 'https://ads.microsoft.com/msads.manage offline_access',
    });
    fakes.microsoft.revokeAll();
    await expect(refreshMicrosoft(after.refreshToken as string, ctx)).rejects.toMatchObject({ kind: 'token_revoked', platformError: 'invalid_grant' });
  });

  it('discovers the account, then the active offline goal, and fills customer, account, goal and the enhanced flag', async () => {
    const tokens = await connect();
    const step1 = await microsoftOAuth.discover(tokens, [], ctx);
    expect(step1).toEqual({
      kind: 'choose',
      step: {
        key: 'account',
        title: 'Which Microsoft Advertising account receives the conversions?',
        choices: [{ id: `${MS.customerId}:${MS.accountId}`, label: `Contoso (${MS.accountNumber})`, detail: `customer ${MS.customerId} · account id ${MS.accountId} · Active` }],
      },
    });
    const step2 = await microsoftOAuth.discover(tokens, [`${MS.customerId}:${MS.accountId}`], ctx);
    expect(step2).toMatchObject({ kind: 'choose', step: { key: 'goal', choices: [{ id: MS.goalId, label: MS.goalName, detail: `goal id ${MS.goalId} · enhanced conversions on` }] } });
    // The account has a UET tag: the path comes third, offline conversions first.
    const step3 = await microsoftOAuth.discover(tokens, [`${MS.customerId}:${MS.accountId}`, MS.goalId], ctx);
    expect(step3).toMatchObject({
      kind: 'choose',
      step: { key: 'path', choices: [{ id: 'offline', label: 'Offline conversions (recommended)' }, { id: `uet:${MS.uetTagId}`, label: `UET Conversions API to ${MS.uetTagName}` }] },
    });
    const goals = fakes.requests('microsoftCampaign').find((r) => r.path.endsWith('/ConversionGoals/QueryByIds'));
    const done = await microsoftOAuth.discover(tokens, [`${MS.customerId}:${MS.accountId}`, MS.goalId, 'offline'], ctx);
    expect(done).toEqual({
      kind: 'done',
      settings: { customer_id: MS.customerId, account_id: MS.accountId, goal_name: MS.goalName, goal_id: MS.goalId, enhanced_conversions: 'true', api: 'offline-conversions' },
      summary: `Contoso (${MS.accountNumber}) · customer ${MS.customerId} · ${MS.goalName} (enhanced conversions)`,
    });
    expect(microsoftOAuth.credentials(tokens, ctx.app)).toEqual({ refresh_token: tokens.refreshToken });
    // Discovery called with the developer token and, for the goals, the account headers.
    expect(goals?.path).toContain('/CampaignManagement/v13/ConversionGoals/QueryByIds');
    expect(goals?.headers).toMatchObject({ developertoken: MS.developerToken, customerid: MS.customerId, customeraccountid: MS.accountId });
    expect(goals?.body).toEqual({ ConversionGoalIds: null, ConversionGoalTypes: 'OfflineConversion', ReturnAdditionalFields: 'IsEnhancedConversionsEnabled,IsExternallyAttributed' });
    expect(fakes.requests('microsoftCustomer').map((r) => r.body)).toContainEqual({ UserId: null });
  });

  it('discovers on the sandbox hosts for a test-mode grant and fills test_mode', async () => {
    const tokens = await connect({ test_mode: true });
    expect(tokens.scopes).toEqual(['https://si.ads.microsoft.com/msads.manage']);
    const done = await microsoftOAuth.discover(tokens, [`${MS.customerId}:${MS.accountId}`, MS.goalId, 'offline'], ctx);
    expect(done).toMatchObject({ kind: 'done', settings: { test_mode: 'true' } });
    expect(fakes.requests('microsoftCampaign').at(-1)?.path).toMatch(/^\/microsoft-sandbox\//);
  });

  it("fills the UET Conversions API path with the tag picked and the tag's token, which never shows in the summary", async () => {
    const tokens = await connect();
    const done = await microsoftOAuth.discover(tokens, [`${MS.customerId}:${MS.accountId}`, MS.goalId, `uet:${MS.uetTagId}`], ctx);
    expect(done).toMatchObject({ kind: 'done', settings: { api: 'uet-capi', uet_tag_id: MS.uetTagId, uet_api_token: MS.uetTagToken } });
    expect(done.kind === 'done' && done.summary).toBe(`Contoso (${MS.accountNumber}) · customer ${MS.customerId} · ${MS.goalName} (enhanced conversions) · UET Conversions API to ${MS.uetTagName} (${MS.uetTagId})`);
    const calls = fakes.requests('microsoftCampaign').map((r) => [r.path.split('/').slice(-2).join('/'), r.body]);
    expect(calls).toContainEqual(['UetTags/QueryByIds', { TagIds: null }]);
    expect(calls).toContainEqual(['UetTagAuthKey/Query', { UetTagId: MS.uetTagId }]);
    expect(microsoftOAuth.fills).toEqual(expect.arrayContaining(['api', 'uet_tag_id', 'uet_api_token']));
    await expect(microsoftOAuth.discover(tokens, [`${MS.customerId}:${MS.accountId}`, MS.goalId, 'uet:999'], ctx)).rejects.toMatchObject({ kind: 'refused' });
  });

  it('finds no UET tags on an account without any, so no path is asked', async () => {
    const c = ctxOf(bare);
    const tokens = await connect({}, c);
    expect(await microsoftUetTags(tokens, { customerId: MS.customerId, accountId: MS.accountId }, c)).toEqual([]);
  });

  it('says nothing_found when the account has no active offline goal (a paused one and a website goal are not offered)', async () => {
    const c = ctxOf(bare);
    const tokens = await connect({}, c);
    await expect(microsoftOAuth.discover(tokens, [`${MS.customerId}:${MS.accountId}`], c)).rejects.toMatchObject({ kind: 'nothing_found', message: expect.stringContaining('no active offline conversion goal') });
  });

  it('refuses a goal or account not offered', async () => {
    const tokens = await connect();
    await expect(microsoftOAuth.discover(tokens, ['1:2'], ctx)).rejects.toMatchObject({ kind: 'refused' });
    await expect(microsoftOAuth.discover(tokens, [`${MS.customerId}:${MS.accountId}`, '999'], ctx)).rejects.toMatchObject({ kind: 'refused' });
  });

  it('reads a wrong developer token as Microsoft\'s 105, and an expired access token as 109: reconnect', async () => {
    const tokens = await connect();
    const wrong = { ...ctx, app: { ...ctx.app, extra: { PRUUV_MICROSOFT_DEVELOPER_TOKEN: 'WRONG' } } };
    await expect(microsoftOAuth.discover(tokens, [], wrong)).rejects.toMatchObject({ kind: 'token_revoked', platformError: '105' });
    fakes.microsoft.expireAccessTokens();
    await expect(microsoftOAuth.discover(tokens, [], ctx)).rejects.toMatchObject({ kind: 'token_revoked', platformError: '109' });
  });

  it('reports a 5xx at the token endpoint as unavailable', async () => {
    fakes.script('microsoftOAuth', [{ kind: 'status', status: 503 }]);
    await expect(refreshMicrosoft('x', ctx)).rejects.toMatchObject({ kind: 'unavailable' });
  });
});
