/** Meta's OAuth provider: the pure request/response rules, and the whole flow against the strict fake. */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { testClock } from '@pruuv/fakes/vitest';
import { appsecretProof, metaGraphFailure, metaOAuth, META_CONFIG_ID_ENV, mergePixels } from '../../src/platforms/meta/oauth.js';
import { OAuthFlowError, type OAuthCallContext, type OAuthTokenSet } from '../../src/platforms/oauth-provider.js';
import type { HttpResponse } from '../../src/http.js';

const clock = testClock();
const fakes: FakePlatforms = await startFakePlatforms({ now: clock.now });
afterAll(() => fakes.close());
const REDIRECT = 'http://127.0.0.1:1/oauth/meta/callback';
fakes.oauth.allowRedirectUri('meta', REDIRECT);
const APP = FAKE_DEFAULTS.metaOAuth.app;
const BISU = '900000000000001';
const USER = '900000000000002';

const context = (configId = BISU): OAuthCallContext => ({
  app: { clientId: APP.id, clientSecret: APP.secret, extra: { [META_CONFIG_ID_ENV]: configId } },
  urls: { authorize: fakes.urls.metaOAuth, meta: fakes.urls.meta },
  versions: { meta: 'v26.0' },
  fetch: (input, init) => fetch(input, init),
  now: clock.now,
  timeoutMs: 2000,
});
const ctx = context();

beforeEach(() => {
  fakes.reset();
  clock.set(Date.parse('2026-11-20T12:00:00Z'));
});

/** Consent on the fake, as the browser would, and read the callback. */
async function consent(c: OAuthCallContext = ctx): Promise<string> {
  const r = await fetch(metaOAuth.authorizeUrl({ state: 'st', redirectUri: REDIRECT, settings: {} }, c), { redirect: 'manual' });
  const back = metaOAuth.readCallback(new URL(r.headers.get('location') ?? 'http://x/').searchParams);
  if (back.kind !== 'code') throw new Error(`no code: ${back.error}`);
  return back.code;
}

async function connect(c: OAuthCallContext = ctx): Promise<OAuthTokenSet> {
  return metaOAuth.exchangeCode({ code: await consent(c), redirectUri: REDIRECT, settings: {} }, c);
}

const res = (status: number, json: unknown): HttpResponse => ({ status, headers: {}, text: JSON.stringify(json), json });
const graphError = (code: number, subcode?: number, message = 'm'): HttpResponse =>
  res(400, { error: { message, type: 'OAuthException', code, ...(subcode === undefined ? {} : { error_subcode: subcode }), fbtrace_id: 'x' } });

describe('the authorization request', () => {
  it('sends client_id, the exact redirect URI, state, response_type=code and config_id, and no scope or secret', () => {
    const url = new URL(metaOAuth.authorizeUrl({ state: 's1', redirectUri: 'https://c.example/oauth/meta/callback', settings: {} }, {
      ...ctx, urls: { authorize: 'https://www.facebook.com' },
    }));
    expect(`${url.origin}${url.pathname}`).toBe('https://www.facebook.com/v26.0/dialog/oauth');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: APP.id, redirect_uri: 'https://c.example/oauth/meta/callback', state: 's1', response_type: 'code', config_id: BISU,
    });
  });

  it('says which variable to set when the configuration id is missing', () => {
    expect(() => metaOAuth.authorizeUrl({ state: 's', redirectUri: REDIRECT, settings: {} }, { ...ctx, app: { clientId: APP.id, clientSecret: APP.secret } }))
      .toThrow(/PRUUV_META_APP_CONFIG_ID/);
  });

  it("reads a code, Meta's user_denied, and a callback with neither", () => {
    expect(metaOAuth.readCallback(new URLSearchParams('code=AQxyz&state=s'))).toEqual({ kind: 'code', code: 'AQxyz' });
    expect(metaOAuth.readCallback(new URLSearchParams('error_reason=user_denied&error=access_denied&error_description=Permissions+error.&state=s')))
      .toEqual({ kind: 'denied', error: 'access_denied', description: 'Permissions error.' });
    expect(metaOAuth.readCallback(new URLSearchParams('state=s'))).toEqual({ kind: 'denied', error: 'no_code' });
  });
});

