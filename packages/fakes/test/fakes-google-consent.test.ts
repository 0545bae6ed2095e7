import { createHash } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS, GOOGLE_SCOPES, startFakePlatforms } from '../src/index.js';
import { get, postForm, postJson } from './fakes-helpers.js';

const fakes = await startFakePlatforms();
afterAll(() => fakes.close());

const REDIRECT = 'https://collector.example/oauth/google/callback';
fakes.googleOAuth.registerRedirectUri(REDIRECT);
const { clientId, clientSecret } = FAKE_DEFAULTS.google;
const verifier = 'v'.repeat(43);
const challenge = createHash('sha256').update(verifier).digest('base64url');

function authorizeUrl(over: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    client_id: clientId, redirect_uri: REDIRECT, response_type: 'code', scope: `${GOOGLE_SCOPES.ads} ${GOOGLE_SCOPES.dataManager}`,
    access_type: 'offline', prompt: 'consent select_account', state: 'st-1', code_challenge: challenge, code_challenge_method: 'S256', ...over,
  };
  const url = new URL(fakes.urls.googleAuthorize);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

async function authorize(over: Record<string, string | undefined> = {}): Promise<{ status: number; location: URL | undefined; text: string }> {
  const r = await fetch(authorizeUrl(over), { redirect: 'manual' });
  const location = r.headers.get('location');
  return { status: r.status, location: location === null ? undefined : new URL(location), text: await r.text() };
}

async function codeOf(over: Record<string, string | undefined> = {}): Promise<string> {
  const { location } = await authorize(over);
  return location?.searchParams.get('code') ?? '';
}

const exchange = (code: string, over: Record<string, string> = {}) =>
  postForm(fakes.urls.oauthToken, { grant_type: 'authorization_code', code, client_id: clientId, client_secret: clientSecret, redirect_uri: REDIRECT, code_verifier: verifier, ...over });

beforeEach(() => {
  fakes.googleOAuth.consent('approve');
  fakes.googleOAuth.grantAccess(['1110000001', '4440000004', '5550000005']);
});

describe('GET /o/oauth2/v2/auth', () => {
  it('redirects back with state, a code and the granted scopes when the user approves', async () => {
    const { status, location } = await authorize();
    expect(status).toBe(302);
    expect(`${location?.origin}${location?.pathname}`).toBe(REDIRECT);
    expect(location?.searchParams.get('state')).toBe('st-1');
    expect(location?.searchParams.get('code')).toMatch(/^4\/0F/);
  });
  it('redirects back with error=access_denied when the user denies', async () => {
    fakes.googleOAuth.consent('deny');
    const { location } = await authorize();
    expect(Object.fromEntries(location?.searchParams ?? [])).toEqual({ error: 'access_denied', state: 'st-1' });
  });
  const refusals: Array<{ name: string; over: Record<string, string | undefined>; page: RegExp }> = [
    { name: 'an unregistered redirect URI (trailing slash)', over: { redirect_uri: `${REDIRECT}/` }, page: /redirect_uri_mismatch/ },
    { name: 'an unknown client', over: { client_id: 'other' }, page: /invalid_client/ },
    { name: 'the client secret in the URL', over: { client_secret: 'x' }, page: /client secret/ },
    { name: 'no state', over: { state: undefined }, page: /state/ },
    { name: 'a method without a challenge', over: { code_challenge: undefined }, page: /code_challenge/ },
    { name: 'an unknown scope', over: { scope: 'https://www.googleapis.com/auth/drive' }, page: /invalid_scope/ },
  ];
  for (const { name, over, page } of refusals) {
    it(`shows Google's error page and does not redirect for ${name}`, async () => {
      const r = await authorize(over);
      expect(r.status).toBe(400);
      expect(r.location).toBeUndefined();
      expect(r.text).toMatch(page);
    });
  }
  it('shows a consent page whose Allow button redirects with a code', async () => {
    fakes.googleOAuth.consent('page');
    const { status, text } = await authorize();
    expect(status).toBe(200);
    const id = /name="consent_id" value="([^"]+)"/.exec(text)?.[1] ?? '';
    const r = await fetch(`${fakes.urls.googleAuthorize}/decide`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `consent_id=${id}&decision=allow` });
    expect(r.status).toBe(302);
    expect(new URL(r.headers.get('location') ?? '').searchParams.get('code')).toMatch(/^4\/0F/);
  });
});

