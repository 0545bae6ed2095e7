import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '../src/index.js';
import { T0_SECONDS, fakesForTests, get, postForm, postJson, sha256, type Reply } from './fakes-helpers.js';

const suite = await fakesForTests();
const { fakes, clock } = suite;
const APP = FAKE_DEFAULTS.metaOAuth.app;
const BISU_CONFIG = '900000000000001';
const USER_CONFIG = '900000000000002';
const REDIRECT = 'https://pruuv.example/oauth/meta/callback';
const CLIENT_BUSINESS = '200000000000001';
fakes.oauth.allowRedirectUri('meta', REDIRECT);

const graph = (path: string, params: Record<string, string> = {}): string => {
  const url = new URL(`${fakes.urls.meta}/v26.0/${path}`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
};

async function dialog(params: Record<string, string>): Promise<Response> {
  const url = new URL(`${fakes.urls.metaOAuth}/v26.0/dialog/oauth`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return fetch(url, { redirect: 'manual' });
}

const consentParams = (over: Record<string, string> = {}): Record<string, string> => ({
  client_id: APP.id, redirect_uri: REDIRECT, config_id: BISU_CONFIG, response_type: 'code', state: 'st-1', ...over,
});

/** Approve the dialog and return the code. */
async function code(over: Record<string, string> = {}): Promise<string> {
  const res = await dialog(consentParams(over));
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
}

const exchange = (params: Record<string, string>): Promise<Reply> =>
  get(graph('oauth/access_token', { client_id: APP.id, client_secret: APP.secret, redirect_uri: REDIRECT, ...params }));

async function token(config = BISU_CONFIG): Promise<string> {
  const r = await exchange({ code: await code({ config_id: config }) });
  expect(r.status).toBe(200);
  return String(r.body.access_token);
}

const capi = (accessToken: string, pixel = '1234567890123456'): Promise<Reply> =>
  postJson(graph(`${pixel}/events`, { access_token: accessToken }), {
    data: [{ event_name: 'Lead', event_time: T0_SECONDS - 60, event_id: 'e1', action_source: 'system_generated', user_data: { em: sha256('a') } }],
  });

describe('GET /{v}/dialog/oauth', () => {
  it('approves at once: 302 to the redirect URI with a code and the state', async () => {
    const res = await dialog(consentParams());
    const location = new URL(res.headers.get('location') ?? '');
    expect(res.status).toBe(302);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('state')).toBe('st-1');
    expect(location.searchParams.get('code')).toMatch(/^AQ[\w-]{40,}$/);
  });

  it("redirects a denial with Meta's user_denied parameters", async () => {
    fakes.script('metaDialog', [{ kind: 'consent', decision: 'deny' }]);
    const location = new URL((await dialog(consentParams())).headers.get('location') ?? '');
    expect(Object.fromEntries(location.searchParams)).toEqual({
      error_reason: 'user_denied', error: 'access_denied', error_description: 'Permissions error.', state: 'st-1',
    });
  });

  const pages: Array<{ name: string; params: Record<string, string>; text: RegExp }> = [
    { name: 'an unknown client_id', params: consentParams({ client_id: '999' }), text: /Invalid App ID/ },
    { name: 'an unregistered redirect_uri', params: consentParams({ redirect_uri: `${REDIRECT}/` }), text: /URL Blocked/ },
    { name: 'an unknown config_id', params: consentParams({ config_id: '123' }), text: /Config ID is invalid/ },
    { name: 'no config_id', params: consentParams({ config_id: '' }), text: /Config ID is invalid/ },
    { name: 'a BISU configuration with response_type=token', params: consentParams({ response_type: 'token' }), text: /incorrect response_type/ },
    { name: 'the app secret in the URL', params: consentParams({ client_secret: APP.secret }), text: /secret/ },
  ];
  for (const { name, params, text } of pages) {
    it(`shows an error page and never redirects for ${name}`, async () => {
      const res = await dialog(params);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toMatch(text);
    });
  }

  it('accepts scope next to config_id and records it', async () => {
    await code({ scope: 'ads_read' });
    expect(fakes.requests('metaDialog')[0]?.query['scope']).toBe('ads_read');
  });
});

describe('GET /{v}/oauth/access_token', () => {
  it('exchanges a system-user configuration code for a token with no expiry', async () => {
    const r = await exchange({ code: await code() });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ access_token: expect.stringMatching(/^EAAG/), token_type: 'bearer' });
    expect(fakes.oauth.metaTokens()).toEqual([expect.objectContaining({ kind: 'system_user', businessId: CLIENT_BUSINESS, expiresAt: undefined, live: true })]);
  });

  it('exchanges a user configuration code for a short-lived token, then a long-lived one', async () => {
    const short = await exchange({ code: await code({ config_id: USER_CONFIG }) });
    expect(short.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 5400 });
    const long = await get(graph('oauth/access_token', {
      grant_type: 'fb_exchange_token', client_id: APP.id, client_secret: APP.secret, fb_exchange_token: short.body.access_token,
    }));
    expect(long.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 5_183_944 });
  });

  it('refuses to exchange an expired short-lived token (subcode 463)', async () => {
    const short = await token(USER_CONFIG);
    clock.advance(5400 * 1000);
    const r = await get(graph('oauth/access_token', { grant_type: 'fb_exchange_token', client_id: APP.id, client_secret: APP.secret, fb_exchange_token: short }));
    expect(r.body.error).toMatchObject({ code: 190, error_subcode: 463, type: 'OAuthException' });
  });

  it('refuses fb_exchange_token for a system-user token', async () => {
    const r = await get(graph('oauth/access_token', { grant_type: 'fb_exchange_token', client_id: APP.id, client_secret: APP.secret, fb_exchange_token: await token() }));
    expect(r.body.error.code).toBe(100);
  });

  it('checks in order: client_id, client_secret, code, redirect_uri, single use, expiry', async () => {
    const c = await code();
    const cases: Array<[Record<string, string>, number, number | undefined, RegExp]> = [
      [{ code: c, client_id: '1' }, 101, undefined, /^Error validating application\. Invalid application ID\.$/],
      [{ code: c, client_secret: 'wrong' }, 1, undefined, /^Error validating client secret\.$/],
      [{ code: 'nope' }, 100, undefined, /^Invalid verification code format\.$/],
      [{ code: c, redirect_uri: `${REDIRECT}?x=1` }, 100, 36008, /redirect_uri is identical to the one you used in the OAuth dialog request/],
    ];
    for (const [params, errorCode, subcode, message] of cases) {
      const r = await exchange(params);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: errorCode, type: 'OAuthException', fbtrace_id: expect.any(String) });
      expect(r.body.error.error_subcode).toBe(subcode);
      expect(r.body.error.message).toMatch(message);
    }
    expect((await exchange({ code: c })).status).toBe(200);
    const reused = await exchange({ code: c });
    expect(reused.body.error).toMatchObject({ code: 100, error_subcode: 36009, message: 'This authorization code has been used.' });
  });

  it('refuses a redirect_uri left out of the exchange (36008)', async () => {
    const c = await code();
    const r = await get(graph('oauth/access_token', { client_id: APP.id, client_secret: APP.secret, code: c }));
    expect(r.body.error.error_subcode).toBe(36008);
  });

  it('refuses a code older than its TTL (36007)', async () => {
    const c = await code();
    clock.advance(60_000);
    expect((await exchange({ code: c })).body.error).toMatchObject({ code: 100, error_subcode: 36007 });
  });
});