describe('reading Graph errors', () => {
  const cases: Array<{ name: string; res: HttpResponse; exchange?: boolean; kind: OAuthFlowError['kind']; platformError: string }> = [
    { name: 'a reused code (36009)', res: graphError(100, 36009), kind: 'invalid_grant', platformError: '100/36009' },
    { name: 'an expired code (36007)', res: graphError(100, 36007), kind: 'invalid_grant', platformError: '100/36007' },
    { name: 'a redirect mismatch (36008)', res: graphError(100, 36008), kind: 'redirect_uri_mismatch', platformError: '100/36008' },
    { name: 'a malformed code', res: graphError(100), exchange: true, kind: 'invalid_grant', platformError: '100' },
    { name: 'a wrong secret (1)', res: graphError(1), kind: 'invalid_client', platformError: '1' },
    { name: 'a wrong app id (101)', res: graphError(101), kind: 'invalid_client', platformError: '101' },
    { name: 'a password change (190/460)', res: graphError(190, 460), kind: 'token_revoked', platformError: '190/460' },
    { name: 'an invalid session (102)', res: graphError(102), kind: 'token_revoked', platformError: '102' },
    { name: 'a permissions error (200)', res: graphError(200), kind: 'scope_missing', platformError: '200' },
    { name: 'a missing permission (10)', res: graphError(10), kind: 'scope_missing', platformError: '10' },
    { name: 'an unknown object (100/33)', res: graphError(100, 33), kind: 'refused', platformError: '100/33' },
    { name: 'a body of another shape', res: res(400, '<html>'), kind: 'refused', platformError: 'http_400' },
  ];
  for (const { name, res: r, exchange, kind, platformError } of cases) {
    it(`reads ${name} as ${kind}`, () => {
      expect(metaGraphFailure(r, 'x', exchange)).toMatchObject({ kind, platformError });
    });
  }

  it("keeps Meta's own message", () => {
    expect(metaGraphFailure(graphError(190, 460, 'Error validating access token: The session has been invalidated'), 'sending').message)
      .toContain('Error validating access token: The session has been invalidated');
  });
});

describe('pure helpers', () => {
  it('computes appsecret_proof as hex HMAC-SHA256 of the token keyed with the secret', () => {
    // echo -n token | openssl dgst -sha256 -hmac secret
    expect(appsecretProof('token', 'secret')).toBe('e941110e3d2bfe82621f0e3e1434730d7305d106c5f68c87165d0b27a4611a4a');
  });

  it('merges owned and shared pixels by id, owned first', () => {
    const merged = mergePixels([{ id: '1', via: 'owned', unavailable: false }], [{ id: '1', via: 'shared', unavailable: false }, { id: '2', via: 'shared', unavailable: false }]);
    expect(merged.map((p) => `${p.id}:${p.via}`)).toEqual(['1:owned', '2:shared']);
  });
});

