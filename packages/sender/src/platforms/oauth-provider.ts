/**
 * THE OAUTH PROVIDER SEAM: what a platform's "Connect" button needs from the
 * platform (oauth.md §1). One object per platform, in the platform's own folder
 * (`platforms/<name>/oauth.ts`), attached to its adapter as
 * `PlatformAdapter.oauth`. The collector runs the flow once for every platform
 * (pending authorizations, the callback, the picker, storing the tokens
 * encrypted) and knows a platform only through this interface; adding a
 * platform's OAuth is that one file and its adapter's `oauth` line.
 *
 * The flow, as the collector drives it:
 * 1. {@link OAuthProvider.authorizeUrl} with a fresh `state` (and a PKCE
 *    challenge when {@link OAuthProvider.pkce} is set): the browser goes there.
 * 2. The platform redirects back; {@link OAuthProvider.readCallback} reads the
 *    query (a code or a denial).
 * 3. {@link OAuthProvider.exchangeCode} turns the code into an {@link OAuthTokenSet}.
 * 4. {@link OAuthProvider.discover} lists what the token reaches, one step at a
 *    time (Google: account, then conversion action), until it answers `done`
 *    with the connection settings the picks fill.
 * 5. {@link OAuthProvider.credentials} gives the connection's secret fields the
 *    tokens fill; the collector stores them encrypted with the settings.
 * Later the send runtime uses {@link OAuthProvider.refresh}; disconnecting uses
 * {@link OAuthProvider.revoke}; the dashboard reads {@link OAuthProvider.health}.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SenderError } from '../errors.js';
import { sendHttp, type FetchLike, type HttpRequest, type HttpResponse } from '../http.js';

/** The self-hoster's app at the platform (Google OAuth client, Meta app, TikTok app), from the environment. */
export interface OAuthApp {
  clientId: string;
  clientSecret: string;
  /** Further app settings, by environment variable name (Meta's `PRUUV_META_APP_CONFIG_ID`): the {@link OAuthEnv.extra} and the {@link OAuthEnv.optional} ones that are set. */
  extra?: Readonly<Record<string, string>>;
}

/** The environment variables of a platform's OAuth: the app credentials and every URL. */
export interface OAuthEnv {
  /** Variable holding the client (app) id, e.g. `PRUUV_GOOGLE_OAUTH_CLIENT_ID`. */
  clientId: string;
  /** Variable holding the client (app) secret. */
  clientSecret: string;
  /** Further variables the app needs to be usable (all must be set for the Connect button to show). */
  extra?: readonly string[];
  /** Variables read when set, never required (Google's `PRUUV_GOOGLE_OAUTH_PUBLISHING_STATUS`). */
  optional?: readonly string[];
  /** Variable of each URL, by the URL's key in {@link OAuthProvider.urls}. */
  urls: Readonly<Record<string, string>>;
}

/** What every call of a provider gets: the app, the URLs, and the injected seams. */
export interface OAuthCallContext {
  app: OAuthApp;
  /** Base or full URLs, by the keys of {@link OAuthProvider.urls} (the defaults, overridden by the environment). */
  urls: Readonly<Record<string, string>>;
  /** API versions, by the adapter's version keys (`googleAds`). */
  versions: Readonly<Record<string, string>>;
  fetch: FetchLike;
  now: () => Date;
  /** Per request, in ms. */
  timeoutMs: number;
}

/** Tokens from a code exchange or a refresh. Secrets: never logged, never shown, stored encrypted. */
export interface OAuthTokenSet {
  accessToken: string;
  /** When the access token expires; `undefined` when the platform says it does not (TikTok advertiser tokens). */
  expiresAt?: Date;
  /** The refresh token, when the platform issued one (a refresh may rotate it: store the new one). */
  refreshToken?: string;
  /** When the refresh token (the grant) stops working, when known: then the user must reconnect. */
  refreshTokenExpiresAt?: Date;
  /** The scopes (permissions) granted, as the platform names them. */
  scopes: readonly string[];
}

/** What the browser is sent to. */
export interface AuthorizeInput {
  /** The opaque, single-use CSRF value bound to the signed-in user (oauth.md §1). */
  state: string;
  /** Exactly the URI registered with the app: `${PRUUV_PUBLIC_URL}/oauth/<platform>/callback`. */
  redirectUri: string;
  /** `base64url(SHA-256(verifier))`, when {@link OAuthProvider.pkce}. */
  codeChallenge?: string;
  /** The connection's current settings (Google asks for the Data Manager scope only on the Data Manager API). */
  settings: Readonly<Record<string, unknown>>;
}

