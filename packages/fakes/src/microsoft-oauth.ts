/**
 * Fake Microsoft identity platform v2.0 (microsoft-ads.md §7.1, checks §10):
 * `/{tenant}/oauth2/v2.0/authorize` (a consent page, then a redirect with
 * `code` and `state`, or `error=access_denied`) and `/{tenant}/oauth2/v2.0/token`
 * (authorization code with PKCE, refresh token). Refresh tokens rotate: each
 * refresh issues a new one while the old one stays valid, as Microsoft may.
 * Errors follow RFC 6749 §5.2 with AADSTS texts.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FakeAnswer, FakeHttpRequest } from './request.js';

/** The scopes a Microsoft Advertising grant carries, per environment (microsoft-ads.md §7.1). */
export const MICROSOFT_SCOPES = {
  production: 'https://ads.microsoft.com/msads.manage',
  sandbox: 'https://si.ads.microsoft.com/msads.manage',
} as const;

/** Lifetime of an issued access token, as Microsoft answers (`expires_in: 3599`). */
export const MICROSOFT_TOKEN_TTL_SECONDS = 3599;
const CODE_TTL_MS = 5 * 60_000;

/** An access token the fake issued. */
export interface MicrosoftIssued {
  user: string;
  sandbox: boolean;
  expiresAtMs: number;
}

interface Code {
  clientId: string;
  redirectUri: string;
  scope: string;
  challenge?: string;
  method?: string;
  user: string;
  expiresAtMs: number;
}

/** Grants, codes and tokens of the fake identity platform. */
export class MicrosoftIdentity {
  readonly access = new Map<string, MicrosoftIssued>();
  /** refresh token → user and environment; revoked ones are removed. */
  readonly refresh = new Map<string, { user: string; sandbox: boolean }>();
  readonly codes = new Map<string, Code>();
  /** Refresh requests answered, for tests of "one refresh". */
  refreshes = 0;

  issueAccess(user: string, sandbox: boolean, nowMs: number): string {
    const token = `EwB-fake-${randomBytes(24).toString('base64url')}`;
    this.access.set(token, { user, sandbox, expiresAtMs: nowMs + MICROSOFT_TOKEN_TTL_SECONDS * 1000 });
    return token;
  }

  issueRefresh(user: string, sandbox: boolean): string {
    const token = `M.C-fake-${randomBytes(24).toString('base64url')}`;
    this.refresh.set(token, { user, sandbox });
    return token;
  }

  /** Expires every issued access token now (the next call gets 109). */
  expireAll(): void {
    for (const t of this.access.values()) t.expiresAtMs = 0;
  }
}

/** What the identity fake needs. */
export interface MicrosoftOAuthContext {
  clientId: string;
  clientSecret: string;
  redirectUris: ReadonlySet<string>;
  /** The user who consents on the authorize page. */
  user: string;
  identity: MicrosoftIdentity;
  now: () => Date;
}

function oauthError(status: number, error: string, description: string): FakeAnswer {
  return { status, body: { error, error_description: description, error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)] } };
}

function environmentOf(scope: string): boolean | undefined {
  const parts = scope.split(/\s+/);
  if (parts.includes(MICROSOFT_SCOPES.production)) return false;
  if (parts.includes(MICROSOFT_SCOPES.sandbox)) return true;
  return undefined;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function authorize(req: FakeHttpRequest, ctx: MicrosoftOAuthContext): FakeAnswer {
  const q = req.query;
  const clientId = q.get('client_id');
  const redirectUri = q.get('redirect_uri') ?? '';
  if (clientId !== ctx.clientId) return { status: 400, body: `AADSTS700016: Application with identifier '${clientId ?? ''}' was not found in the directory.` };
  if (!ctx.redirectUris.has(redirectUri)) {
    return { status: 400, body: `AADSTS50011: The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application.` };
  }
  const fail = (error: string, description: string): FakeAnswer => {
    const to = new URL(redirectUri);
    to.searchParams.set('error', error);
    to.searchParams.set('error_description', description);
    const state = q.get('state');
    if (state !== null) to.searchParams.set('state', state);
    return { status: 302, body: undefined, headers: { location: to.href } };
  };
  if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 'AADSTS70005: response_type must be code.');
  const scope = q.get('scope') ?? '';
  if (environmentOf(scope) === undefined) return fail('invalid_scope', 'AADSTS70011: The provided scope does not contain msads.manage.');
  const challenge = q.get('code_challenge') ?? undefined;
  const method = q.get('code_challenge_method') ?? (challenge !== undefined ? 'plain' : undefined);
  if (challenge !== undefined && method !== 'plain' && method !== 'S256') return fail('invalid_request', 'AADSTS501491: code_challenge_method must be plain or S256.');
  const consent = q.get('consent');
  if (consent === 'deny') return fail('access_denied', 'AADSTS65004: User declined to consent to access the app.');
  if (consent !== 'accept') {
    const accept = new URLSearchParams(q);
    accept.set('consent', 'accept');
    const deny = new URLSearchParams(q);
    deny.set('consent', 'deny');
    const html = `<!doctype html><html><head><title>Permissions requested</title></head><body>
<h1>Permissions requested</h1><p>The app wants to manage your Microsoft Advertising accounts (${escapeHtml(scope)}).</p>
<p><a id="accept" href="?${escapeHtml(accept.toString())}">Accept</a> <a id="deny" href="?${escapeHtml(deny.toString())}">Cancel</a></p></body></html>`;
    return { status: 200, body: html, headers: { 'content-type': 'text/html; charset=utf-8' } };
  }
  const code = `M.C-code-${randomBytes(18).toString('base64url')}`;
  ctx.identity.codes.set(code, {
    clientId: ctx.clientId, redirectUri, scope, user: ctx.user, expiresAtMs: ctx.now().getTime() + CODE_TTL_MS,
    ...(challenge !== undefined ? { challenge } : {}), ...(method !== undefined ? { method } : {}),
  });
  const to = new URL(redirectUri);
  to.searchParams.set('code', code);
  const state = q.get('state');
  if (state !== null) to.searchParams.set('state', state);
  return { status: 302, body: undefined, headers: { location: to.href } };
}