describe('discovery with a system-user token', () => {
  it('names the client business, then lists its owned and client pixels', async () => {
    const t = await token();
    expect((await get(graph('me', { fields: 'client_business_id', access_token: t }))).body).toEqual({ client_business_id: CLIENT_BUSINESS, id: expect.any(String) });
    const owned = await get(graph(`${CLIENT_BUSINESS}/owned_pixels`, { fields: 'id,name,last_fired_time,is_unavailable', limit: '100', access_token: t }));
    expect(owned.body.data).toEqual([
      { id: '1234567890123456', name: 'Client Shop web', last_fired_time: expect.any(String), is_unavailable: false },
      { id: '1234567890123457', name: 'Client Shop staging', last_fired_time: expect.any(String), is_unavailable: false },
    ]);
    expect(owned.body.paging.next).toBeUndefined();
    const client = await get(graph(`${CLIENT_BUSINESS}/client_pixels`, { fields: 'id,name', access_token: t }));
    expect(client.body.data).toEqual([{ id: '1234567890123458', name: 'Wholesale partner pixel', permitted_tasks: ['ANALYZE', 'UPLOAD'] }]);
  });

  it('cannot read another business (100/33)', async () => {
    const r = await get(graph('200000000000002/owned_pixels', { access_token: await token() }));
    expect(r.body.error).toMatchObject({ code: 100, error_subcode: 33, type: 'GraphMethodException' });
  });

  it('answers a permissions error (code 200) when ads_read was not granted', async () => {
    fakes.script('metaDialog', [{ kind: 'consent', decision: 'approve', grant: ['business_management'] }]);
    const r = await get(graph(`${CLIENT_BUSINESS}/owned_pixels`, { access_token: await token() }));
    expect(r.body.error).toMatchObject({ code: 200, message: '(#200) Permissions error' });
  });

  it('mints and fetches system-user tokens only with a valid appsecret_proof', async () => {
    const t = await token();
    const proof = createHmac('sha256', APP.secret).update(t).digest('hex');
    const url = graph(`${CLIENT_BUSINESS}/system_user_access_tokens`);
    expect((await postForm(url, { access_token: t, appsecret_proof: 'f'.repeat(64), fetch_only: 'true' })).body.error.code).toBe(100);
    expect((await postForm(url, { access_token: t, appsecret_proof: proof, fetch_only: 'true' })).body).toEqual({ access_token: t });
    const minted = await postForm(url, { access_token: t, appsecret_proof: proof, scope: 'ads_read' });
    expect(minted.body.access_token).not.toBe(t);
    expect(fakes.oauth.metaTokens().at(-1)?.scopes).toEqual(['ads_read']);
  });
});

