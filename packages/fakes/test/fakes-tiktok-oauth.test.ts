import { describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS } from '../src/index.js';
import { T0_SECONDS, fakesForTests, get, postForm, postJson, type Reply } from './fakes-helpers.js';

const suite = await fakesForTests();
const { fakes, clock } = suite;
const APP = FAKE_DEFAULTS.tiktokOAuth.app;
const REDIRECT = 'https://pruuv.example/oauth/tiktok/callback';
const CLIENT_SHOP = '7012345678901234567';
const SECOND = '7012345678901234568';
fakes.oauth.allowRedirectUri('tiktok', REDIRECT);

const api = (path: string): string => `${fakes.urls.tiktok}/open_api/v1.3/${path}`;

async function portal(params: Record<string, string>): Promise<Response> {
  return fetch(`${fakes.urls.tiktokOAuth}?${new URLSearchParams(params)}`, { redirect: 'manual' });
}

async function authCode(): Promise<string> {
  const res = await portal({ app_id: APP.id, redirect_uri: REDIRECT, state: 'st' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location') ?? '').searchParams.get('auth_code') ?? '';
}

const exchange = (body: Record<string, unknown>): Promise<Reply> => postJson(api('oauth2/access_token/'), body);

async function token(): Promise<string> {
  const r = await exchange({ app_id: APP.id, secret: APP.secret, auth_code: await authCode() });
  expect(r.body.code).toBe(0);
  return String(r.body.data.access_token);
}

const advertisers = (t: string, secret: string = APP.secret): Promise<Reply> =>
  get(`${api('oauth2/advertiser/get/')}?${new URLSearchParams({ app_id: APP.id, secret })}`, { 'access-token': t });
const pixels = (t: string, params: Record<string, string>): Promise<Reply> => get(`${api('pixel/list/')}?${new URLSearchParams(params)}`, { 'access-token': t });
const track = (t: string, pixel = 'CFAKEPIXEL0000000000'): Promise<Reply> =>
  postJson(api('event/track/'), { event_source: 'web', event_source_id: pixel, data: [{ event: 'Lead', event_time: T0_SECONDS - 60, event_id: 'e1' }] }, { 'access-token': t });

const envelope = (code: number): unknown => ({ code, message: expect.any(String), request_id: expect.stringMatching(/^20261120/), data: expect.anything() });

describe('GET /portal/auth', () => {
  it('approves at once: 302 with auth_code, the same code, and the state', async () => {
    const res = await portal({ app_id: APP.id, redirect_uri: REDIRECT, state: 'st' });
    const q = new URL(res.headers.get('location') ?? '').searchParams;
    expect(q.get('auth_code')).toMatch(/^[0-9a-f]{40}$/);
    expect(q.get('code')).toBe(q.get('auth_code'));
    expect(q.get('state')).toBe('st');
  });

  it('leaves state out when none was sent, and can send code only', async () => {
    fakes.script('tiktokPortal', [{ kind: 'consent', decision: 'approve', codeOnly: true }]);
    const q = new URL((await portal({ app_id: APP.id, redirect_uri: REDIRECT })).headers.get('location') ?? '').searchParams;
    expect([...q.keys()]).toEqual(['code']);
  });

  it('redirects a denial with the state and no code', async () => {
    fakes.script('tiktokPortal', [{ kind: 'consent', decision: 'deny' }]);
    const q = new URL((await portal({ app_id: APP.id, redirect_uri: REDIRECT, state: 'st' })).headers.get('location') ?? '').searchParams;
    expect(Object.fromEntries(q)).toEqual({ state: 'st' });
  });

  for (const [name, params] of [
    ['an unknown app_id', { app_id: '1', redirect_uri: REDIRECT }],
    ['an unregistered redirect_uri', { app_id: APP.id, redirect_uri: 'https://pruuv.example/oauth/tiktok/callback/' }],
    ['the secret in the URL', { app_id: APP.id, redirect_uri: REDIRECT, secret: APP.secret }],
  ] as const) {
    it(`shows an error page and never redirects for ${name}`, async () => {
      const res = await portal(params);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    });
  }

  it('registers at most 10 advertiser redirect URLs', () => {
    for (let i = 0; i < 9; i += 1) fakes.oauth.allowRedirectUri('tiktok', `https://app${i}.example/cb`);
    expect(() => fakes.oauth.allowRedirectUri('tiktok', 'https://eleventh.example/cb')).toThrow(/at most 10/);
  });
});

describe('POST /open_api/v1.3/oauth2/access_token/', () => {
  it('exchanges an auth_code for a long-term token, the advertisers and the scope list', async () => {
    const r = await exchange({ app_id: APP.id, secret: APP.secret, auth_code: await authCode() });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      code: 0, message: 'OK', request_id: expect.any(String),
      data: { access_token: expect.stringMatching(/^[0-9a-f]{40}$/), advertiser_ids: [CLIENT_SHOP, SECOND], scope: [4, 5, 6, 12] },
    });
  });

  it('grants only the advertisers the user ticked', async () => {
    fakes.script('tiktokPortal', [{ kind: 'consent', decision: 'approve', advertisers: [SECOND] }]);
    const r = await exchange({ app_id: APP.id, secret: APP.secret, auth_code: await authCode() });
    expect(r.body.data.advertiser_ids).toEqual([SECOND]);
  });

  it('refuses (HTTP 200, non-zero code) a form body, a wrong secret, a reused or an expired code', async () => {
    const c = await authCode();
    const form = await postForm(api('oauth2/access_token/'), { app_id: APP.id, secret: APP.secret, auth_code: c });
    expect(form.status).toBe(200);
    expect(form.body).toEqual(envelope(40002));
    expect((await exchange({ app_id: APP.id, secret: 'wrong', auth_code: c })).body).toEqual(envelope(40101));
    expect((await exchange({ app_id: APP.id, secret: APP.secret })).body).toEqual(envelope(40002));
    expect((await exchange({ app_id: APP.id, secret: APP.secret, auth_code: c })).body.code).toBe(0);
    expect((await exchange({ app_id: APP.id, secret: APP.secret, auth_code: c })).body).toEqual(envelope(40110));
    const late = await authCode();
    clock.advance(3600 * 1000);
    expect((await exchange({ app_id: APP.id, secret: APP.secret, auth_code: late })).body).toEqual(envelope(40110));
    expect((await exchange({ app_id: APP.id, secret: APP.secret, auth_code: 'unknown' })).body).toEqual(envelope(40110));
  });
});

