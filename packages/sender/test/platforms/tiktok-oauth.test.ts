/** TikTok's OAuth provider: the pure request/response rules, and the whole flow against the strict fake. */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { testClock } from '@pruuv/fakes/vitest';
import type { HttpResponse } from '../../src/http.js';
import { OAuthFlowError, type OAuthCallContext, type OAuthTokenSet } from '../../src/platforms/oauth-provider.js';
import { readTikTokToken, tiktokFailure, tiktokOAuth } from '../../src/platforms/tiktok/oauth.js';

const clock = testClock();
const fakes: FakePlatforms = await startFakePlatforms({ now: clock.now });
afterAll(() => fakes.close());
const REDIRECT = 'http://127.0.0.1:1/oauth/tiktok/callback';
fakes.oauth.allowRedirectUri('tiktok', REDIRECT);
const APP = FAKE_DEFAULTS.tiktokOAuth.app;
const CLIENT_SHOP = '7012345678901234567';
const SECOND = '7012345678901234568';

const ctx: OAuthCallContext = {
  app: { clientId: APP.id, clientSecret: APP.secret },
  urls: { authorize: fakes.urls.tiktokOAuth, tiktok: fakes.urls.tiktok },
  versions: { tiktok: 'v1.3' },
  fetch: (input, init) => fetch(input, init),
  now: clock.now,
  timeoutMs: 2000,
};

beforeEach(() => {
  fakes.reset();
  clock.set(Date.parse('2026-11-20T12:00:00Z'));
});

async function consent(): Promise<string> {
  const r = await fetch(tiktokOAuth.authorizeUrl({ state: 'st', redirectUri: REDIRECT, settings: {} }, ctx), { redirect: 'manual' });
  const back = tiktokOAuth.readCallback(new URL(r.headers.get('location') ?? 'http://x/').searchParams);
  if (back.kind !== 'code') throw new Error(`no code: ${back.error}`);
  return back.code;
}

async function connect(): Promise<OAuthTokenSet> {
  return tiktokOAuth.exchangeCode({ code: await consent(), redirectUri: REDIRECT, settings: {} }, ctx);
}

const answer = (json: unknown, status = 200): HttpResponse => ({ status, headers: {}, text: JSON.stringify(json), json });

describe('the authorization request', () => {
  it('sends app_id, state and the exact redirect URI; no secret, no scope, no PKCE', () => {
    const url = new URL(tiktokOAuth.authorizeUrl({ state: 's1', redirectUri: 'https://c.example/oauth/tiktok/callback', settings: {} }, { ...ctx, urls: {} }));
    expect(`${url.origin}${url.pathname}`).toBe('https://business-api.tiktok.com/portal/auth');
    expect(Object.fromEntries(url.searchParams)).toEqual({ app_id: APP.id, state: 's1', redirect_uri: 'https://c.example/oauth/tiktok/callback' });
    expect(tiktokOAuth.pkce).toBe(false);
  });

  it('reads auth_code, falls back to code, and counts a callback without either as cancelled', () => {
    expect(tiktokOAuth.readCallback(new URLSearchParams('auth_code=a1&code=c1&state=s'))).toEqual({ kind: 'code', code: 'a1' });
    expect(tiktokOAuth.readCallback(new URLSearchParams('code=c1&state=s'))).toEqual({ kind: 'code', code: 'c1' });
    expect(tiktokOAuth.readCallback(new URLSearchParams('state=s'))).toMatchObject({ kind: 'denied', error: 'no_code' });
  });
});

describe('reading answers', () => {
  const cases: Array<[number, OAuthFlowError['kind']]> = [
    [40110, 'invalid_grant'], [40101, 'invalid_client'], [40105, 'token_revoked'], [40001, 'token_revoked'],
    [40102, 'token_revoked'], [40104, 'token_revoked'], [51000, 'unavailable'], [40002, 'refused'],
  ];
  for (const [code, kind] of cases) {
    it(`reads code ${code} as ${kind}, keeping TikTok's message`, () => {
      const e = tiktokFailure(code, 'TikTok says so', 'x');
      expect(e).toMatchObject({ kind, platformError: String(code) });
      expect(e.message).toContain('TikTok says so');
    });
  }

  it('reads a long-term token with no expiry, and keeps an expiry TikTok would send', () => {
    const now = new Date('2026-11-20T12:00:00Z');
    const plain = readTikTokToken(answer({ code: 0, message: 'OK', request_id: 'r', data: { access_token: 't', advertiser_ids: ['1'], scope: [4, 5] } }), now);
    expect(plain).toEqual({ accessToken: 't', scopes: ['4', '5'], advertiserIds: ['1'] });
    const timed = readTikTokToken(answer({ code: 0, data: { access_token: 't', advertiser_ids: [1], expires_in: 86_400, refresh_token: 'r', refresh_token_expires_in: 31_536_000 } }), now);
    expect(timed.expiresAt?.toISOString()).toBe('2026-11-21T12:00:00.000Z');
    expect(timed.refreshToken).toBe('r');
    expect(tiktokOAuth.health({ grantedAt: now, expiresAt: timed.expiresAt as Date }, ctx.app)).toEqual({ userActionBy: timed.expiresAt });
    expect(tiktokOAuth.health({ grantedAt: now }, ctx.app)).toEqual({});
  });

  it('refuses a body of another shape (a proxy page) as refused', () => {
    expect(() => readTikTokToken({ status: 502, headers: {}, text: '<html>', json: undefined }, new Date())).toThrow(OAuthFlowError);
  });
});

