import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OAUTH_PROVIDERS, oauthProvider, PLATFORMS } from '../../src/platforms/index.js';
import { googleOAuth, GOOGLE_OAUTH_SCOPES, GOOGLE_TESTING_GRANT_MS } from '../../src/platforms/google/oauth.js';
import { newOAuthState, pkceChallenge, pkcePair, type OAuthCallContext } from '../../src/platforms/oauth-provider.js';

const ctx: OAuthCallContext = {
  app: { clientId: 'client-1.apps.googleusercontent.com', clientSecret: 'secret-1' },
  urls: { authorize: 'http://127.0.0.1:9/o/oauth2/v2/auth' },
  versions: {},
  fetch: () => Promise.reject(new Error('no network in this test')),
  now: () => new Date('2026-12-01T00:00:00Z'),
  timeoutMs: 1000,
};

describe('the provider seam', () => {
  it('lists a provider for each adapter that has one, by platform id', () => {
    expect(OAUTH_PROVIDERS.map((p) => p.platform)).toEqual(PLATFORMS.filter((p) => p.oauth !== undefined).map((p) => p.id));
    expect(oauthProvider('google')).toBe(googleOAuth);
    expect(oauthProvider('nope')).toBeUndefined();
    for (const p of OAUTH_PROVIDERS) {
      const adapter = PLATFORMS.find((a) => a.id === p.platform);
      const fields = new Set(adapter?.connection.fields.map((f) => f.name));
      // Every field a provider fills is a field of its platform's connection.
      expect(p.fills.filter((f) => !fields.has(f))).toEqual([]);
    }
  });

  it('makes a 32-byte base64url state and an S256 PKCE pair', () => {
    const state = newOAuthState();
    expect(Buffer.from(state, 'base64url')).toHaveLength(32);
    expect(newOAuthState()).not.toBe(state);
    const { verifier, challenge } = pkcePair();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challenge).toBe(createHash('sha256').update(verifier).digest('base64url'));
    // RFC 7636 appendix B.
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });
});

describe('Google authorization request', () => {
  it('asks for offline access with consent, PKCE S256 and both scopes on the Data Manager path', () => {
    const url = new URL(googleOAuth.authorizeUrl({ state: 's1', redirectUri: 'https://c.example/oauth/google/callback', codeChallenge: 'ch', settings: {} }, ctx));
    expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:9/o/oauth2/v2/auth');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'client-1.apps.googleusercontent.com',
      redirect_uri: 'https://c.example/oauth/google/callback',
      response_type: 'code',
      scope: `${GOOGLE_OAUTH_SCOPES.ads} ${GOOGLE_OAUTH_SCOPES.dataManager}`,
      access_type: 'offline',
      prompt: 'consent select_account',
      state: 's1',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
    });
    expect(url.searchParams.has('client_secret')).toBe(false);
  });

  it('asks only for adwords on the Ads API path', () => {
    const url = new URL(googleOAuth.authorizeUrl({ state: 's', redirectUri: 'https://c.example/cb', settings: { api: 'ads' } }, ctx));
    expect(url.searchParams.get('scope')).toBe(GOOGLE_OAUTH_SCOPES.ads);
    expect(url.searchParams.has('code_challenge_method')).toBe(false);
  });

  it('reads a code, a denial, and a callback with neither', () => {
    expect(googleOAuth.readCallback(new URLSearchParams('state=s&code=4/0Fabc&scope=x'))).toEqual({ kind: 'code', code: '4/0Fabc' });
    expect(googleOAuth.readCallback(new URLSearchParams('error=access_denied&state=s'))).toEqual({ kind: 'denied', error: 'access_denied' });
    expect(googleOAuth.readCallback(new URLSearchParams('state=s'))).toEqual({ kind: 'denied', error: 'no_code' });
  });
});

describe('Google token health', () => {
  const grantedAt = new Date('2026-12-01T00:00:00Z');
  it('needs the user 7 days after consent when the app is in Testing status', () => {
    const health = googleOAuth.health({ grantedAt }, { ...ctx.app, extra: { PRUUV_GOOGLE_OAUTH_PUBLISHING_STATUS: 'testing' } });
    expect(health.userActionBy?.getTime()).toBe(grantedAt.getTime() + GOOGLE_TESTING_GRANT_MS);
  });
  it('does not expire on its own for a published app, unless Google gave the grant an end', () => {
    expect(googleOAuth.health({ grantedAt }, ctx.app).userActionBy).toBeUndefined();
    const end = new Date('2027-01-01T00:00:00Z');
    expect(googleOAuth.health({ grantedAt, refreshTokenExpiresAt: end }, ctx.app).userActionBy).toEqual(end);
  });
});
