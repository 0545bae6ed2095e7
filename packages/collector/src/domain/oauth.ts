/**
 * "Connect with OAuth" (oauth.md §1), for every platform whose adapter has an
 * `OAuthProvider`: the pending authorization behind the Connect button, the
 * callback (state checked and used up before the code is exchanged), the
 * tokens waiting for the person's picks, and the save that fills the
 * connection. Tokens are AES-256-GCM ciphertext from the exchange on (the
 * connections' key ring), never logged, never shown; nothing of a failed
 * attempt is stored, and the connection's previous credentials stay as they
 * were until the save.
 *
 * Keys (the `state`, the grant id) are 32 random bytes, base64url, known to the
 * store only by their SHA-256: a lookup by hash is an index probe on a digest,
 * so no comparison leaks how much of a guessed key was right.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  decryptSecret,
  encryptSecret,
  newOAuthState,
  OAuthFlowError,
  oauthProvider,
  pkcePair,
  type ApiVersions,
  type FetchLike,
  type KeyRing,
  type OAuthApp,
  type OAuthCallContext,
  type OAuthProvider,
  type OAuthTokenSet,
  type Platform,
  type DiscoveryResult,
  type OAuthFlowFailure,
} from '@pruuv/sender';
import { fetchUetTagToken, type UetTagToken } from '@pruuv/sender/platforms';
import { CollectorError } from '../errors.js';
import { requireKeyRing } from '../send/secrets.js';
import type { OAuthPending, Store } from '../store/types.js';
import { connectionFields, createConnections, type FieldValue } from './connections.js';

/** A pending authorization lives this long: the person consents within it or starts again (oauth.md §1). */
export const AUTHORIZE_TTL_MS = 10 * 60_000;
/** Tokens wait this long for the person's picks. */
export const GRANT_TTL_MS = 30 * 60_000;
/** Platform calls of the flow time out after this. */
export const OAUTH_TIMEOUT_MS = 20_000;

/** One platform's app and URLs, from the environment. */
export interface OAuthPlatformConfig {
  app: OAuthApp;
  /** The provider's URLs, the environment's overrides applied. */
  urls: Readonly<Record<string, string>>;
}

