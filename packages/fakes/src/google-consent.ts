/**
 * Fake Google authorization server (oauth.md §2.1–2.2, §5.1): the consent
 * endpoint, the authorization-code grant of the token endpoint, revocation and
 * tokeninfo. Strict: unknown clients and unregistered redirect URIs get
 * Google's error page and no redirect; codes are random, single use, short
 * lived and bound to the client, redirect URI, scopes and PKCE challenge.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GOOGLE_SCOPES, ACCESS_TOKEN_TTL_SECONDS, type TokenStore } from './google-oauth.js';
import type { FakeAnswer, FakeHttpRequest } from './request.js';

/** What the fake user does on the consent screen. */
export type GoogleConsentMode =
  /** Redirect back with a code at once, no page. */
  | 'approve'
  /** Redirect back with `error=access_denied` at once. */
  | 'deny'
  /** Approve, granting only the `adwords` scope (the missing-scope case). */
  | 'partial'
  /** Show a consent page with Allow and Deny buttons (the browser tests click them). */
  | 'page';

/** A code the fake issued. */
interface IssuedCode {
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  challenge?: string;
  method: 'S256' | 'plain';
  offline: boolean;
  consentPrompt: boolean;
  accessible: readonly string[];
  expiresAtMs: number;
  used: boolean;
}

/** A refresh token the fake issued. */
interface Grant {
  clientId: string;
  scopes: readonly string[];
  accessible: readonly string[];
}

/** What the consent fake is made with. */
export interface AuthServerInit {
  clientId: string;
  clientSecret: string;
  tokens: TokenStore;
  now: () => Date;
  /** How long a code lives. */
  codeTtlMs: number;
  /** The Ads accounts a consenting user reaches directly, unless a test says otherwise. */
  accessible: readonly string[];
}

const KNOWN_SCOPES = new Set<string>([...Object.values(GOOGLE_SCOPES), 'openid', 'email', 'profile']);
/** The one fake user who consents. */
const USER = 'agency-user@example.test';

function errorPage(title: string, detail: string): FakeAnswer {
  const html = `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>${detail}</p></body></html>`;
  return { status: 400, body: html, headers: { 'content-type': 'text/html; charset=utf-8' } };
}