/** What the platform's redirect back carried. */
export type CallbackResult =
  | { kind: 'code'; code: string }
  /** The user said no, or the platform refused; `error` is the platform's code (`access_denied`). */
  | { kind: 'denied'; error: string; description?: string };

/** The exchange of the callback's code. */
export interface ExchangeInput {
  code: string;
  /** The same redirect URI as the authorization request. */
  redirectUri: string;
  /** The PKCE verifier, when {@link OAuthProvider.pkce}. */
  codeVerifier?: string;
  /** The connection's settings, as given to {@link OAuthProvider.authorizeUrl}. */
  settings: Readonly<Record<string, unknown>>;
}

/** One thing a person can pick in a discovery step. */
export interface DiscoveryChoice {
  /** Opaque to the collector; handed back in the picks. */
  id: string;
  /** `Client A (123-456-7890)`. */
  label: string;
  /** A second line: `under Agency MCC · EUR · Europe/Berlin`. */
  detail?: string;
}

/** A list to pick one thing from. */
export interface DiscoveryStep {
  /** Stable key of the step (`customer`, `conversion_action`). */
  key: string;
  /** The question, for a person: `Which Google Ads account?`. */
  title: string;
  choices: readonly DiscoveryChoice[];
}

/** Where discovery stands after the picks so far. */
export type DiscoveryResult =
  | { kind: 'choose'; step: DiscoveryStep }
  /** Every step is picked: the connection settings they fill (field name → value), and a summary for a person. */
  | { kind: 'done'; settings: Readonly<Record<string, string>>; summary: string };

/** What the token's lifetime asks of the user. */
export interface TokenHealth {
  /** When the access token expires (the runtime refreshes it alone while a refresh token works). */
  accessExpiresAt?: Date;
  /** When the grant ends and only the user can renew it by reconnecting; `undefined` when it does not end on its own. */
  userActionBy?: Date;
}

/** What the collector keeps about a grant besides the token strings, for {@link OAuthProvider.health}. */
export interface GrantFacts {
  /** When the user consented (the code exchange). */
  grantedAt: Date;
  expiresAt?: Date;
  refreshTokenExpiresAt?: Date;
}

/**
 * Why a step of the flow failed. `kind` says what the user can do; `platformError`
 * is the platform's own code (`invalid_grant`), shown as it came. The message
 * never holds a code, token or secret.
 */
export type OAuthFlowFailure =
  /** The user said no at the platform. */
  | 'denied'
  /** The code is unknown, used or expired, or the PKCE verifier is wrong: start again. */
  | 'invalid_grant'
  /** The redirect URI differs from the app's registered one. */
  | 'redirect_uri_mismatch'
  /** The app's id or secret is wrong (the self-hoster's configuration). */
  | 'invalid_client'
  /** A scope the connection needs was not granted. */
  | 'scope_missing'
  /** The platform answered 5xx, timed out or could not be reached: try again later. */
  | 'unavailable'
  /** The token reaches no account (or no conversion action, pixel) to pick. */
  | 'nothing_found'
  /** The token no longer works (revoked, expired): reconnect. */
  | 'token_revoked'
  /** Any other refusal or an answer of an unknown shape. */
  | 'refused';

