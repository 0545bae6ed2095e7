/**
 * Fake Google OAuth token endpoint (refresh-token grant, platforms.md §3.7; the
 * authorization-code grant is the authorization server's, `google-consent.ts`)
 * and the store of access tokens it issued, which the Ads and Data Manager fakes accept.
 */
import { googleAccessToken } from './ids.js';
import { header, type FakeAnswer, type FakeHttpRequest } from './request.js';

/** OAuth scopes of the two Google upload paths (platforms.md §3.1, google-data-manager.md §2). */
export const GOOGLE_SCOPES = {
  ads: 'https://www.googleapis.com/auth/adwords',
  dataManager: 'https://www.googleapis.com/auth/datamanager',
} as const;

/** Lifetime of an issued access token, as Google usually answers (platforms.md §3.7). */
export const ACCESS_TOKEN_TTL_SECONDS = 3599;

/** An access token the fake issued. */
export interface IssuedToken {
  clientId: string;
  scopes: ReadonlySet<string>;
  expiresAtMs: number;
  /** The refresh token it came from (revoking either kills both). */
  grant?: string;
  /** The Ads accounts the consenting user reaches directly; `undefined` for the seeded refresh tokens (the default roots). */
  accessible?: readonly string[];
}

/** Why a bearer token was refused. */
export type BearerRefusal = 'missing' | 'unknown' | 'expired';

/** Access tokens issued by the fake token endpoint, checked against the injected clock. */
export class TokenStore {
  readonly #tokens = new Map<string, IssuedToken>();

  issue(clientId: string, scopes: readonly string[], nowMs: number, grant?: { refreshToken: string; accessible: readonly string[] }): string {
    const token = googleAccessToken();
    const issued: IssuedToken = { clientId, scopes: new Set(scopes), expiresAtMs: nowMs + ACCESS_TOKEN_TTL_SECONDS * 1000 };
    if (grant !== undefined) {
      issued.grant = grant.refreshToken;
      issued.accessible = grant.accessible;
    }
    this.#tokens.set(token, issued);
    return token;
  }

  /** The token, when the fake issued it (expired or not). */
  get(token: string): IssuedToken | undefined {
    return this.#tokens.get(token);
  }

  /** Forget every access token of a grant. */
  revokeGrant(refreshToken: string): void {
    for (const [token, issued] of this.#tokens) if (issued.grant === refreshToken) this.#tokens.delete(token);
  }

  /** Forget one access token. */
  revoke(token: string): void {
    this.#tokens.delete(token);
  }

  /** Make every issued access token expired at `nowMs` (a test's "an hour later"). */
  expireAll(nowMs: number): void {
    for (const issued of this.#tokens.values()) issued.expiresAtMs = Math.min(issued.expiresAtMs, nowMs);
  }

  /** Check an `Authorization` header value. */
  check(authorization: string | undefined, nowMs: number): { ok: true; token: IssuedToken } | { ok: false; refusal: BearerRefusal } {
    const match = authorization === undefined ? null : /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (match === null) return { ok: false, refusal: 'missing' };
    const token = this.#tokens.get(match[1] ?? '');
    if (token === undefined) return { ok: false, refusal: 'unknown' };
    if (nowMs >= token.expiresAtMs) return { ok: false, refusal: 'expired' };
    return { ok: true, token };
  }
}

/** What the token endpoint needs besides the request. */
export interface OAuthContext {
  clientId: string;
  clientSecret: string;
  /** The seeded refresh tokens (tests that paste tokens). */
  refreshTokens: ReadonlySet<string>;
  scopes: readonly string[];
  tokens: TokenStore;
  now: () => Date;
  /** The authorization server: codes and the refresh tokens it issued (`google-consent.ts`). */
  authServer: { exchange(fields: Record<string, string>): FakeAnswer; grant(refreshToken: string): { clientId: string; scopes: readonly string[]; accessible: readonly string[] } | undefined };
}

function oauthError(status: number, error: string, description: string): FakeAnswer {
  return { status, body: { error, error_description: description } };
}

/** Answer one request to the token endpoint (platforms.md §8, token endpoint fake). */
export function handleOAuth(req: FakeHttpRequest, ctx: OAuthContext): FakeAnswer {
  if (req.method !== 'POST' || req.path !== '') return oauthError(404, 'invalid_request', `Unsupported ${req.method} ${req.path || '/'}: POST the token endpoint itself.`);
  if (req.body.kind !== 'form') {
    return oauthError(400, 'invalid_request', `Send the token request as application/x-www-form-urlencoded (got ${req.contentType || 'no content type'}).`);
  }
  const fields = req.body.fields;
  const grant = fields['grant_type'] ?? '';
  if (grant === 'authorization_code') return ctx.authServer.exchange(fields);
  if (grant !== 'refresh_token') return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grant}`);
  const clientId = fields['client_id'];
  if (clientId === undefined || clientId === '') return oauthError(400, 'invalid_request', 'Could not determine client ID from request.');
  if (clientId !== ctx.clientId) return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
  if (fields['client_secret'] !== ctx.clientSecret) return oauthError(401, 'invalid_client', 'Unauthorized');
  const refresh = fields['refresh_token'];
  if (refresh === undefined || refresh === '') return oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
  const issued = ctx.authServer.grant(refresh);
  if (issued !== undefined && issued.clientId === clientId) {
    // A refresh token from a consent: its access tokens carry the grant's scopes and accounts.
    const accessToken = ctx.tokens.issue(clientId, issued.scopes, ctx.now().getTime(), { refreshToken: refresh, accessible: issued.accessible });
    return { status: 200, body: { access_token: accessToken, expires_in: ACCESS_TOKEN_TTL_SECONDS, scope: issued.scopes.join(' '), token_type: 'Bearer' } };
  }
  if (!ctx.refreshTokens.has(refresh)) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
  const accessToken = ctx.tokens.issue(clientId, ctx.scopes, ctx.now().getTime());
  return {
    status: 200,
    body: { access_token: accessToken, expires_in: ACCESS_TOKEN_TTL_SECONDS, scope: ctx.scopes.join(' '), token_type: 'Bearer' },
  };
}

/** The bearer header of a request. */
export function authorization(req: FakeHttpRequest): string | undefined {
  return header(req.headers, 'authorization');
}