/** What the flow needs besides the store: the apps configured, the key ring, the seams. */
export interface OAuthSetup {
  /** The platforms whose app credentials are set: only these show a Connect button. */
  platforms: Partial<Record<Platform, OAuthPlatformConfig>>;
  /** API versions (Google Ads for discovery). Defaults to the adapters'. */
  versions?: Partial<ApiVersions>;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Per platform call. Defaults to {@link OAUTH_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** Why a step of the flow ended without a connection: a platform's refusal, or one of ours. */
export type OAuthProblemKind =
  | OAuthFlowFailure
  /** The callback carries no `state`. */
  | 'state_missing'
  /** No pending authorization has this `state`: forged, or used already (a second hit of the callback). */
  | 'state_unknown'
  /** The pending authorization ran out ({@link AUTHORIZE_TTL_MS}) or the picks took too long ({@link GRANT_TTL_MS}). */
  | 'state_expired'
  /** Started by another user or in another session. */
  | 'state_foreign'
  /** The platform has no app configured here. */
  | 'not_configured';

/** A step of the flow ended without a connection; `message` is for the person, with what to do. */
export class OAuthProblem extends CollectorError {
  override name = 'OAuthProblem';
  constructor(
    readonly kind: OAuthProblemKind,
    message: string,
    /** The client whose connection it was, when known (to link back to its page). */
    readonly clientId?: string,
    /** The platform's own error code, when it gave one. */
    readonly platformError?: string,
  ) {
    super(message);
  }
}

/** Who is at the keyboard: the signed-in user and the session id (from the cookie). */
export interface FlowSession {
  userId: string;
  /** SHA-256 of the session id (`sessionIdHash`). */
  sessionHash: string;
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

interface AuthorizePayload {
  verifier?: string;
  settings: Record<string, unknown>;
}

interface GrantPayload {
  tokens: { accessToken: string; expiresAt?: string; refreshToken?: string; refreshTokenExpiresAt?: string; scopes: string[] };
  grantedAt: string;
}

function tokensOf(p: GrantPayload['tokens']): OAuthTokenSet {
  const t: OAuthTokenSet = { accessToken: p.accessToken, scopes: p.scopes };
  if (p.expiresAt !== undefined) t.expiresAt = new Date(p.expiresAt);
  if (p.refreshToken !== undefined) t.refreshToken = p.refreshToken;
  if (p.refreshTokenExpiresAt !== undefined) t.refreshTokenExpiresAt = new Date(p.refreshTokenExpiresAt);
  return t;
}

function payloadOf(t: OAuthTokenSet): GrantPayload['tokens'] {
  const p: GrantPayload['tokens'] = { accessToken: t.accessToken, scopes: [...t.scopes] };
  if (t.expiresAt !== undefined) p.expiresAt = t.expiresAt.toISOString();
  if (t.refreshToken !== undefined) p.refreshToken = t.refreshToken;
  if (t.refreshTokenExpiresAt !== undefined) p.refreshTokenExpiresAt = t.refreshTokenExpiresAt.toISOString();
  return p;
}

/** A filled value as its field declares it: `'true'`/`'false'` for a boolean field become booleans; anything else stays text. */
export function asDeclared(value: string | null, type: string | undefined): FieldValue {
  if (value === null || type !== 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

/** The person-facing message of a platform's refusal. */
function problemOf(error: unknown, clientId: string): OAuthProblem {
  if (error instanceof OAuthFlowError) return new OAuthProblem(error.kind, error.message, clientId, error.platformError);
  throw error;
}

/** The redirect URI of a platform: `${publicUrl}/oauth/<platform>/callback`, exactly as registered with the app. */
export function redirectUriFor(publicUrl: string, platform: Platform): string {
  return `${publicUrl.replace(/\/+$/, '')}/oauth/${platform}/callback`;
}

/** The OAuth flow over `store`. */
export interface OAuthFlow {
  /** Whether `platform` has a provider and its app is configured (the Connect button shows). */
  configured(platform: Platform): boolean;
  /** The origins of the configured platforms' consent pages (`https://accounts.google.com`), for the page's form-action. */
  consentOrigins(): string[];
  /** Stores a pending authorization and returns the URL to send the browser to. */
  start(input: { session: FlowSession; clientId: string; platform: Platform; redirectUri: string }): Promise<string>;
  /**
   * The callback: uses up the `state` (before anything else can fail), checks it is this
   * session's and still fresh, reads the platform's answer, exchanges the code and keeps the
   * tokens encrypted for the picks. Returns the grant's key. Throws {@link OAuthProblem}.
   */
  callback(input: { session: FlowSession; platform: Platform; query: URLSearchParams; redirectUri: string }): Promise<{ grant: string; clientId: string }>;
  /** The next discovery step after `picks`. Throws {@link OAuthProblem}. */
  discover(input: { session: FlowSession; platform: Platform; grant: string; picks: readonly string[] }): Promise<{ clientId: string; result: DiscoveryResult }>;
  /** Fills the connection with the picks and the tokens, and records the grant's facts; uses the grant up. */
  save(input: { session: FlowSession; platform: Platform; grant: string; picks: readonly string[] }): Promise<{ clientId: string; summary: string }>;
  /** Revokes the stored grant at the platform (where it allows) and removes the connection here. `revoked: false` says the platform could not be told. */
  disconnect(input: { clientId: string; platform: Platform }): Promise<{ removed: boolean; revoked: boolean; message?: string }>;
  /** Deletes expired pending authorizations and grants. */
  sweep(): Promise<number>;
  /**
   * Microsoft: fetches the UET tag's Conversions API token with the connection's grant
   * (`UetTagAuthKey/Query`) and stores it encrypted, with the refresh token Microsoft rotated;
   * saving un-pauses the connection. Throws {@link OAuthProblem}.
   */
  fetchUetTagToken(input: { clientId: string }): Promise<{ tagId: string }>;
}

/** Creates the flow. */
export function createOAuthFlow(store: Store, setup: OAuthSetup, ring: KeyRing | undefined, options: { now?: () => Date } = {}): OAuthFlow {
  const now = options.now ?? (() => new Date());
  const connections = createConnections(store, { now });

  function provider(platform: Platform): { provider: OAuthProvider; ctx: OAuthCallContext } {
    const p = oauthProvider(platform);
    const config = setup.platforms[platform];
    if (p === undefined || config === undefined) {
      throw new OAuthProblem('not_configured', `Connecting with OAuth is not set up for ${platform}: set the app's credentials (see the README, "Connect your ad accounts"), or paste the credentials instead.`);
    }
    const fetchImpl: FetchLike = setup.fetch ?? ((input, init) => fetch(input, init));
    return {
      provider: p,
      ctx: { app: config.app, urls: config.urls, versions: { ...setup.versions }, fetch: fetchImpl, now, timeoutMs: setup.timeoutMs ?? OAUTH_TIMEOUT_MS },
    };
  }

  const key = (): KeyRing => {
    try {
      return requireKeyRing(ring, 'keep the tokens of "Connect" encrypted');
    } catch (error) {
      // The self-hoster's configuration: said on the page, like a missing app.
      throw new OAuthProblem('not_configured', error instanceof Error ? error.message : String(error));
    }
  };

  /** The pending entry behind `raw`, checked: this platform, this user and session, not expired. */
  function check(found: OAuthPending | undefined, session: FlowSession, platform: Platform, what: 'authorize' | 'grant'): OAuthPending {
    if (found === undefined) {
      throw new OAuthProblem(
        'state_unknown',
        what === 'authorize'
          ? 'This sign-in answer does not match a Connect started here, or was used already (a page reloaded after connecting). Nothing was changed: start again with the Connect button.'
          : 'These accounts were already saved, or the list has expired. Nothing more was changed: start again with the Connect button.',
      );
    }
    if (found.platform !== platform) throw new OAuthProblem('state_unknown', 'This sign-in answer belongs to another platform. Nothing was changed: start again.', found.client_id);
    if (found.user_id !== session.userId || found.session_hash !== session.sessionHash) {
      throw new OAuthProblem('state_foreign', 'This sign-in was started by another user or in another browser session. Nothing was changed: start again with the Connect button.', found.client_id);
    }
    if (Date.parse(found.expires_at) <= now().getTime()) {
      throw new OAuthProblem(
        'state_expired',
        what === 'authorize'
          ? `This sign-in took longer than ${AUTHORIZE_TTL_MS / 60_000} minutes and has expired. Nothing was changed: start again with the Connect button.`
          : `The account list has expired (${GRANT_TTL_MS / 60_000} minutes). Nothing was changed: start again with the Connect button.`,
        found.client_id,
      );
    }
    return found;
  }

  async function openGrant(input: { session: FlowSession; platform: Platform; grant: string }, take: boolean): Promise<{ pending: OAuthPending; payload: GrantPayload }> {
    const hash = sha256(input.grant);
    const found = take ? await store.oauth.takePending(hash, 'grant') : await store.oauth.getPending(hash, 'grant');
    const pending = check(found, input.session, input.platform, 'grant');
    return { pending, payload: JSON.parse(decryptSecret(pending.payload, key())) as GrantPayload };
  }

  return {
    configured(platform) {
      return oauthProvider(platform) !== undefined && setup.platforms[platform] !== undefined;
    },

    consentOrigins() {
      const origins = new Set<string>();
      for (const [platform, config] of Object.entries(setup.platforms)) {
        const authorize = config?.urls['authorize'] ?? oauthProvider(platform)?.urls['authorize'];
        if (authorize !== undefined) origins.add(new URL(authorize).origin);
      }
      return [...origins];
    },

    async start(input) {
      const { provider: p, ctx } = provider(input.platform);
      const ring = key();
      if ((await store.clients.get(input.clientId)) === undefined) throw new OAuthProblem('state_unknown', `Unknown client '${input.clientId}'.`);
      const existing = await store.connections.get(input.clientId, input.platform);
      const settings: Record<string, unknown> = { ...(existing?.settings ?? {}) };
      // Abandoned authorizations and grants go here, each Connect: the table stays small without a job.
      await store.oauth.sweepPending(now());
      const state = newOAuthState();
      const pkce = p.pkce ? pkcePair() : undefined;
      const payload: AuthorizePayload = { settings };
      if (pkce !== undefined) payload.verifier = pkce.verifier;
      const at = now();
      await store.oauth.putPending({
        key_hash: sha256(state),
        kind: 'authorize',
        user_id: input.session.userId,
        session_hash: input.session.sessionHash,
        client_id: input.clientId,
        platform: input.platform,
        payload: encryptSecret(JSON.stringify(payload), ring),
        created_at: at.toISOString(),
        expires_at: new Date(at.getTime() + AUTHORIZE_TTL_MS).toISOString(),
      });
      return p.authorizeUrl({ state, redirectUri: input.redirectUri, ...(pkce !== undefined ? { codeChallenge: pkce.challenge } : {}), settings }, ctx);
    },

    async callback(input) {
      const { provider: p, ctx } = provider(input.platform);
      const state = input.query.get('state');
      if (state === null || state === '') {
        throw new OAuthProblem('state_missing', 'The answer from the platform carries no state, so it cannot be matched to a Connect started here. Nothing was changed: start again with the Connect button.');
      }
      // Used up first: a reload or a replay of this URL finds nothing (oauth.md §1 step 2).
      const pending = check(await store.oauth.takePending(sha256(state), 'authorize'), input.session, input.platform, 'authorize');
      const answer = p.readCallback(input.query);
      if (answer.kind === 'denied') {
        const cancelled = answer.error === 'access_denied' || answer.error === 'no_code' || answer.error === 'user_denied';
        throw new OAuthProblem(
          'denied',
          cancelled
            ? 'Access was not granted at the platform (the consent was cancelled or denied). Nothing was changed; the connection keeps its previous credentials.'
            : `The platform refused the sign-in (${answer.error}${answer.description !== undefined ? `: ${answer.description}` : ''}). Nothing was changed.`,
          pending.client_id,
          answer.error,
        );
      }
      const authorize = JSON.parse(decryptSecret(pending.payload, key())) as AuthorizePayload;
      let tokens: OAuthTokenSet;
      try {
        tokens = await p.exchangeCode({ code: answer.code, redirectUri: input.redirectUri, settings: authorize.settings, ...(authorize.verifier !== undefined ? { codeVerifier: authorize.verifier } : {}) }, ctx);
      } catch (error) {
        throw problemOf(error, pending.client_id);
      }
      const grant = randomBytes(32).toString('base64url');
      const at = now();
      const payload: GrantPayload = { tokens: payloadOf(tokens), grantedAt: at.toISOString() };
      await store.oauth.putPending({
        key_hash: sha256(grant),
        kind: 'grant',
        user_id: input.session.userId,
        session_hash: input.session.sessionHash,
        client_id: pending.client_id,
        platform: input.platform,
        payload: encryptSecret(JSON.stringify(payload), key()),
        created_at: at.toISOString(),
        expires_at: new Date(at.getTime() + GRANT_TTL_MS).toISOString(),
      });
      return { grant, clientId: pending.client_id };
    },

    async discover(input) {
      const { provider: p, ctx } = provider(input.platform);
      const { pending, payload } = await openGrant(input, false);
      try {
        return { clientId: pending.client_id, result: await p.discover(tokensOf(payload.tokens), input.picks, ctx) };
      } catch (error) {
        throw problemOf(error, pending.client_id);
      }
    },

    async save(input) {
      const { provider: p, ctx } = provider(input.platform);
      const { pending, payload } = await openGrant(input, true);
      const tokens = tokensOf(payload.tokens);
      let result: DiscoveryResult;
      try {
        result = await p.discover(tokens, input.picks, ctx);
      } catch (error) {
        throw problemOf(error, pending.client_id);
      }
      if (result.kind !== 'done') throw new OAuthProblem('refused', 'Pick every step before saving. Nothing was changed: start again with the Connect button.', pending.client_id);
      const credentials = p.credentials(tokens, ctx.app);
      const fields: Record<string, FieldValue> = {};
      const declared = new Map(connectionFields(input.platform).map((f) => [f.name, f.type]));
      // Every field the flow fills is set or, when the picks leave it out (no manager), removed.
      // Discovery speaks text: a boolean field (Microsoft's enhanced_conversions) gets its text read as one.
      for (const f of p.fills) fields[f] = asDeclared(result.settings[f] ?? credentials[f] ?? null, declared.get(f));
      const saved = await connections.set({ client_id: pending.client_id, platform: input.platform, fields }, ring);
      const grantedAt = new Date(payload.grantedAt);
      const health = p.health({ grantedAt, ...(tokens.expiresAt !== undefined ? { expiresAt: tokens.expiresAt } : {}), ...(tokens.refreshTokenExpiresAt !== undefined ? { refreshTokenExpiresAt: tokens.refreshTokenExpiresAt } : {}) }, ctx.app);
      await store.oauth.saveGrant({
        connection_id: saved.id,
        granted_at: grantedAt.toISOString(),
        ...(tokens.expiresAt !== undefined ? { access_expires_at: tokens.expiresAt.toISOString() } : {}),
        ...(tokens.refreshTokenExpiresAt !== undefined ? { refresh_expires_at: tokens.refreshTokenExpiresAt.toISOString() } : {}),
        ...(health.userActionBy !== undefined ? { user_action_by: health.userActionBy.toISOString() } : {}),
        scopes: [...tokens.scopes],
      });
      return { clientId: pending.client_id, summary: result.summary };
    },

    async fetchUetTagToken(input) {
      const { ctx } = provider('microsoft');
      const ring = key();
      const stored = (await connections.load(input.clientId, 'microsoft', ring))?.connection;
      if (stored?.platform !== 'microsoft') throw new OAuthProblem('refused', 'Save the Microsoft connection first.', input.clientId);
      if (stored.uet_tag_id === undefined) throw new OAuthProblem('refused', 'Set the UET tag id first, then fetch its token.', input.clientId);
      let got: UetTagToken;
      try {
        got = await fetchUetTagToken(stored, ctx);
      } catch (error) {
        throw problemOf(error, input.clientId);
      }
      const fields: Record<string, FieldValue> = { uet_api_token: got.token };
      if (got.refreshToken !== undefined) fields['refresh_token'] = got.refreshToken;
      await connections.set({ client_id: input.clientId, platform: 'microsoft', fields }, ring);
      return { tagId: stored.uet_tag_id };
    },

    async disconnect(input) {
      const record = await store.connections.get(input.clientId, input.platform);
      if (record === undefined) return { removed: false, revoked: false };
      const p = oauthProvider(input.platform);
      const config = setup.platforms[input.platform];
      let revoked = false;
      let message: string | undefined;
      if (p?.revoke !== undefined && config !== undefined && record.secrets !== null) {
        const secrets = JSON.parse(decryptSecret(record.secrets, key())) as Record<string, string>;
        // The longest-lived token the connection holds: revoking it ends the whole grant.
        const token = secrets['refresh_token'] ?? secrets['access_token'];
        if (token !== undefined) {
          try {
            await p.revoke(token, provider(input.platform).ctx);
            revoked = true;
          } catch (error) {
            if (!(error instanceof OAuthFlowError)) throw error;
            message = `${error.message} The token was deleted here; remove Pruuv's access in the platform's account settings as well.`;
          }
        }
      }
      const removed = await store.connections.remove(input.clientId, input.platform);
      return message === undefined ? { removed, revoked } : { removed, revoked, message };
    },

    sweep() {
      return store.oauth.sweepPending(now());
    },
  };
}
