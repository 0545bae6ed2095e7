import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS } from '../src/index.js';
import { DAY, HOUR, T0, fakesForTests, get, microsoftToken, postForm, postJson } from './fakes-helpers.js';

const D = FAKE_DEFAULTS.microsoft;
const REDIRECT = 'http://127.0.0.1:9/oauth/microsoft/callback';
const suite = await fakesForTests({
  microsoft: {
    customerId: D.customerId,
    accounts: [{ id: D.accountId, name: 'Contoso', number: D.accountNumber }, { id: '180000002', name: 'Fabrikam', number: 'F120EFGH' }],
    goals: [
      { id: D.goalId, name: D.goalName, accountId: D.accountId, enhanced: true },
      { id: '33000002', name: 'Plain goal', accountId: D.accountId },
      { id: '33000003', name: 'New goal', accountId: D.accountId, createdAt: new Date(T0 - HOUR).toISOString() },
      { id: '33000004', name: 'Site purchases', accountId: D.accountId, type: 'Event' },
    ],
    clientId: D.clientId,
    clientSecret: D.clientSecret,
    redirectUris: [REDIRECT],
    refreshTokens: [D.refreshToken],
    sandboxRefreshTokens: [D.sandboxRefreshToken],
    developerToken: D.developerToken,
    knownClicks: [
      { id: '9f223aca6be512d830005cea8c9d3b06', accountId: D.accountId, clickedAt: new Date(T0 - 2 * DAY).toISOString() },
      { id: 'aaaaaaaabbbbccccddddeeeeeeeeeeee', accountId: '180000002' },
    ],
  },
});
const { fakes } = suite;
const CLICK = '9f223aca6be512d830005cea8c9d3b06';

async function headers(o: { sandbox?: boolean; token?: string } = {}): Promise<Record<string, string>> {
  const token = o.token ?? (await microsoftToken(fakes.urls.microsoftToken, o.sandbox === true ? { sandbox: true } : {}));
  return { authorization: `Bearer ${token}`, developertoken: D.developerToken, customerid: D.customerId, customeraccountid: D.accountId };
}

function apply(conversions: unknown[], h: Record<string, string>, url = fakes.urls.microsoftCampaign) {
  return postJson(`${url}/CampaignManagement/v13/OfflineConversions/Apply`, { OfflineConversions: conversions }, h);
}

const conversion = (o: Record<string, unknown> = {}) => ({ MicrosoftClickId: CLICK, ConversionName: D.goalName, ConversionTime: '2026-11-20T10:00:00.000Z', ...o });