function tokenAnswer(ctx: MicrosoftOAuthContext, user: string, sandbox: boolean, offline: boolean): FakeAnswer {
  const nowMs = ctx.now().getTime();
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: sandbox ? MICROSOFT_SCOPES.sandbox : MICROSOFT_SCOPES.production,
    expires_in: MICROSOFT_TOKEN_TTL_SECONDS,
    ext_expires_in: MICROSOFT_TOKEN_TTL_SECONDS,
    access_token: ctx.identity.issueAccess(user, sandbox, nowMs),
  };
  if (offline) body['refresh_token'] = ctx.identity.issueRefresh(user, sandbox);
  return { status: 200, body };
}

function token(req: FakeHttpRequest, ctx: MicrosoftOAuthContext): FakeAnswer {
  if (req.method !== 'POST') return oauthError(405, 'invalid_request', 'AADSTS900561: The endpoint only accepts POST requests.');
  if (req.body.kind !== 'form') return oauthError(400, 'invalid_request', 'AADSTS900144: The request body must be application/x-www-form-urlencoded.');
  const f = req.body.fields;
  if (f['client_id'] !== ctx.clientId) return oauthError(400, 'unauthorized_client', `AADSTS700016: Application with identifier '${f['client_id'] ?? ''}' was not found.`);
  if (f['client_secret'] !== ctx.clientSecret) return oauthError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
  const scope = f['scope'] ?? '';
  const sandbox = environmentOf(scope);
  const offline = scope.split(/\s+/).includes('offline_access');
  const grant = f['grant_type'];
  if (grant === 'authorization_code') {
    const code = ctx.identity.codes.get(f['code'] ?? '');
    ctx.identity.codes.delete(f['code'] ?? '');
    if (code === undefined || code.expiresAtMs <= ctx.now().getTime()) {
      return oauthError(400, 'invalid_grant', 'AADSTS70008: The provided authorization code or refresh token has expired or was already used.');
    }
    // A redirect mismatch is invalid_client with AADSTS50011 (microsoft-ads.md §7.1).
    if (f['redirect_uri'] !== code.redirectUri) {
      return oauthError(400, 'invalid_client', `AADSTS50011: The redirect URI '${f['redirect_uri'] ?? ''}' specified in the request does not match the redirect URI of the authorization request.`);
    }
    if (code.challenge !== undefined) {
      const verifier = f['code_verifier'] ?? '';
      const made = code.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (made !== code.challenge) return oauthError(400, 'invalid_grant', 'AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.');
    }
    if (sandbox === undefined) return oauthError(400, 'invalid_grant', 'AADSTS70000: The request was denied because one or more scopes requested are unauthorized or expired.');
    return tokenAnswer(ctx, code.user, sandbox, offline);
  }
  if (grant === 'refresh_token') {
    const held = ctx.identity.refresh.get(f['refresh_token'] ?? '');
    if (held === undefined) {
      return oauthError(400, 'invalid_grant', 'AADSTS70000: The user could not be authenticated or the grant is expired. The user must first sign in and if needed grant the client application access to the requested scope.');
    }
    if (sandbox === undefined || sandbox !== held.sandbox) {
      return oauthError(400, 'invalid_grant', 'AADSTS70000: The request was denied because one or more scopes requested are unauthorized or expired.');
    }
    ctx.identity.refreshes += 1;
    // Rotation: a new refresh token each time; the old one stays valid.
    return tokenAnswer(ctx, held.user, sandbox, true);
  }
  return oauthError(400, 'unsupported_grant_type', `AADSTS70003: The app requested an unsupported grant type '${grant ?? ''}'.`);
}

/** Answer one request to the identity route. `path` is `/{tenant}/oauth2/v2.0/{authorize|token}`. */
export function handleMicrosoftOAuth(req: FakeHttpRequest, ctx: MicrosoftOAuthContext): FakeAnswer {
  const m = /^\/(common|organizations|consumers|[0-9a-f-]{36})\/oauth2\/v2\.0\/(authorize|token)$/.exec(req.path);
  if (m === null) return oauthError(404, 'invalid_request', `AADSTS90002: No such endpoint ${req.path}; use /common/oauth2/v2.0/authorize or /token.`);
  if (m[2] === 'authorize') return req.method === 'GET' ? authorize(req, ctx) : oauthError(405, 'invalid_request', 'authorize is GET.');
  return token(req, ctx);
}
