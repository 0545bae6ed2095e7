/** Google's OAuth provider against the strict fake: consent, exchange, discovery walk, refresh, revoke. */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS, startFakePlatforms } from '@pruuv/fakes';
import { googleOAuth } from '../../src/platforms/google/oauth.js';
import { OAuthFlowError, pkcePair, type OAuthCallContext, type OAuthTokenSet } from '../../src/platforms/oauth-provider.js';

const fakes = await startFakePlatforms();
afterAll(() => fakes.close());
const REDIRECT = 'http://127.0.0.1:1/oauth/google/callback';
fakes.googleOAuth.registerRedirectUri(REDIRECT);

const ctx: OAuthCallContext = {
  app: { clientId: FAKE_DEFAULTS.google.clientId, clientSecret: FAKE_DEFAULTS.google.clientSecret },
  urls: { authorize: fakes.urls.googleAuthorize, token: fakes.urls.oauthToken, revoke: fakes.urls.googleRevoke, googleAds: fakes.urls.googleAds },
  versions: { googleAds: 'v26' },
  fetch: (input, init) => fetch(input, init),
  now: () => new Date(),
  timeoutMs: 2000,
};

/** Consent on the fake, as the browser would: the authorize URL's redirect carries the code. */
async function consent(settings: Record<string, unknown> = {}): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkcePair();
  const r = await fetch(googleOAuth.authorizeUrl({ state: 's', redirectUri: REDIRECT, codeChallenge: challenge, settings }, ctx), { redirect: 'manual' });
  const back = googleOAuth.readCallback(new URL(r.headers.get('location') ?? 'http://x/').searchParams);
  if (back.kind !== 'code') throw new Error(`no code: ${back.error}`);
  return { code: back.code, verifier };
}

async function connect(settings: Record<string, unknown> = {}): Promise<OAuthTokenSet> {
  const { code, verifier } = await consent(settings);
  return googleOAuth.exchangeCode({ code, codeVerifier: verifier, redirectUri: REDIRECT, settings }, ctx);
}

beforeEach(() => {
  fakes.googleOAuth.consent('approve');
  fakes.googleOAuth.grantAccess(['1110000001', '4440000004', '5550000005']);
});

describe('googleOAuth against the fake', () => {
  it('exchanges the code for a refresh token and walks managers to clients, then conversion actions', async () => {
    const tokens = await connect();
    expect(tokens.refreshToken).toEqual(expect.any(String));
    expect(tokens.expiresAt?.getTime()).toBeGreaterThan(Date.now());
    const first = await googleOAuth.discover(tokens, [], ctx);
    if (first.kind !== 'choose') throw new Error('expected a step');
    // Client A under Agency MCC › Agency EU clients, Client B once (two managers), the test account directly.
    expect(first.step.choices.map((c) => c.id)).toEqual(['3330000003:1110000001', '1234567890:1110000001', '5550000005:']);
    expect(first.step.choices.find((c) => c.id.startsWith('1234567890'))?.detail).toContain('Agency MCC › Agency EU clients');
    const second = await googleOAuth.discover(tokens, ['1234567890:1110000001'], ctx);
    if (second.kind !== 'choose') throw new Error('expected a step');
    expect(second.step.choices.map((c) => c.id)).toEqual(['987654321', '987654322']);
    const done = await googleOAuth.discover(tokens, ['1234567890:1110000001', '987654322'], ctx);
    expect(done).toMatchObject({ kind: 'done', settings: { customer_id: '1234567890', login_customer_id: '1110000001', conversion_action_id: '987654322' } });
    expect(googleOAuth.credentials(tokens, ctx.app)).toEqual({ client_id: ctx.app.clientId, client_secret: ctx.app.clientSecret, refresh_token: tokens.refreshToken });
  });

  it('refuses a used code, a denial is read as such, and a partial grant is scope_missing', async () => {
    const { code, verifier } = await consent();
    await googleOAuth.exchangeCode({ code, codeVerifier: verifier, redirectUri: REDIRECT, settings: {} }, ctx);
    await expect(googleOAuth.exchangeCode({ code, codeVerifier: verifier, redirectUri: REDIRECT, settings: {} }, ctx)).rejects.toMatchObject({ kind: 'invalid_grant' });
    fakes.googleOAuth.consent('partial');
    await expect(connect()).rejects.toMatchObject({ kind: 'scope_missing' });
    // The Ads API path needs adwords only.
    await expect(connect({ api: 'ads' })).resolves.toMatchObject({ scopes: ['https://www.googleapis.com/auth/adwords'] });
  });

  it('says nothing_found for a user with no Ads account', async () => {
    fakes.googleOAuth.grantAccess([]);
    const tokens = await connect();
    await expect(googleOAuth.discover(tokens, [], ctx)).rejects.toMatchObject({ kind: 'nothing_found' });
  });

  it('refreshes, then revoke makes the refresh token_revoked', async () => {
    const tokens = await connect();
    const refreshed = await googleOAuth.refresh?.(tokens.refreshToken ?? '', ctx);
    expect(refreshed?.accessToken).not.toBe(tokens.accessToken);
    await googleOAuth.revoke?.(tokens.refreshToken ?? '', ctx);
    const error = await googleOAuth.refresh?.(tokens.refreshToken ?? '', ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthFlowError);
    expect(error).toMatchObject({ kind: 'token_revoked', platformError: 'invalid_grant' });
    // Revoking again is not an error: nothing is left to revoke.
    await expect(googleOAuth.revoke?.(tokens.refreshToken ?? '', ctx)).resolves.toBeUndefined();
  });

  it('reports a 5xx and a timeout of the token endpoint as unavailable', async () => {
    const { code, verifier } = await consent();
    fakes.script('oauth', [{ kind: 'status', status: 503, body: { error: 'backend_error' } }]);
    await expect(googleOAuth.exchangeCode({ code, codeVerifier: verifier, redirectUri: REDIRECT, settings: {} }, ctx)).rejects.toMatchObject({ kind: 'unavailable' });
    fakes.script('oauth', [{ kind: 'hang' }]);
    await expect(googleOAuth.exchangeCode({ code, codeVerifier: verifier, redirectUri: REDIRECT, settings: {} }, { ...ctx, timeoutMs: 200 })).rejects.toMatchObject({ kind: 'unavailable' });
  });
});