describe('identity platform', () => {
  it('runs the authorization code flow with PKCE S256 and rotates refresh tokens', async () => {
    const verifier = 'v'.repeat(50);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const q = new URLSearchParams({
      client_id: D.clientId, response_type: 'code', redirect_uri: REDIRECT, response_mode: 'query', state: 's1',
      scope: 'openid offline_access https://ads.microsoft.com/msads.manage', code_challenge: challenge, code_challenge_method: 'S256',
    });
    const page = await get(`${fakes.urls.microsoftAuthorize}?${q}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="accept"');
    q.set('consent', 'accept');
    const redirect = await fetch(`${fakes.urls.microsoftAuthorize}?${q}`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const to = new URL(redirect.headers.get('location') ?? '');
    expect(to.searchParams.get('state')).toBe('s1');
    const code = to.searchParams.get('code') ?? '';
    const form = { client_id: D.clientId, client_secret: D.clientSecret, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, scope: 'https://ads.microsoft.com/msads.manage offline_access' };
    const bad = await postForm(fakes.urls.microsoftToken, { ...form, code_verifier: 'wrong' });
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // The code was spent by the failed try: single use.
    const q2 = new URLSearchParams(q);
    const again = await fetch(`${fakes.urls.microsoftAuthorize}?${q2}`, { redirect: 'manual' });
    const code2 = new URL(again.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const ok = await postForm(fakes.urls.microsoftToken, { ...form, code: code2, code_verifier: verifier });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: 'Bearer', scope: 'https://ads.microsoft.com/msads.manage', expires_in: 3599, access_token: expect.any(String), refresh_token: expect.any(String) });
    const first = ok.body.refresh_token as string;
    const refreshed = await postForm(fakes.urls.microsoftToken, { client_id: D.clientId, client_secret: D.clientSecret, grant_type: 'refresh_token', refresh_token: first, scope: form.scope });
    expect(refreshed.body.refresh_token).not.toBe(first);
    expect(fakes.microsoft.refreshTokenValid(first)).toBe(true);
    expect(fakes.microsoft.refreshTokenValid(refreshed.body.refresh_token)).toBe(true);
  });

  it('redirects with access_denied when the user cancels, and refuses an unregistered redirect URI', async () => {
    const q = new URLSearchParams({ client_id: D.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: 'https://ads.microsoft.com/msads.manage offline_access', state: 's', consent: 'deny' });
    const denied = await fetch(`${fakes.urls.microsoftAuthorize}?${q}`, { redirect: 'manual' });
    expect(new URL(denied.headers.get('location') ?? '').searchParams.get('error')).toBe('access_denied');
    q.set('redirect_uri', 'http://evil.example/cb');
    const refused = await get(`${fakes.urls.microsoftAuthorize}?${q}`);
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('AADSTS50011');
  });

  it('checks the code exchange: same redirect URI (invalid_client, AADSTS50011), client secret (AADSTS7000215), msads.manage in the scope (AADSTS70000)', async () => {
    const verifier = 'w'.repeat(50);
    const q = new URLSearchParams({
      client_id: D.clientId, response_type: 'code', redirect_uri: REDIRECT, state: 's', consent: 'accept',
      scope: 'https://ads.microsoft.com/msads.manage offline_access', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    });
    const code = async (): Promise<string> => new URL((await fetch(`${fakes.urls.microsoftAuthorize}?${q}`, { redirect: 'manual' })).headers.get('location') ?? '').searchParams.get('code') ?? '';
    const form = { client_id: D.clientId, client_secret: D.clientSecret, grant_type: 'authorization_code', redirect_uri: REDIRECT, scope: 'https://ads.microsoft.com/msads.manage offline_access', code_verifier: verifier };
    const mismatch = await postForm(fakes.urls.microsoftToken, { ...form, code: await code(), redirect_uri: 'http://127.0.0.1:9/other' });
    expect(mismatch).toMatchObject({ status: 400, body: { error: 'invalid_client', error_description: expect.stringContaining('AADSTS50011') } });
    const secret = await postForm(fakes.urls.microsoftToken, { ...form, code: await code(), client_secret: 'wrong' });
    expect(secret).toMatchObject({ status: 401, body: { error: 'invalid_client', error_description: expect.stringContaining('AADSTS7000215') } });
    const scope = await postForm(fakes.urls.microsoftToken, { ...form, code: await code(), scope: 'offline_access' });
    expect(scope).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringContaining('AADSTS70000') } });
    const used = await code();
    expect((await postForm(fakes.urls.microsoftToken, { ...form, code: used })).status).toBe(200);
    expect(await postForm(fakes.urls.microsoftToken, { ...form, code: used })).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringContaining('AADSTS70008') } });
  });

  it('checks the discovery bodies: UserId on User/Query, CustomerId and a boolean OnlyParentAccounts on AccountsInfo/Query', async () => {
    const h = await headers();
    const cm = { authorization: h.authorization as string, developertoken: D.developerToken };
    expect((await postJson(`${fakes.urls.microsoftCustomer}/CustomerManagement/v13/User/Query`, {}, cm)).status).toBe(400);
    expect((await postJson(`${fakes.urls.microsoftCustomer}/CustomerManagement/v13/AccountsInfo/Query`, { OnlyParentAccounts: false }, cm)).status).toBe(400);
    expect((await postJson(`${fakes.urls.microsoftCustomer}/CustomerManagement/v13/AccountsInfo/Query`, { CustomerId: D.customerId, OnlyParentAccounts: 'no' }, cm)).status).toBe(400);
    expect((await postJson(`${fakes.urls.microsoftCustomer}/CustomerManagement/v13/User/Query`, { UserId: null }, { authorization: h.authorization as string, developertoken: 'WRONG' })).status).toBe(401);
  });

  it('answers invalid_grant for a revoked refresh token and unsupported_grant_type for others', async () => {
    fakes.microsoft.revoke(D.refreshToken);
    await expect(microsoftToken(fakes.urls.microsoftToken)).rejects.toThrow(/invalid_grant/);
    const odd = await postForm(fakes.urls.microsoftToken, { client_id: D.clientId, client_secret: D.clientSecret, grant_type: 'password' });
    expect(odd.body.error).toBe('unsupported_grant_type');
    const json = await postJson(fakes.urls.microsoftToken, { grant_type: 'refresh_token' });
    expect(json.body.error).toBe('invalid_request');
  });
});

describe('Campaign Management headers', () => {
  it('answers 105 without a known token, 109 when it expired, 105 for a wrong developer token', async () => {
    const h = await headers();
    expect((await apply([conversion()], { ...h, authorization: 'Bearer nope' })).body).toMatchObject({ Type: 'AdApiFaultDetail', Errors: [{ Code: 105 }] });
    expect((await apply([conversion()], { ...h, developertoken: 'other' })).body.Errors[0].Code).toBe(105);
    fakes.microsoft.expireAccessTokens();
    const expired = await apply([conversion()], h);
    expect(expired).toMatchObject({ status: 401, body: { Errors: [{ Code: 109, ErrorCode: 'AuthenticationTokenExpired' }] } });
    expect(expired.headers.get('trackingid')).toBe(expired.body.TrackingId);
  });

  it('answers 1029/1030 without CustomerId/CustomerAccountId, 105 for a swapped pair, 106 for a foreign account', async () => {
    const h = await headers();
    const { customerid: _c, ...noCustomer } = h;
    expect((await apply([conversion()], noCustomer)).body).toMatchObject({ Type: 'ApiFaultDetail', OperationErrors: [{ Code: 1029 }] });
    const { customeraccountid: _a, ...noAccount } = h;
    expect((await apply([conversion()], noAccount)).body.OperationErrors[0].Code).toBe(1030);
    expect((await apply([conversion()], { ...h, customerid: D.accountId, customeraccountid: D.customerId })).body.Errors[0].Code).toBe(105);
    expect((await apply([conversion()], { ...h, customeraccountid: '999' })).body.Errors[0].Code).toBe(106);
  });

  it('refuses a sandbox token on production (105) and takes it on the sandbox host', async () => {
    const h = await headers({ sandbox: true });
    expect((await apply([conversion()], h)).body.Errors[0].Code).toBe(105);
    const sandbox = await apply([conversion()], h, fakes.urls.microsoftCampaignSandbox);
    expect(sandbox).toMatchObject({ status: 200, body: { PartialErrors: [] } });
    expect(fakes.microsoft.silent()).toMatchObject([{ reason: 'SandboxNotAttributed' }]);
  });
});

describe('OfflineConversions/Apply', () => {
  it('rejects empty and oversized lists, unknown properties and non-ISO times as a whole', async () => {
    const h = await headers();
    expect((await apply([], h)).body.OperationErrors[0].Code).toBe(5600);
    expect((await apply(Array.from({ length: 1001 }, () => conversion()), h)).body.OperationErrors[0].Code).toBe(5601);
    expect((await apply([conversion({ MsClickId: CLICK })], h)).status).toBe(400);
    expect((await apply([conversion(), conversion({ ConversionTime: '2026-11-20 10:00:00' })], h)).status).toBe(400);
    expect((await apply([conversion({ ConversionTime: 1763632800 })], h)).status).toBe(400);
    expect(fakes.microsoft.stored()).toHaveLength(0);
  });

  it('answers each bad conversion with a PartialError at its Index and stores the others', async () => {
    const h = await headers();
    const r = await apply(
      [
        conversion(),
        conversion({ ConversionName: 'No such goal' }),
        conversion({ ConversionName: 'Site purchases' }),
        conversion({ MicrosoftClickId: 'not-a-click' }),
        conversion({ ConversionTime: '2026-11-21T10:00:00Z' }),
        conversion({ ConversionTime: '2026-08-01T10:00:00Z' }),
        conversion({ ConversionTime: '2026-11-17T10:00:00Z' }),
        conversion({ ConversionValue: -1, ConversionCurrencyCode: 'USD' }),
        conversion({ ConversionValue: 10, ConversionCurrencyCode: 'usd' }),
        conversion({ ConversionName: 'New goal' }),
        conversion({ HashedEmailAddress: 'John@x.com' }),
        conversion({ ConversionName: 'Plain goal', HashedEmailAddress: 'a'.repeat(64) }),
        conversion({ MicrosoftClickId: null, ConversionTime: '2026-11-20T09:00:00Z' }),
      ],
      h,
    );
    expect(r.status).toBe(200);
    const byIndex = Object.fromEntries((r.body.PartialErrors as Array<{ Index: number; Code: number; ErrorCode: string }>).map((e) => [e.Index, e.ErrorCode === 'OfflineConversionNameInvalid' || e.Code !== 0 ? e.Code : e.ErrorCode]));
    expect(byIndex).toEqual({
      1: 5606, 2: 5606, 3: 5604, 4: 5614, 5: 5609, 6: 5616, 7: 5610, 8: 5611, 9: 5615,
      10: 'ConversionEmailAddressIsNotHashed', 11: 'NotEligibleForEnhancedConversions', 12: 5603,
    });
    expect(fakes.microsoft.stored()).toHaveLength(1);
  });

  it('takes unknown clicks, other accounts\' clicks and duplicates silently, records why, counts once', async () => {
    const h = await headers();
    const r = await apply([conversion(), conversion(), conversion({ MicrosoftClickId: '0'.repeat(32) }), conversion({ MicrosoftClickId: 'aaaaaaaabbbbccccddddeeeeeeeeeeee' })], h);
    expect(r.body.PartialErrors).toEqual([]);
    await apply([conversion()], h);
    expect([...fakes.counted('microsoft').values()]).toEqual([3]);
    const inspected = await get(fakes.urls.microsoftInspect);
    expect(inspected.body.silent.map((s: { reason: string }) => s.reason)).toEqual(['DuplicateConversionKey', 'NoMatchingClickFound', 'AccountMismatch', 'DuplicateConversionKey']);
  });

  it('injects per-item 5612 and request faults', async () => {
    const h = await headers();
    fakes.script('microsoftCampaign', [{ kind: 'microsoft-partial', indexes: [1], code: 5612 }, { kind: 'microsoft-fault', code: 0 }]);
    const partial = await apply([conversion(), conversion({ ConversionTime: '2026-11-20T10:30:00.000Z' })], h);
    expect(partial.body.PartialErrors).toMatchObject([{ Index: 1, Code: 5612, ErrorCode: 'OfflineConversionsApplyFailed', Type: 'BatchError' }]);
    expect(fakes.microsoft.stored()).toHaveLength(1);
    const fault = await apply([conversion()], h);
    expect(fault).toMatchObject({ status: 500, body: { Type: 'AdApiFaultDetail', Errors: [{ Code: 0, ErrorCode: 'InternalError' }] } });
  });
});

describe('discovery', () => {
  it('lists the user, the customer\'s accounts and the account\'s offline goals with their flags', async () => {
    const h = await headers();
    const cm = { authorization: h.authorization as string, developertoken: D.developerToken };
    const user = await postJson(`${fakes.urls.microsoftCustomer}/CustomerManagement/v13/User/Query`, { UserId: null }, cm);
    expect(user.body.CustomerRoles).toMatchObject([{ CustomerId: D.customerId }]);
    const accounts = await postJson(`${fakes.urls.microsoftCustomer}/CustomerManagement/v13/AccountsInfo/Query`, { CustomerId: D.customerId, OnlyParentAccounts: false }, cm);
    expect(accounts.body.AccountsInfo.map((a: { Id: string }) => a.Id)).toEqual([D.accountId, '180000002']);
    const goals = await postJson(
      `${fakes.urls.microsoftCampaign}/CampaignManagement/v13/ConversionGoals/QueryByIds`,
      { ConversionGoalIds: null, ConversionGoalTypes: 'OfflineConversion', ReturnAdditionalFields: 'IsEnhancedConversionsEnabled,IsExternallyAttributed' },
      h,
    );
    expect(goals.body.ConversionGoals.map((g: { Name: string; IsEnhancedConversionsEnabled: boolean }) => [g.Name, g.IsEnhancedConversionsEnabled])).toEqual([
      [D.goalName, true], ['Plain goal', false], ['New goal', false],
    ]);
  });
});
