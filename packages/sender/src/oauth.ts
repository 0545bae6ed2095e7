/**
 * Google OAuth 2.0 access tokens from a stored refresh token
 * (platforms.md §3.7): cached until shortly before expiry, refreshed at most
 * once at a time per credential (across processes with a {@link RefreshLock}),
 * and refreshed on demand after a 401.
 */
import { z } from 'zod';
import { OAuthError } from './errors.js';
import { sha256Hex } from './hashing.js';
import { sendHttp, type FetchLike } from './http.js';

/** Google's token endpoint. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** What a refresh needs. */
export interface GoogleCredentials {
  client_id: string;
  client_secret: string;
  refresh_token: string;
  /** The token endpoint of this credential's platform (Microsoft's identity platform). Defaults to the cache's `tokenUrl`. */
  token_url?: string;
  /** The scope asked on refresh, for a platform that requires it (Microsoft's `msads.manage offline_access`). Defaults to none. */
  scope?: string;
}

/**
 * Serialises refreshes of one credential across processes (the collector: a
 * lease row in the database). `run` holds the credential's lease while
 * `refresh` runs, waiting while another process holds it.
 */
export interface RefreshLock {
  run<T>(key: string, refresh: () => Promise<T>): Promise<T>;
}

/** What a refresh gave, for the process to record (never logged). */
export interface RefreshedToken {
  /** A hash naming the credential: the key of {@link RefreshLock.run}. */
  key: string;
  credentials: GoogleCredentials;
  expiresAt: Date;
  /** A new refresh token, when the platform rotated it: the stored one must be replaced. */
  refreshToken?: string;
}

/** Options of {@link createTokenCache}. */
export interface TokenCacheOptions {
  /** Refreshes of one credential run one at a time across processes. Defaults to none: per process only. */
  lock?: RefreshLock;
  /** Called after each successful refresh (the collector records when, and persists a rotated refresh token). Awaited; a failure is the caller's. */
  onRefreshed?: (token: RefreshedToken) => Promise<void> | void;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Full URL of the token endpoint. Defaults to `https://oauth2.googleapis.com/token`. */
  tokenUrl?: string;
  /** Defaults to `() => new Date()`. */
  now?: () => Date;
  /** A token is refreshed this long before it expires. Defaults to `60_000` ms. */
  marginMs?: number;
  /** Timeout of one refresh request. Defaults to `30_000` ms. */
  timeoutMs?: number;
}

/** Access tokens per (client id, refresh token). */
export interface TokenCache {
  /** A valid access token: the cached one, or a fresh one. */
  getToken(credentials: GoogleCredentials): Promise<string>;
  /**
   * A new access token after `staleToken` was refused (HTTP 401). Callers that
   * hit the same 401 together share one refresh; a caller whose stale token was
   * already replaced gets the replacement without another request.
   */
  refresh(credentials: GoogleCredentials, staleToken?: string): Promise<string>;
  /** Forgets every token. */
  clear(): void;
}

const tokenSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  token_type: z.string().optional(),
  // Google keeps the refresh token; a platform that rotates it sends the new one here.
  refresh_token: z.string().min(1).optional(),
});
const errorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

/**
 * OAuth error codes that no retry can fix (RFC 6749 §5.2): the refresh token
 * is revoked/expired or the client is wrong. `invalid_grant` is Google's answer
 * for a revoked token (platforms.md §3.7).
 */
const PERMANENT = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'unsupported_grant_type', 'invalid_request', 'invalid_scope']);

interface Entry {
  token: string;
  expiresAt: number;
  rotated?: string;
}

/** The key naming a credential: never the refresh token itself, which must not sit in a map key or a lease row. */
export function credentialKey(c: GoogleCredentials): string {
  return sha256Hex(`${c.client_id}\u0000${c.refresh_token}`);
}

/** A token cache; share one per process so every batch reuses tokens. */
export function createTokenCache(options: TokenCacheOptions = {}): TokenCache {
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const tokenUrl = options.tokenUrl ?? GOOGLE_TOKEN_URL;
  const now = options.now ?? (() => new Date());
  const marginMs = options.marginMs ?? 60_000;
  const entries = new Map<string, Entry>();
  const inflight = new Map<string, Promise<Entry>>();

  // The refresh token is a secret: keyed by its hash so it never sits in a map key we might print.
  const keyOf = credentialKey;

  async function fetchToken(c: GoogleCredentials): Promise<Entry> {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: c.refresh_token,
      client_id: c.client_id,
      client_secret: c.client_secret,
    });
    if (c.scope !== undefined) form.set('scope', c.scope);
    const body = form.toString();
    const res = await sendHttp(
      fetchImpl,
      { method: 'POST', url: c.token_url ?? tokenUrl, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
      options.timeoutMs,
    );
    if (res.status >= 200 && res.status < 300) {
      const ok = tokenSchema.safeParse(res.json);
      if (ok.success) {
        const entry: Entry = { token: ok.data.access_token, expiresAt: now().getTime() + ok.data.expires_in * 1000 };
        if (ok.data.refresh_token !== undefined && ok.data.refresh_token !== c.refresh_token) entry.rotated = ok.data.refresh_token;
        return entry;
      }
      throw new OAuthError('malformed_response', res.status, false);
    }
    const err = errorSchema.safeParse(res.json);
    if (err.success) {
      const permanent = PERMANENT.has(err.data.error) && res.status < 500;
      throw new OAuthError(err.data.error, res.status, permanent, err.data.error_description);
    }
    throw new OAuthError(`http_${res.status}`, res.status, false);
  }

  function start(key: string, c: GoogleCredentials): Promise<Entry> {
    const running = inflight.get(key);
    if (running) return running;
    const refresh = async (): Promise<Entry> => {
      const entry = await fetchToken(c);
      if (options.onRefreshed !== undefined) {
        const info: RefreshedToken = { key, credentials: c, expiresAt: new Date(entry.expiresAt) };
        if (entry.rotated !== undefined) info.refreshToken = entry.rotated;
        await options.onRefreshed(info);
      }
      return entry;
    };
    const p = (options.lock !== undefined ? options.lock.run(key, refresh) : refresh())
      .then((entry) => {
        entries.set(key, entry);
        return entry;
      })
      .finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  }

  const fresh = (e: Entry | undefined): e is Entry => e !== undefined && now().getTime() < e.expiresAt - marginMs;

  return {
    async getToken(c) {
      const key = keyOf(c);
      const cached = entries.get(key);
      if (fresh(cached)) return cached.token;
      return (await start(key, c)).token;
    },
    async refresh(c, staleToken) {
      const key = keyOf(c);
      const cached = entries.get(key);
      if (staleToken !== undefined && fresh(cached) && cached.token !== staleToken) return cached.token;
      entries.delete(key);
      return (await start(key, c)).token;
    },
    clear() {
      entries.clear();
    },
  };
}