describe('the flow against the fake, with a system-user configuration', () => {
  it('gets a never-expiring token, then lists the business datasets and fills pixel_id and access_token', async () => {
    const tokens = await connect();
    expect(tokens.expiresAt).toBeUndefined();
    expect(tokens.scopes).toEqual(['ads_read', 'business_management']);
    expect(metaOAuth.health({ grantedAt: clock.now() }, ctx.app)).toEqual({});
    const step = await metaOAuth.discover(tokens, [], ctx);
    if (step.kind !== 'choose') throw new Error('expected a step');
    expect(step.step.key).toBe('pixel');
    expect(step.step.choices.map((c) => c.id)).toEqual(['1234567890123456', '1234567890123457', '1234567890123458']);
    expect(step.step.choices[2]?.detail).toContain('shared by a client business');
    const done = await metaOAuth.discover(tokens, ['1234567890123456'], ctx);
    expect(done).toEqual({ kind: 'done', settings: { pixel_id: '1234567890123456' }, summary: 'Client Shop web (1234567890123456) · business 200000000000001' });
    expect(metaOAuth.credentials(tokens, ctx.app)).toEqual({ access_token: tokens.accessToken });
    // Discovery sends appsecret_proof, and never follows a next URL elsewhere than the configured base.
    const reads = fakes.requests('meta').filter((r) => r.path.endsWith('_pixels'));
    expect(reads.every((r) => r.query['appsecret_proof'] === appsecretProof(tokens.accessToken, APP.secret))).toBe(true);
  });

  it('refuses a pick that is not in the list', async () => {
    const tokens = await connect();
    await expect(metaOAuth.discover(tokens, ['999'], ctx)).rejects.toMatchObject({ kind: 'refused' });
  });

  it('says nothing_found for a business with no dataset', async () => {
    const own = await startFakePlatforms({
      metaOAuth: { ...FAKE_DEFAULTS.metaOAuth, app: { ...APP, redirectUris: [REDIRECT] }, businesses: [{ id: '200000000000001', name: 'Empty', ownedPixels: [], clientPixels: [], adAccounts: [] }] },
    });
    try {
      const c: OAuthCallContext = { ...ctx, urls: { authorize: own.urls.metaOAuth, meta: own.urls.meta } };
      const tokens = await connect(c);
      await expect(metaOAuth.discover(tokens, [], c)).rejects.toMatchObject({ kind: 'nothing_found', message: expect.stringMatching(/reaches no dataset/) });
    } finally {
      await own.close();
    }
  });

  it('walks pages until next is absent, an empty last page included', async () => {
    const own = await startFakePlatforms({ metaOAuth: { ...FAKE_DEFAULTS.metaOAuth, app: { ...APP, redirectUris: [REDIRECT] }, maxPageSize: 1, trailingEmptyPage: true } });
    try {
      const c: OAuthCallContext = { ...ctx, urls: { authorize: own.urls.metaOAuth, meta: own.urls.meta } };
      const step = await metaOAuth.discover(await connect(c), [], c);
      if (step.kind !== 'choose') throw new Error('expected a step');
      expect(step.step.choices.map((x) => x.id)).toEqual(['1234567890123456', '1234567890123457', '1234567890123458']);
      // owned: 2 pages of 1 and the empty one; client: 1 page and the empty one.
      expect(own.requests('meta').filter((r) => r.path.endsWith('_pixels'))).toHaveLength(5);
    } finally {
      await own.close();
    }
  });
});

describe('the flow against the fake, with a user configuration', () => {
  const userCtx = context(USER);

  it('exchanges the short-lived token for a long-lived one and asks the user to reconnect before it ends', async () => {
    const tokens = await connect(userCtx);
    expect(tokens.expiresAt?.getTime()).toBe(clock.now().getTime() + 5_183_944_000);
    expect(fakes.requests('meta').filter((r) => r.query['grant_type'] === 'fb_exchange_token')).toHaveLength(1);
    const health = metaOAuth.health({ grantedAt: clock.now(), expiresAt: tokens.expiresAt as Date }, userCtx.app);
    expect(health).toEqual({ userActionBy: tokens.expiresAt });
  });

  it('offers businesses and ad accounts, then the datasets of the one picked', async () => {
    const tokens = await connect(userCtx);
    const first = await metaOAuth.discover(tokens, [], userCtx);
    if (first.kind !== 'choose') throw new Error('expected a step');
    expect(first.step.choices.map((c) => c.id)).toEqual(['business:200000000000001', 'business:200000000000002', 'act:300000000000001']);
    const second = await metaOAuth.discover(tokens, ['act:300000000000001'], userCtx);
    if (second.kind !== 'choose') throw new Error('expected a step');
    expect(second.step.choices.map((c) => c.id)).toEqual(['1234567890123456']);
    const other = await metaOAuth.discover(tokens, ['business:200000000000002'], userCtx);
    if (other.kind !== 'choose') throw new Error('expected a step');
    expect(other.step.choices.map((c) => c.id)).toEqual(['2234567890123456']);
    expect(await metaOAuth.discover(tokens, ['business:200000000000002', '2234567890123456'], userCtx)).toMatchObject({ kind: 'done', settings: { pixel_id: '2234567890123456' } });
  });
});