describe('discovery with a user token', () => {
  it('lists businesses, ad accounts and the pixels of an ad account', async () => {
    const t = await token(USER_CONFIG);
    expect((await get(graph('me/businesses', { fields: 'id,name', access_token: t }))).body.data).toEqual([
      { id: '200000000000001', name: 'Client Shop GmbH', permitted_roles: ['ADMIN'] },
      { id: '200000000000002', name: 'Second Client Ltd', permitted_roles: ['ADMIN'] },
    ]);
    expect((await get(graph('me/adaccounts', { access_token: t }))).body.data).toEqual([
      { id: 'act_300000000000001', account_id: '300000000000001', name: 'Client Shop EU', account_status: 1 },
    ]);
    const pixels = await get(graph('act_300000000000001/adspixels', { fields: 'id,name,owner_business', access_token: t }));
    expect(pixels.body.data).toEqual([{ id: '1234567890123456', name: 'Client Shop web', owner_business: { id: '200000000000001' } }]);
    expect((await get(graph('act_999/adspixels', { access_token: t }))).body.error).toMatchObject({ code: 100, error_subcode: 33 });
  });
});

describe('paging', () => {
  it('follows next on the fake base URL until it is absent, honouring limit', async () => {
    const t = await token(USER_CONFIG);
    const first = await get(graph('me/businesses', { limit: '1', access_token: t }));
    expect(first.body.data).toHaveLength(1);
    expect(first.body.paging.cursors.after).toEqual(expect.any(String));
    expect(first.body.paging.next.startsWith(`${fakes.urls.meta}/v26.0/me/businesses?`)).toBe(true);
    const second = await get(first.body.paging.next);
    expect(second.body.data.map((b: { id: string }) => b.id)).toEqual(['200000000000002']);
    expect(second.body.paging.next).toBeUndefined();
  });

  it('caps the page at maxPageSize and can end with an empty page that still had a next', async () => {
    const own: FakePlatforms = await startFakePlatforms({ metaOAuth: { ...FAKE_DEFAULTS.metaOAuth, app: { ...APP, redirectUris: [REDIRECT] }, maxPageSize: 1, trailingEmptyPage: true } });
    try {
      const c = new URL((await fetch(`${own.urls.metaOAuth}/v26.0/dialog/oauth?${new URLSearchParams(consentParams())}`, { redirect: 'manual' })).headers.get('location') ?? '').searchParams.get('code') ?? '';
      const t = (await get(`${own.urls.meta}/v26.0/oauth/access_token?${new URLSearchParams({ client_id: APP.id, client_secret: APP.secret, redirect_uri: REDIRECT, code: c })}`)).body.access_token;
      const ids: string[] = [];
      let next: string | undefined = `${own.urls.meta}/v26.0/${CLIENT_BUSINESS}/owned_pixels?limit=100&access_token=${t}`;
      let pages = 0;
      while (next !== undefined) {
        const r = await get(next);
        ids.push(...r.body.data.map((p: { id: string }) => p.id));
        next = r.body.paging?.next;
        pages += 1;
      }
      expect(ids).toEqual(['1234567890123456', '1234567890123457']);
      expect(pages).toBe(3);
    } finally {
      await own.close();
    }
  });
});