/** A step of the OAuth flow failed at the platform. */
export class OAuthFlowError extends SenderError {
  override name = 'OAuthFlowError';
  constructor(
    readonly kind: OAuthFlowFailure,
    message: string,
    /** The platform's own error code, when it gave one. */
    readonly platformError?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A platform's OAuth: authorization, tokens, discovery and token health.
 * Every URL it calls is a key of {@link urls}, overridable through {@link env}.
 */
export interface OAuthProvider {
  /** The platform id (`google`), the same as its adapter's. */
  readonly platform: string;
  /** The environment variables of the app and of every URL. */
  readonly env: OAuthEnv;
  /**
   * The real URLs, by key (`authorize`, `token`, `revoke`, the API base). `authorize` is the
   * consent page the browser is sent to: the collector allows its origin as a form target.
   */
  readonly urls: Readonly<Record<string, string>>;
  /** Whether the authorization request carries a PKCE S256 challenge. */
  readonly pkce: boolean;
  /** The connection fields the flow fills: settings from discovery and secrets from the tokens. */
  readonly fills: readonly string[];
  /** The URL the browser is sent to. Pure. */
  authorizeUrl(input: AuthorizeInput, ctx: OAuthCallContext): string;
  /** Reads the redirect back (its query); a callback with neither code nor error counts as a denial. */
  readCallback(query: URLSearchParams): CallbackResult;
  /** Code → tokens, server to server. Throws {@link OAuthFlowError}. */
  exchangeCode(input: ExchangeInput, ctx: OAuthCallContext): Promise<OAuthTokenSet>;
  /** A new access token from the refresh token (with a rotated refresh token when the platform sends one). Absent when tokens are long-lived. */
  refresh?(refreshToken: string, ctx: OAuthCallContext): Promise<OAuthTokenSet>;
  /** Revokes the grant at the platform, where the platform allows it. Throws {@link OAuthFlowError}. */
  revoke?(token: string, ctx: OAuthCallContext): Promise<void>;
  /**
   * For a platform without {@link revoke}: where the person removes Pruuv's access at the platform after
   * Disconnect deleted the token here (Meta: Business Settings → Integrations → Connected apps).
   */
  readonly disconnectHint?: string;
  /**
   * The next discovery step after `picks` (choice ids, one per step so far), or
   * `done` with the settings. Throws {@link OAuthFlowError} (`nothing_found`
   * when a step would have no choices; an unknown pick is `refused`).
   */
  discover(tokens: OAuthTokenSet, picks: readonly string[], ctx: OAuthCallContext): Promise<DiscoveryResult>;
  /** The connection's secret fields the tokens and the app fill (Google: `client_id`, `client_secret`, `refresh_token`). */
  credentials(tokens: OAuthTokenSet, app: OAuthApp): Readonly<Record<string, string>>;
  /** What the grant's lifetime asks of the user. `app.extra` carries app settings that change it (Google's publishing status). */
  health(grant: GrantFacts, app: OAuthApp): TokenHealth;
}

// ---------------------------------------------------------------------------
// Helpers every provider uses.

/**
 * The authorization request's URL (RFC 6749 §4.1.1): `base` with `params`, and with the PKCE
 * S256 challenge (RFC 7636 §4.3) when there is one.
 */
export function authorizationUrl(base: string, params: Readonly<Record<string, string>>, codeChallenge?: string): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  if (codeChallenge !== undefined) {
    url.searchParams.set('code_challenge', codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  return url.href;
}

/**
 * The redirect back of the standard flow (RFC 6749 §4.1.2): its `code`, or its `error` with the
 * `error_description` when present; neither reads as denied with `no_code`.
 */
export function readStandardCallback(query: URLSearchParams): CallbackResult {
  const error = query.get('error');
  if (error !== null && error !== '') {
    const description = query.get('error_description');
    return description === null || description === '' ? { kind: 'denied', error } : { kind: 'denied', error, description };
  }
  const code = query.get('code');
  return code !== null && code !== '' ? { kind: 'code', code } : { kind: 'denied', error: 'no_code' };
}

/** A PKCE pair (RFC 7636): a 32-byte base64url verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier) };
}

/** The S256 challenge of a verifier: base64url(SHA-256(verifier)) (RFC 7636 §4.2). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** A fresh `state`: 32 random bytes, base64url (oauth.md §1). */
export function newOAuthState(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Sends one request of the flow. A timeout, a network failure and a 5xx are
 * `unavailable`; every other answer is returned for the provider to read.
 */
export async function oauthCall(ctx: OAuthCallContext, req: HttpRequest, what: string): Promise<HttpResponse> {
  let res: HttpResponse;
  try {
    res = await sendHttp(ctx.fetch, req, ctx.timeoutMs);
  } catch (error) {
    throw new OAuthFlowError('unavailable', `${what} did not answer (${error instanceof Error ? error.message : String(error)}). Try again in a few minutes.`, undefined, { cause: error });
  }
  if (res.status >= 500) throw new OAuthFlowError('unavailable', `${what} answered HTTP ${res.status}. Try again in a few minutes.`, `http_${res.status}`);
  return res;
}
