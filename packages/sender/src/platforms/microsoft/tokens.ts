/**
 * Microsoft identity platform access tokens from a stored refresh token
 * (microsoft-ads.md §7.1): `grant_type=refresh_token` with the `msads.manage
 * offline_access` scope (the sandbox's scope in test mode), cached until a
 * minute before `expires_in`. Microsoft may answer with a NEW refresh token:
 * it replaces the old one for every later refresh of this process, and is
 * handed to `onRotate` so the caller can store it (the old one may stop
 * working at any time).
 */
import { SenderError } from '../../errors.js';
import { sha256Hex } from '../../hashing.js';
import { sendHttp, type FetchLike } from '../../http.js';
import { z } from 'zod';

/** Production scope (MS-OAUTH); `offline_access` brings the refresh token. */
export const MICROSOFT_SCOPE = 'https://ads.microsoft.com/msads.manage offline_access';
/** Sandbox scope, as the SDKs ask it (SDK-PY authorization.py, SDK-PHP UriOAuthService.php; DISAGREE in §7.1). */
export const MICROSOFT_SANDBOX_SCOPE = 'https://si.ads.microsoft.com/msads.manage offline_access';

/** A token refresh failed. `permanent`: the grant is revoked or the app is wrong; only a reconnect helps. */
export class MicrosoftOAuthError extends SenderError {
  override name = 'MicrosoftOAuthError';
  constructor(
    readonly code: string,
    readonly status: number,
    readonly permanent: boolean,
    description?: string,
  ) {
    super(
      `Microsoft OAuth token refresh failed: ${code}${description ? ` (${description})` : ''}.` +
        (permanent ? ' Reconnect the Microsoft Advertising account (the refresh token was revoked or expired, or the Azure app id/secret are wrong).' : ''),
    );
  }
}

/** What one refresh needs. */
export interface MicrosoftGrant {
  client_id: string;
  client_secret: string;
  refresh_token: string;
  scope: string;
}

const tokenSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive(),
  refresh_token: z.string().min(1).optional(),
});
const errorSchema = z.object({ error: z.string(), error_description: z.string().optional() });
const PERMANENT = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'unsupported_grant_type', 'invalid_request', 'invalid_scope']);

/** Access tokens of one pass (or one `sendBatch` call). */
export interface MicrosoftTokens {
  get(grant: MicrosoftGrant): Promise<string>;
  /** A new token after `stale` was refused; callers that hit the same refusal share one refresh. */
  refresh(grant: MicrosoftGrant, stale: string): Promise<string>;
}

/** Options of {@link createMicrosoftTokens}. */
export interface MicrosoftTokensOptions {
  fetch: FetchLike;
  tokenUrl: string;
  now: () => Date;
  timeoutMs?: number;
  /** Called with the stored refresh token and its replacement when Microsoft rotates it. */
  onRotate?: (stored: string, replacement: string) => void | Promise<void>;
}

/**
 * The newest refresh token per stored one, for this process: a rotation seen
 * in one pass is used by the next even before the stored connection is updated.
 */
const ROTATED = new Map<string, string>();

interface Entry {
  token: string;
  expiresAt: number;
}

/** A token cache over Microsoft's token endpoint. */
export function createMicrosoftTokens(options: MicrosoftTokensOptions): MicrosoftTokens {
  const entries = new Map<string, Entry>();
  const inflight = new Map<string, Promise<Entry>>();
  // Secrets are never map keys as they are: hashed.
  const keyOf = (g: MicrosoftGrant): string => sha256Hex(`${g.client_id}\u0000${g.scope}\u0000${g.refresh_token}`);

  async function fetchToken(g: MicrosoftGrant): Promise<Entry> {
    const rotationKey = sha256Hex(g.refresh_token);
    const rotated = ROTATED.get(rotationKey);
    if (rotated === undefined) return fetchWith(g, g.refresh_token, rotationKey);
    try {
      return await fetchWith(g, rotated, rotationKey);
    } catch (error) {
      // A replacement refused (revoked since) falls back to the stored token once.
      if (!(error instanceof MicrosoftOAuthError) || !error.permanent) throw error;
      ROTATED.delete(rotationKey);
      return fetchWith(g, g.refresh_token, rotationKey);
    }
  }

  async function fetchWith(g: MicrosoftGrant, current: string, rotationKey: string): Promise<Entry> {
    const body = new URLSearchParams({
      client_id: g.client_id,
      client_secret: g.client_secret,
      grant_type: 'refresh_token',
      refresh_token: current,
      scope: g.scope,
    }).toString();
    const res = await sendHttp(
      options.fetch,
      { method: 'POST', url: options.tokenUrl, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
      options.timeoutMs,
    );
    if (res.status >= 200 && res.status < 300) {
      const ok = tokenSchema.safeParse(res.json);
      if (!ok.success) throw new MicrosoftOAuthError('malformed_response', res.status, false);
      const next = ok.data.refresh_token;
      if (next !== undefined && next !== current) {
        ROTATED.set(rotationKey, next);
        await options.onRotate?.(g.refresh_token, next);
      }
      return { token: ok.data.access_token, expiresAt: options.now().getTime() + ok.data.expires_in * 1000 };
    }
    const err = errorSchema.safeParse(res.json);
    if (err.success) throw new MicrosoftOAuthError(err.data.error, res.status, PERMANENT.has(err.data.error) && res.status < 500, err.data.error_description);
    throw new MicrosoftOAuthError(`http_${res.status}`, res.status, false);
  }

  function start(key: string, g: MicrosoftGrant): Promise<Entry> {
    const running = inflight.get(key);
    if (running) return running;
    const p = fetchToken(g)
      .then((entry) => {
        entries.set(key, entry);
        return entry;
      })
      .finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  }
  const fresh = (e: Entry | undefined): e is Entry => e !== undefined && options.now().getTime() < e.expiresAt - 60_000;

  return {
    async get(g) {
      const key = keyOf(g);
      const cached = entries.get(key);
      return fresh(cached) ? cached.token : (await start(key, g)).token;
    },
    async refresh(g, stale) {
      const key = keyOf(g);
      const cached = entries.get(key);
      if (fresh(cached) && cached.token !== stale) return cached.token;
      entries.delete(key);
      return (await start(key, g)).token;
    },
  };
}

/** One token cache per pass: keyed by the pass's shared-services object, dropped with it. */
const PER_PASS = new WeakMap<object, MicrosoftTokens>();

/** The pass's token cache, made on first use. */
export function passTokens(shared: object, create: () => MicrosoftTokens): MicrosoftTokens {
  let tokens = PER_PASS.get(shared);
  if (tokens === undefined) {
    tokens = create();
    PER_PASS.set(shared, tokens);
  }
  return tokens;
}