function redirect(uri: string, params: Record<string, string>): FakeAnswer {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { status: 302, body: undefined, headers: { location: url.href } };
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function tokenError(status: number, error: string, description: string): FakeAnswer {
  return { status, body: { error, error_description: description } };
}

/** The authorization server's state and its routes. */
export class GoogleAuthServer {
  readonly redirectUris = new Set<string>();
  mode: GoogleConsentMode = 'approve';
  accessible: readonly string[];
  readonly #init: AuthServerInit;
  readonly #codes = new Map<string, IssuedCode>();
  readonly #grants = new Map<string, Grant>();
  readonly #consented = new Set<string>();
  readonly #pending = new Map<string, { query: URLSearchParams; scopes: readonly string[] }>();

  constructor(init: AuthServerInit) {
    this.#init = init;
    this.accessible = init.accessible;
  }

  /** The refresh tokens issued and not revoked. */
  refreshTokens(): string[] {
    return [...this.#grants.keys()];
  }

  /** A refresh token issued and not revoked, with what it grants. */
  grant(refreshToken: string): Grant | undefined {
    return this.#grants.get(refreshToken);
  }

  /** Revoke a grant (by refresh token) or every grant: refresh gives `invalid_grant`, its access tokens die. */
  revokeGrants(refreshToken?: string): void {
    for (const token of refreshToken === undefined ? [...this.#grants.keys()] : [refreshToken]) {
      this.#grants.delete(token);
      this.#init.tokens.revokeGrant(token);
    }
  }

  /** `GET /o/oauth2/v2/auth` and the consent page's `POST /o/oauth2/v2/auth/decide`. */
  handleAuthorize(req: FakeHttpRequest): FakeAnswer {
    if (req.method === 'POST' && req.path === '/o/oauth2/v2/auth/decide') return this.#decide(req);
    if (req.method !== 'GET' || req.path !== '/o/oauth2/v2/auth') return errorPage('404. That’s an error.', `The requested URL ${escapeHtml(req.path)} was not found on this server.`);
    const q = req.query;
    if (q.has('client_secret')) return errorPage('Error 400: invalid_request', 'The client secret must never be sent to the authorization endpoint.');
    const clientId = q.get('client_id') ?? '';
    if (clientId !== this.#init.clientId) return errorPage('Error 401: invalid_client', 'The OAuth client was not found.');
    const redirectUri = q.get('redirect_uri') ?? '';
    // Exact string match: scheme, case and trailing slash all count (oauth.md §2.1). No redirect on a mismatch.
    if (!this.redirectUris.has(redirectUri)) {
      return errorPage('Error 400: redirect_uri_mismatch', `You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. redirect_uri=${escapeHtml(redirectUri)}`);
    }
    if (q.get('response_type') !== 'code') return errorPage('Error 400: invalid_request', `Invalid response_type: ${escapeHtml(q.get('response_type') ?? '')}`);
    const scopes = (q.get('scope') ?? '').split(' ').filter((s) => s !== '');
    if (scopes.length === 0) return errorPage('Error 400: invalid_request', 'Missing required parameter: scope');
    const unknown = scopes.filter((s) => !KNOWN_SCOPES.has(s));
    if (unknown.length > 0) return errorPage('Error 400: invalid_scope', `Some requested scopes were invalid: ${escapeHtml(unknown.join(' '))}`);
    if ((q.get('state') ?? '') === '') return errorPage('Error 400: invalid_request', 'This fake requires state (CSRF protection).');
    const method = q.get('code_challenge_method');
    if (method !== null && !q.has('code_challenge')) return errorPage('Error 400: invalid_request', 'code_challenge_method requires code_challenge.');
    if (method !== null && method !== 'S256' && method !== 'plain') return errorPage('Error 400: invalid_request', `Invalid code_challenge_method: ${escapeHtml(method)}`);
    if (this.mode === 'page') {
      const id = randomBytes(12).toString('base64url');
      this.#pending.set(id, { query: new URLSearchParams(q), scopes });
      return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: consentPage(id, scopes) };
    }
    return this.#answer(q, scopes, this.mode === 'deny' ? 'deny' : this.mode === 'partial' ? 'partial' : 'approve');
  }

  #decide(req: FakeHttpRequest): FakeAnswer {
    const fields = req.body.kind === 'form' ? req.body.fields : {};
    const pending = this.#pending.get(fields['consent_id'] ?? '');
    if (pending === undefined) return errorPage('Error 400: invalid_request', 'This consent screen has expired. Start again.');
    this.#pending.delete(fields['consent_id'] ?? '');
    return this.#answer(pending.query, pending.scopes, fields['decision'] === 'allow' ? 'approve' : 'deny');
  }

  #answer(q: URLSearchParams, requested: readonly string[], decision: 'approve' | 'deny' | 'partial'): FakeAnswer {
    const redirectUri = q.get('redirect_uri') ?? '';
    const state = q.get('state') ?? '';
    if (decision === 'deny') return redirect(redirectUri, { error: 'access_denied', state });
    const scopes = decision === 'partial' ? requested.filter((s) => s === GOOGLE_SCOPES.ads) : requested;
    const code = `4/0F${randomBytes(24).toString('base64url')}`;
    const issued: IssuedCode = {
      clientId: q.get('client_id') ?? '',
      redirectUri,
      scopes,
      method: q.get('code_challenge_method') === 'S256' ? 'S256' : 'plain',
      offline: q.get('access_type') === 'offline',
      consentPrompt: (q.get('prompt') ?? '').split(' ').includes('consent'),
      accessible: this.accessible,
      expiresAtMs: this.#init.now().getTime() + this.#init.codeTtlMs,
      used: false,
    };
    const challenge = q.get('code_challenge');
    if (challenge !== null) issued.challenge = challenge;
    this.#codes.set(code, issued);
    return redirect(redirectUri, { state, code, scope: scopes.join(' '), authuser: '0', prompt: 'consent' });
  }

  /** The `authorization_code` grant of `POST /token` (form fields already read). */
  exchange(fields: Record<string, string>): FakeAnswer {
    const clientId = fields['client_id'] ?? '';
    if (clientId !== this.#init.clientId) return tokenError(401, 'invalid_client', 'The OAuth client was not found.');
    if (fields['client_secret'] !== this.#init.clientSecret) return tokenError(401, 'invalid_client', 'Unauthorized');
    const code = this.#codes.get(fields['code'] ?? '');
    if (code === undefined || code.clientId !== clientId) return tokenError(400, 'invalid_grant', 'Malformed auth code.');
    const nowMs = this.#init.now().getTime();
    if (code.used || nowMs >= code.expiresAtMs) return tokenError(400, 'invalid_grant', 'Bad Request');
    if (fields['redirect_uri'] !== code.redirectUri) return tokenError(400, 'redirect_uri_mismatch', 'Bad Request');
    if (code.challenge !== undefined) {
      const verifier = fields['code_verifier'];
      if (verifier === undefined || verifier === '') return tokenError(400, 'invalid_grant', 'Missing code verifier.');
      const expected = code.method === 'S256' ? createHash('sha256').update(verifier, 'ascii').digest('base64url') : verifier;
      if (expected !== code.challenge) return tokenError(400, 'invalid_grant', 'Invalid code verifier.');
    }
    code.used = true;
    const first = !this.#consented.has(`${USER}\u0000${clientId}`);
    this.#consented.add(`${USER}\u0000${clientId}`);
    const body: Record<string, unknown> = { expires_in: ACCESS_TOKEN_TTL_SECONDS, scope: code.scopes.join(' '), token_type: 'Bearer' };
    // A refresh token only for offline access, and only the first time unless prompt=consent (oauth.md §2.1).
    if (code.offline && (first || code.consentPrompt)) {
      const refreshToken = `1//0fake-${randomBytes(32).toString('base64url')}`;
      this.#grants.set(refreshToken, { clientId, scopes: code.scopes, accessible: code.accessible });
      body['refresh_token'] = refreshToken;
      body['access_token'] = this.#init.tokens.issue(clientId, code.scopes, nowMs, { refreshToken, accessible: code.accessible });
    } else {
      body['access_token'] = this.#init.tokens.issue(clientId, code.scopes, nowMs);
    }
    return { status: 200, body };
  }

  /** `POST /revoke?token=…`: an access or a refresh token; both die with their grant. */
  handleRevoke(req: FakeHttpRequest): FakeAnswer {
    if (req.method !== 'POST') return tokenError(405, 'invalid_request', 'Use POST.');
    const token = req.query.get('token') ?? (req.body.kind === 'form' ? req.body.fields['token'] : undefined) ?? '';
    if (this.#grants.has(token)) {
      this.revokeGrants(token);
      return { status: 200, body: {} };
    }
    const issued = this.#init.tokens.get(token);
    if (issued === undefined) return { status: 400, body: { error: 'invalid_token', error_description: 'Token expired or revoked' } };
    if (issued.grant !== undefined) this.revokeGrants(issued.grant);
    else this.#init.tokens.revoke(token);
    return { status: 200, body: {} };
  }

  /** `GET /tokeninfo?access_token=…`. */
  handleTokenInfo(req: FakeHttpRequest): FakeAnswer {
    const issued = this.#init.tokens.get(req.query.get('access_token') ?? '');
    const nowMs = this.#init.now().getTime();
    if (issued === undefined || nowMs >= issued.expiresAtMs) return { status: 400, body: { error: 'invalid_token', error_description: 'Invalid Value' } };
    const expiresIn = Math.floor((issued.expiresAtMs - nowMs) / 1000);
    return {
      status: 200,
      body: { aud: issued.clientId, azp: issued.clientId, scope: [...issued.scopes].join(' '), expires_in: String(expiresIn), exp: String(Math.floor(issued.expiresAtMs / 1000)), access_type: issued.grant === undefined ? 'online' : 'offline' },
    };
  }
}

function consentPage(id: string, scopes: readonly string[]): string {
  const items = scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Sign in - Google Accounts (fake)</title></head><body>
<h1>Pruuv wants access to your Google Account</h1><p>${escapeHtml(USER)}</p><ul>${items}</ul>
<form method="post" action="auth/decide"><input type="hidden" name="consent_id" value="${id}">
<button type="submit" name="decision" value="deny">Cancel</button>
<button type="submit" name="decision" value="allow">Allow</button></form></body></html>`;
}