describe('failures against the fake', () => {
  it('reads a reused code as invalid_grant (subcode 36009)', async () => {
    const code = await consent();
    await metaOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, ctx);
    await expect(metaOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, ctx)).rejects.toMatchObject({ kind: 'invalid_grant', platformError: '100/36009' });
  });

  it('reads a different redirect URI as redirect_uri_mismatch (36008)', async () => {
    const code = await consent();
    await expect(metaOAuth.exchangeCode({ code, redirectUri: `${REDIRECT}/`, settings: {} }, ctx)).rejects.toMatchObject({ kind: 'redirect_uri_mismatch' });
  });

  it('reads a wrong app secret as invalid_client', async () => {
    const code = await consent();
    const wrong = { ...ctx, app: { ...ctx.app, clientSecret: 'wrong' } };
    await expect(metaOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, wrong)).rejects.toMatchObject({ kind: 'invalid_client', platformError: '1' });
  });

  it('reads a partial grant as scope_missing', async () => {
    fakes.script('metaDialog', [{ kind: 'consent', decision: 'approve', grant: ['ads_read'] }]);
    await expect(connect()).rejects.toMatchObject({ kind: 'scope_missing', message: expect.stringContaining('business_management') });
  });

  it('reads a denial at the dialog', async () => {
    fakes.script('metaDialog', [{ kind: 'consent', decision: 'deny' }]);
    const r = await fetch(metaOAuth.authorizeUrl({ state: 'st', redirectUri: REDIRECT, settings: {} }, ctx), { redirect: 'manual' });
    expect(metaOAuth.readCallback(new URL(r.headers.get('location') ?? '').searchParams)).toMatchObject({ kind: 'denied', error: 'access_denied' });
  });

  it('reports a 5xx and a timeout of the token endpoint as unavailable, and the code still works after', async () => {
    const code = await consent();
    fakes.script('meta', [{ kind: 'status', status: 503, body: { error: { message: 'Service unavailable', code: 2 } } }]);
    await expect(metaOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, ctx)).rejects.toMatchObject({ kind: 'unavailable' });
    fakes.script('meta', [{ kind: 'hang' }]);
    await expect(metaOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, { ...ctx, timeoutMs: 200 })).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(metaOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, ctx)).resolves.toMatchObject({ accessToken: expect.any(String) });
  });

  it("reads a killed token during discovery as token_revoked with Meta's message", async () => {
    const tokens = await connect();
    fakes.oauth.killMetaTokens(460);
    const error = await metaOAuth.discover(tokens, [], ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthFlowError);
    expect(error).toMatchObject({ kind: 'token_revoked', platformError: '190/460', message: expect.stringContaining('changed their password') });
  });

  it('never puts the code, the token or the secret in an error message', async () => {
    const code = await consent();
    await metaOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, ctx);
    const error = (await metaOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, ctx).catch((e: unknown) => e)) as Error;
    fakes.script('meta', [{ kind: 'hang' }]);
    const timeout = (await metaOAuth.exchangeCode({ code, redirectUri: REDIRECT, settings: {} }, { ...ctx, timeoutMs: 100 }).catch((e: unknown) => e)) as Error;
    for (const e of [error, timeout]) {
      expect(e.message).not.toContain(code);
      expect(e.message).not.toContain(APP.secret);
    }
  });
});