describe('debug_token', () => {
  const debug = (input: string, appToken = `${APP.id}|${APP.secret}`): Promise<Reply> => get(graph('debug_token', { input_token: input, access_token: appToken }));

  it('reports a system-user token as valid and never expiring', async () => {
    const r = await debug(await token());
    expect(r.body.data).toMatchObject({ app_id: APP.id, type: 'SYSTEM_USER', is_valid: true, expires_at: 0, scopes: ['ads_read', 'business_management'] });
  });

  it('reports a user token with its expiry, then invalid after it', async () => {
    const t = await token(USER_CONFIG);
    expect((await debug(t)).body.data).toMatchObject({ type: 'USER', is_valid: true, expires_at: T0_SECONDS + 5400 });
    clock.advance(5400 * 1000);
    expect((await debug(t)).body.data).toMatchObject({ is_valid: false, error: { code: 190, subcode: 463 } });
  });

  it('requires the app token of the same app', async () => {
    expect((await debug(await token(), `${APP.id}|wrong`)).body.error.code).toBe(190);
  });
});

describe('killed tokens', () => {
  for (const subcode of [460, 463, 467] as const) {
    it(`answers code 190 subcode ${subcode} on Graph reads and on the Conversions API`, async () => {
      const t = await token();
      expect((await capi(t)).status).toBe(200);
      expect(fakes.oauth.killMetaTokens(subcode)).toBeGreaterThan(0);
      const read = await get(graph('me', { access_token: t }));
      expect(read.body.error).toMatchObject({ code: 190, error_subcode: subcode, message: expect.stringMatching(/^Error validating access token/) });
      expect((await capi(t)).body.error).toMatchObject({ code: 190, error_subcode: subcode });
      expect(fakes.counted('meta').size).toBe(1);
    });
  }

  it('answers 190 without a subcode for a missing or unknown token', async () => {
    expect((await get(graph('me'))).body.error).toMatchObject({ code: 190 });
    expect((await get(graph('me', { access_token: 'EAAGnope' }))).body.error).toMatchObject({ code: 190, message: 'Invalid OAuth access token - Cannot parse access token' });
  });

  it('lets a system-user token post only to the pixels of its business', async () => {
    expect((await capi(await token(), '2234567890123456')).body.error).toMatchObject({ code: 100, error_subcode: 33 });
  });
});