describe('the flow against the fake', () => {
  it('exchanges the auth_code, then walks advertisers and 22 pixels over two pages, hiding the unbound one', async () => {
    const tokens = await connect();
    expect(tokens).toEqual({ accessToken: expect.any(String), scopes: ['4', '5', '6', '12'] });
    const first = await tiktokOAuth.discover(tokens, [], ctx);
    if (first.kind !== 'choose') throw new Error('expected a step');
    expect(first.step.choices.map((c) => c.id)).toEqual([CLIENT_SHOP, SECOND]);
    const second = await tiktokOAuth.discover(tokens, [CLIENT_SHOP], ctx);
    if (second.kind !== 'choose') throw new Error('expected a step');
    expect(second.step.choices).toHaveLength(21);
    expect(second.step.choices.map((c) => c.id)).not.toContain('CFAKEPIXEL0000000021');
    const pages = fakes.requests('tiktok').filter((r) => r.path.endsWith('/pixel/list/'));
    expect(pages.map((r) => r.query['page'])).toEqual(['1', '2']);
    expect(pages.every((r) => r.headers['access-token'] === tokens.accessToken && r.query['page_size'] === '20')).toBe(true);
    const done = await tiktokOAuth.discover(tokens, [CLIENT_SHOP, 'CFAKEPIXEL0000000000'], ctx);
    expect(done).toEqual({ kind: 'done', settings: { pixel_code: 'CFAKEPIXEL0000000000' }, summary: 'Client Shop web (CFAKEPIXEL0000000000) · Client Shop (7012345678901234567)' });
    expect(tiktokOAuth.credentials(tokens, ctx.app)).toEqual({ access_token: tokens.accessToken });
  });

  it('sends the exchange as JSON with app_id, secret and auth_code only', async () => {
    await connect();
    const exchange = fakes.requests('tiktok').find((r) => r.path.endsWith('/oauth2/access_token/'));
    expect(exchange?.headers['content-type']).toBe('application/json');
    expect(Object.keys(exchange?.body as object).sort()).toEqual(['app_id', 'auth_code', 'secret']);
  });

  it('reads a reused code as invalid_grant (40110)', async () => {
    const code = await consent();
    await tiktokOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, ctx);
    await expect(tiktokOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, ctx)).rejects.toMatchObject({ kind: 'invalid_grant', platformError: '40110' });
  });

  it('reads a wrong secret as invalid_client (40101)', async () => {
    const code = await consent();
    await expect(tiktokOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, { ...ctx, app: { ...ctx.app, clientSecret: 'x' } }))
      .rejects.toMatchObject({ kind: 'invalid_client' });
  });

  it('reads a denial (a redirect without a code) as cancelled', async () => {
    fakes.script('tiktokPortal', [{ kind: 'consent', decision: 'deny' }]);
    const r = await fetch(tiktokOAuth.authorizeUrl({ state: 'st', redirectUri: REDIRECT, settings: {} }, ctx), { redirect: 'manual' });
    expect(tiktokOAuth.readCallback(new URL(r.headers.get('location') ?? '').searchParams)).toMatchObject({ kind: 'denied', error: 'no_code' });
  });

  it('reports a 5xx and a timeout at the token endpoint as unavailable', async () => {
    const code = await consent();
    fakes.script('tiktok', [{ kind: 'status', status: 502, body: '<html>Bad Gateway</html>' }]);
    await expect(tiktokOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, ctx)).rejects.toMatchObject({ kind: 'unavailable' });
    fakes.script('tiktok', [{ kind: 'hang' }]);
    await expect(tiktokOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, { ...ctx, timeoutMs: 200 })).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('says nothing_found for an advertiser without pixels and when every advertiser withdrew', async () => {
    const own = await startFakePlatforms({ tiktokOAuth: { ...FAKE_DEFAULTS.tiktokOAuth, app: { ...APP, redirectUris: [REDIRECT] }, advertisers: [{ id: SECOND, name: 'Empty', pixels: [] }] } });
    try {
      const c: OAuthCallContext = { ...ctx, urls: { authorize: own.urls.tiktokOAuth, tiktok: own.urls.tiktok } };
      const r = await fetch(tiktokOAuth.authorizeUrl({ state: 'st', redirectUri: REDIRECT, settings: {} }, c), { redirect: 'manual' });
      const back = tiktokOAuth.readCallback(new URL(r.headers.get('location') ?? '').searchParams);
      if (back.kind !== 'code') throw new Error('no code');
      const tokens = await tiktokOAuth.exchangeCode({ code: back.code, redirectUri: REDIRECT, settings: {} }, c);
      await expect(tiktokOAuth.discover(tokens, [SECOND], c)).rejects.toMatchObject({ kind: 'nothing_found', message: expect.stringMatching(/has no pixel/) });
      own.oauth.withdrawTikTokAdvertiser(SECOND);
      await expect(tiktokOAuth.discover(tokens, [], c)).rejects.toMatchObject({ kind: 'nothing_found' });
    } finally {
      await own.close();
    }
  });

  it('revokes at TikTok; afterwards discovery is token_revoked and revoking again is no error', async () => {
    const tokens = await connect();
    await tiktokOAuth.revoke?.(tokens.accessToken, ctx);
    expect(fakes.oauth.tiktokTokens().find((t) => t.token === tokens.accessToken)?.live).toBe(false);
    await expect(tiktokOAuth.discover(tokens, [], ctx)).rejects.toMatchObject({ kind: 'token_revoked', platformError: '40105' });
    await expect(tiktokOAuth.revoke?.(tokens.accessToken, ctx)).resolves.toBeUndefined();
  });
});
