/**
 * Fake Google OAuth token endpoint (refresh-token grant only, platforms.md §3.7)
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
}

/** Why a bearer token was refused. */
export type BearerRefusal = 'missing' | 'unknown' | 'expired';

/** Access tokens issued by the fake token endpoint, checked against the injected clock. */
export class TokenStore {
  readonly #tokens = new Map<string, IssuedToken>();

  issue(clientId: string, scopes: readonly string[], nowMs: number): string {
    const token = googleAccessToken();
    this.#tokens.set(token, { clientId, scopes: new Set(scopes), expiresAtMs: nowMs + ACCESS_TOKEN_TTL_SECONDS * 1000 });
    return token;
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
  refreshTokens: ReadonlySet<string>;
  scopes: readonly string[];
  tokens: TokenStore;
  now: () => Date;
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
  if (grant !== 'refresh_token') return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grant}`);
  const clientId = fields['client_id'];
  if (clientId === undefined || clientId === '') return oauthError(400, 'invalid_request', 'Could not determine client ID from request.');
  if (clientId !== ctx.clientId) return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
  if (fields['client_secret'] !== ctx.clientSecret) return oauthError(401, 'invalid_client', 'Unauthorized');
  const refresh = fields['refresh_token'];
  if (refresh === undefined || refresh === '') return oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
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