describe('GET /open_api/v1.3/oauth2/advertiser/get/', () => {
  it('lists the authorized advertisers', async () => {
    expect((await advertisers(await token())).body.data).toEqual({
      list: [{ advertiser_id: CLIENT_SHOP, advertiser_name: 'Client Shop' }, { advertiser_id: SECOND, advertiser_name: 'Second Client' }],
    });
  });

  it('needs the Access-Token header (40105) and the app credentials (40101)', async () => {
    const t = await token();
    expect((await get(`${api('oauth2/advertiser/get/')}?app_id=${APP.id}&secret=${APP.secret}`)).body).toEqual(envelope(40105));
    expect((await advertisers(t, 'wrong')).body).toEqual(envelope(40101));
  });

  it('stops listing an advertiser that withdrew its authorization', async () => {
    const t = await token();
    fakes.oauth.withdrawTikTokAdvertiser(SECOND);
    expect((await advertisers(t)).body.data.list.map((a: { advertiser_id: string }) => a.advertiser_id)).toEqual([CLIENT_SHOP]);
  });
});

describe('GET /open_api/v1.3/pixel/list/', () => {
  it('pages the 22 pixels of an advertiser 20 at a time', async () => {
    const t = await token();
    const first = await pixels(t, { advertiser_id: CLIENT_SHOP, page: '1', page_size: '20' });
    const second = await pixels(t, { advertiser_id: CLIENT_SHOP, page: '2', page_size: '20' });
    expect(first.body.data.pixels).toHaveLength(20);
    expect(first.body.data.page_info).toEqual({ page: 1, page_size: 20, total_number: 22, total_page: 2 });
    expect(second.body.data.pixels.map((p: { pixel_code: string }) => p.pixel_code)).toEqual(['CFAKEPIXEL0000000020', 'CFAKEPIXEL0000000021']);
    expect(second.body.data.pixels[1].asset_ownership.asset_relation_status).toBe('UNBOUND');
    expect(first.body.data.pixels[0]).toMatchObject({ pixel_id: '7100000000000000000', pixel_code: 'CFAKEPIXEL0000000000', pixel_name: 'Client Shop web' });
  });

  it('refuses a missing advertiser_id or page_size 21 (40002) and an advertiser not granted (40001)', async () => {
    fakes.script('tiktokPortal', [{ kind: 'consent', decision: 'approve', advertisers: [SECOND] }]);
    const r = await exchange({ app_id: APP.id, secret: APP.secret, auth_code: await authCode() });
    const t = String(r.body.data.access_token);
    expect((await pixels(t, { page_size: '20' })).body).toEqual(envelope(40002));
    expect((await pixels(t, { advertiser_id: SECOND, page_size: '21' })).body).toEqual(envelope(40002));
    expect((await pixels(t, { advertiser_id: CLIENT_SHOP })).body).toEqual(envelope(40001));
    expect((await pixels('nope', { advertiser_id: SECOND })).body).toEqual(envelope(40105));
  });
});

describe('POST /open_api/v1.3/oauth2/revoke_token/', () => {
  it('revokes the token everywhere, the Events API included', async () => {
    const t = await token();
    expect((await track(t)).body.code).toBe(0);
    const r = await postJson(api('oauth2/revoke_token/'), { app_id: APP.id, secret: APP.secret, access_token: t });
    expect(r.body.data).toEqual({ app_id: APP.id, advertiser_ids: [CLIENT_SHOP, SECOND] });
    expect((await advertisers(t)).body).toEqual(envelope(40105));
    expect((await track(t)).body).toEqual(envelope(40001));
    expect((await postJson(api('oauth2/revoke_token/'), { app_id: APP.id, secret: APP.secret, access_token: t })).body).toEqual(envelope(40105));
  });

  it('requires the app credentials', async () => {
    expect((await postJson(api('oauth2/revoke_token/'), { app_id: APP.id, secret: 'x', access_token: await token() })).body).toEqual(envelope(40101));
  });

  it('is also a test control', async () => {
    const t = await token();
    expect(fakes.oauth.revokeTikTokTokens()).toBeGreaterThan(0);
    expect(fakes.oauth.tiktokTokens().every((x) => !x.live)).toBe(true);
    expect((await track(t)).body.code).toBe(40001);
  });
});

describe('the Events API with an issued token', () => {
  it('accepts only the pixels of the granted advertisers', async () => {
    fakes.script('tiktokPortal', [{ kind: 'consent', decision: 'approve', advertisers: [SECOND] }]);
    const t = String((await exchange({ app_id: APP.id, secret: APP.secret, auth_code: await authCode() })).body.data.access_token);
    expect((await track(t, 'CFAKEPIXEL1000000000')).body.code).toBe(0);
    expect((await track(t, 'CFAKEPIXEL0000000000')).body).toEqual(envelope(40001));
  });
});