describe('POST /token, authorization_code', () => {
  it('issues tokens once per code, with a refresh token for offline access', async () => {
    const code = await codeOf();
    const ok = await exchange(code);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ access_token: expect.stringMatching(/^ya29\./), refresh_token: expect.any(String), expires_in: 3599, token_type: 'Bearer' });
    const again = await exchange(code);
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
  const cases: Array<{ name: string; over: Record<string, string>; status: number; error: string }> = [
    { name: 'a wrong verifier', over: { code_verifier: 'w'.repeat(43) }, status: 400, error: 'invalid_grant' },
    { name: 'no verifier', over: { code_verifier: '' }, status: 400, error: 'invalid_grant' },
    { name: 'another redirect URI', over: { redirect_uri: `${REDIRECT}?x=1` }, status: 400, error: 'redirect_uri_mismatch' },
    { name: 'a wrong client secret', over: { client_secret: 'nope' }, status: 401, error: 'invalid_client' },
  ];
  for (const { name, over, status, error } of cases) {
    it(`answers ${status} ${error} for ${name}`, async () => {
      const r = await exchange(await codeOf(), over);
      expect(r).toMatchObject({ status, body: { error } });
    });
  }
  it('answers "Malformed auth code." for a code it never issued', async () => {
    expect(await exchange('4/0Fnope')).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: 'Malformed auth code.' } });
  });
});

describe('revoke and refresh', () => {
  it('kills the refresh token and its access tokens', async () => {
    const { body } = await exchange(await codeOf());
    const refreshed = await postForm(fakes.urls.oauthToken, { grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: clientId, client_secret: clientSecret });
    expect(refreshed.status).toBe(200);
    expect((await postForm(`${fakes.urls.googleRevoke}?token=${body.access_token}`, {})).status).toBe(200);
    const after = await postForm(fakes.urls.oauthToken, { grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: clientId, client_secret: clientSecret });
    expect(after.body).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    expect((await get(`${fakes.urls.googleAuth}/tokeninfo?access_token=${refreshed.body.access_token}`)).status).toBe(400);
    expect(await postForm(`${fakes.urls.googleRevoke}?token=${body.refresh_token}`, {})).toMatchObject({ status: 400, body: { error: 'invalid_token' } });
  });
});

describe('discovery', () => {
  async function token(): Promise<string> {
    return (await exchange(await codeOf())).body.access_token as string;
  }
  it('lists the accessible customers and pages the hierarchy', async () => {
    const t = await token();
    const auth = { authorization: `Bearer ${t}` };
    expect((await get(`${fakes.urls.googleAds}/v26/customers:listAccessibleCustomers`, auth)).body).toEqual({ resourceNames: ['customers/1110000001', 'customers/4440000004', 'customers/5550000005'] });
    const query = 'SELECT customer_client.id FROM customer_client WHERE customer_client.level <= 1';
    const first = await postJson(`${fakes.urls.googleAds}/v26/customers/1110000001/googleAds:search`, { query }, { ...auth, 'login-customer-id': '1110000001' });
    expect(first.body.results).toHaveLength(2);
    expect(first.body.nextPageToken).toEqual(expect.any(String));
    const second = await postJson(`${fakes.urls.googleAds}/v26/customers/1110000001/googleAds:search`, { query, pageToken: first.body.nextPageToken }, { ...auth, 'login-customer-id': '1110000001' });
    expect(second.body.results).toHaveLength(1);
    expect(second.body.nextPageToken).toBeUndefined();
  });
  it('refuses a client reached without its manager as login-customer-id, and pageSize', async () => {
    const auth = { authorization: `Bearer ${await token()}` };
    const query = "SELECT conversion_action.id FROM conversion_action WHERE conversion_action.type = 'UPLOAD_CLICKS' AND conversion_action.status = 'ENABLED'";
    const denied = await postJson(`${fakes.urls.googleAds}/v26/customers/1234567890/googleAds:search`, { query }, auth);
    expect(denied.status).toBe(403);
    expect(JSON.stringify(denied.body)).toContain('USER_PERMISSION_DENIED');
    const ok = await postJson(`${fakes.urls.googleAds}/v26/customers/1234567890/googleAds:search`, { query }, { ...auth, 'login-customer-id': '1110000001' });
    expect(ok.body.results.map((r: any) => r.conversionAction.id)).toEqual(['987654321', '987654322']);
    const paged = await postJson(`${fakes.urls.googleAds}/v26/customers/1234567890/googleAds:search`, { query, pageSize: 10 }, { ...auth, 'login-customer-id': '1110000001' });
    expect(JSON.stringify(paged.body)).toContain('PAGE_SIZE_NOT_SUPPORTED');
  });
  it('answers an empty list for a user with no Ads account, and 403 scope-insufficient without adwords', async () => {
    fakes.googleOAuth.grantAccess([]);
    const none = await get(`${fakes.urls.googleAds}/v26/customers:listAccessibleCustomers`, { authorization: `Bearer ${await token()}` });
    expect(none.body).toEqual({});
    const dm = await exchange(await codeOf({ scope: GOOGLE_SCOPES.dataManager }));
    const r = await get(`${fakes.urls.googleAds}/v26/customers:listAccessibleCustomers`, { authorization: `Bearer ${dm.body.access_token}` });
    expect(r.status).toBe(403);
    expect(JSON.stringify(r.body)).toContain('ACCESS_TOKEN_SCOPE_INSUFFICIENT');
  });
});
