/**
 * TikTok's "Connect": the Marketing API's advertiser authorization, the `auth_code` exchange, the
 * advertisers and pixels the token reaches, and revocation (oauth.md §4).
 *
 * An advertiser access token is long-term: it "does not expire" until revoked (oauth.md §4.2, T-BB, T-3P),
 * so there is no refresh. Should TikTok ever send `expires_in`, the expiry is kept and the connection
 * asks the user to reconnect before it.
 */
import { z } from 'zod';
import type { HttpResponse } from '../../http.js';
import {
  oauthCall,
  OAuthFlowError,
  type CallbackResult,
  type DiscoveryChoice,
  type DiscoveryResult,
  type OAuthCallContext,
  type OAuthProvider,
  type OAuthTokenSet,
} from '../oauth-provider.js';
import { TIKTOK_API_VERSION, TIKTOK_BASE_URL } from './request.js';

/** The advertiser authorization page (oauth.md §4.1). */
export const TIKTOK_AUTHORIZE_URL = 'https://business-api.tiktok.com/portal/auth';

/** `pixel/list/` answers at most 20 rows a page (oauth.md §4.3). */
const PIXEL_PAGE_SIZE = 20;
/** Pages read at most per advertiser. */
const MAX_PAGES = 100;

/** TikTok's envelope: HTTP 200 with `code` 0 on success, non-zero otherwise (oauth.md §4.2, platforms.md §4.3). */
const envelope = z.object({ code: z.number().int(), message: z.string().optional(), request_id: z.string().optional(), data: z.unknown().optional() });

const tokenData = z.object({
  access_token: z.string().min(1),
  advertiser_ids: z.array(z.union([z.string(), z.number()])).optional(),
  scope: z.array(z.union([z.number(), z.string()])).optional(),
  // Creator grants carry these; an advertiser answer that does would be a change (oauth.md §4.2).
  expires_in: z.number().positive().optional(),
  refresh_token: z.string().min(1).optional(),
  refresh_token_expires_in: z.number().positive().optional(),
});
const advertiserList = z.object({ list: z.array(z.object({ advertiser_id: z.union([z.string(), z.number()]), advertiser_name: z.string().optional() })) });
const pixelPage = z.object({
  pixels: z.array(
    z.object({
      pixel_id: z.union([z.string(), z.number()]).optional(),
      pixel_code: z.string().min(1),
      pixel_name: z.string().optional(),
      asset_ownership: z.object({ asset_relation_status: z.string().nullable().optional() }).nullable().optional(),
    }),
  ),
  page_info: z.object({ page: z.number().optional(), total_page: z.number().optional() }).optional(),
});

/** A TikTok pixel a person can pick. */
export interface TikTokPixelChoice {
  code: string;
  name?: string;
  id?: string;
}

/** Codes that mean the token no longer works or reaches nothing (oauth.md §4.4). 40001 is also "no permission". */
const TOKEN_CODES = new Set([40001, 40102, 40104, 40105]);

/** A non-zero `code`, read into a flow failure that keeps TikTok's message. Pure. */
export function tiktokFailure(code: number, message: string | undefined, what: string): OAuthFlowError {
  const said = message === undefined || message === '' ? '' : `: ${message}`;
  if (code === 40110) return new OAuthFlowError('invalid_grant', `TikTok refused ${what} (${code}${said}). The code was used or has expired: start again from Connect.`, String(code));
  if (code === 40101) return new OAuthFlowError('invalid_client', `TikTok refused ${what} (${code}${said}). Check PRUUV_TIKTOK_APP_ID and PRUUV_TIKTOK_APP_SECRET.`, String(code));
  if (TOKEN_CODES.has(code)) return new OAuthFlowError('token_revoked', `TikTok refused the token while ${what} (${code}${said}). Reconnect.`, String(code));
  if (code >= 50000 && code < 60000) return new OAuthFlowError('unavailable', `TikTok failed while ${what} (${code}${said}). Try again in a few minutes.`, String(code));
  return new OAuthFlowError('refused', `TikTok refused ${what} (${code}${said}).`, String(code));
}

/** The `data` of a successful answer, or the failure. Pure. */
export function tiktokData(res: HttpResponse, what: string): unknown {
  const parsed = envelope.safeParse(res.json);
  if (!parsed.success) throw new OAuthFlowError('refused', `TikTok answered ${what} with HTTP ${res.status} and an unexpected body.`, `http_${res.status}`);
  if (parsed.data.code !== 0) throw tiktokFailure(parsed.data.code, parsed.data.message, what);
  return parsed.data.data;
}

const apiBase = (ctx: OAuthCallContext): string => `${ctx.urls['tiktok'] ?? TIKTOK_BASE_URL}/open_api/${ctx.versions['tiktok'] ?? TIKTOK_API_VERSION}`;

/** The advertiser authorization URL (oauth.md §4.1): no scope (set on the app) and no PKCE. Pure. */
export function tiktokAuthorizeUrl(input: { state: string; redirectUri: string }, ctx: Pick<OAuthCallContext, 'app' | 'urls'>): string {
  const url = new URL(ctx.urls['authorize'] ?? TIKTOK_AUTHORIZE_URL);
  url.searchParams.set('app_id', ctx.app.clientId);
  url.searchParams.set('state', input.state);
  url.searchParams.set('redirect_uri', input.redirectUri);
  return url.href;
}

/** Reads the redirect back: `auth_code`, else `code` (oauth.md §4.1); neither means the user cancelled. Pure. */
export function readTikTokCallback(query: URLSearchParams): CallbackResult {
  const error = query.get('error');
  if (error !== null && error !== '') {
    const description = query.get('error_description');
    return description === null || description === '' ? { kind: 'denied', error } : { kind: 'denied', error, description };
  }
  const code = query.get('auth_code') || query.get('code');
  return code !== null && code !== '' ? { kind: 'code', code } : { kind: 'denied', error: 'no_code', description: 'TikTok sent no authorization code: the authorization was cancelled.' };
}

/** Reads the exchange's answer into tokens. Pure. */
export function readTikTokToken(res: HttpResponse, now: Date): OAuthTokenSet & { advertiserIds: string[] } {
  const data = tokenData.safeParse(tiktokData(res, 'the authorization code'));
  if (!data.success) throw new OAuthFlowError('refused', 'TikTok answered the authorization code with an unexpected body (no access_token).');
  const d = data.data;
  const out: OAuthTokenSet & { advertiserIds: string[] } = {
    accessToken: d.access_token,
    scopes: (d.scope ?? []).map(String),
    advertiserIds: (d.advertiser_ids ?? []).map(String),
  };
  if (d.expires_in !== undefined) out.expiresAt = new Date(now.getTime() + d.expires_in * 1000);
  if (d.refresh_token !== undefined) out.refreshToken = d.refresh_token;
  if (d.refresh_token_expires_in !== undefined) out.refreshTokenExpiresAt = new Date(now.getTime() + d.refresh_token_expires_in * 1000);
  return out;
}

async function tiktokGet(ctx: OAuthCallContext, path: string, params: Record<string, string>, accessToken: string, what: string): Promise<unknown> {
  const url = new URL(`${apiBase(ctx)}/${path}`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  // The header is Access-Token, not Authorization (oauth.md §4.3).
  const res = await oauthCall(ctx, { method: 'GET', url: url.href, headers: { 'access-token': accessToken } }, 'TikTok');
  return tiktokData(res, what);
}

/** The advertisers that still authorize the app (`oauth2/advertiser/get/`). */
export async function tiktokAdvertisers(tokens: OAuthTokenSet, ctx: OAuthCallContext): Promise<Array<{ id: string; name?: string }>> {
  const data = advertiserList.safeParse(
    await tiktokGet(ctx, 'oauth2/advertiser/get/', { app_id: ctx.app.clientId, secret: ctx.app.clientSecret }, tokens.accessToken, 'listing the advertisers'),
  );
  if (!data.success) throw new OAuthFlowError('refused', 'TikTok answered the advertiser list with an unexpected body.');
  return data.data.list.map((a) => (a.advertiser_name === undefined ? { id: String(a.advertiser_id) } : { id: String(a.advertiser_id), name: a.advertiser_name }));
}

/**
 * The pixels of one advertiser, page by page (20 a page), without the ones shared and then unbound
 * (oauth.md §4.3). A page shorter than asked, or `page >= total_page`, is the last.
 */
export async function tiktokPixels(tokens: OAuthTokenSet, advertiserId: string, ctx: OAuthCallContext): Promise<TikTokPixelChoice[]> {
  const out: TikTokPixelChoice[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const data = pixelPage.safeParse(
      await tiktokGet(ctx, 'pixel/list/', { advertiser_id: advertiserId, page: String(page), page_size: String(PIXEL_PAGE_SIZE) }, tokens.accessToken, `listing the pixels of advertiser ${advertiserId}`),
    );
    if (!data.success) throw new OAuthFlowError('refused', 'TikTok answered the pixel list with an unexpected body.');
    for (const p of data.data.pixels) {
      if (p.asset_ownership?.asset_relation_status === 'UNBOUND') continue;
      const c: TikTokPixelChoice = { code: p.pixel_code };
      if (p.pixel_name !== undefined) c.name = p.pixel_name;
      if (p.pixel_id !== undefined) c.id = String(p.pixel_id);
      out.push(c);
    }
    const total = data.data.page_info?.total_page;
    if (data.data.pixels.length < PIXEL_PAGE_SIZE || (total !== undefined && page >= total)) return out;
  }
  return out;
}

/** TikTok's OAuth provider: advertiser authorization, then an advertiser and one of its pixels. */
export const tiktokOAuth: OAuthProvider = {
  platform: 'tiktok',
  env: {
    clientId: 'PRUUV_TIKTOK_APP_ID',
    clientSecret: 'PRUUV_TIKTOK_APP_SECRET',
    urls: { authorize: 'PRUUV_TIKTOK_OAUTH_URL', tiktok: 'PRUUV_TIKTOK_API_URL' },
  },
  urls: { authorize: TIKTOK_AUTHORIZE_URL, tiktok: TIKTOK_BASE_URL },
  // Not documented for advertiser authorization (oauth.md §4.1).
  pkce: false,
  fills: ['pixel_code', 'access_token'],

  authorizeUrl(input, ctx) {
    return tiktokAuthorizeUrl(input, ctx);
  },

  readCallback: readTikTokCallback,

  async exchangeCode(input, ctx) {
    // JSON body of app_id, secret and auth_code; no redirect_uri, no grant_type (oauth.md §4.2).
    const res = await oauthCall(
      ctx,
      {
        method: 'POST',
        url: `${apiBase(ctx)}/oauth2/access_token/`,
        headers: { 'content-type': 'application/json' },
        body: { app_id: ctx.app.clientId, secret: ctx.app.clientSecret, auth_code: input.code },
      },
      "TikTok's token endpoint",
    );
    const { advertiserIds, ...tokens } = readTikTokToken(res, ctx.now());
    if (advertiserIds.length === 0) {
      throw new OAuthFlowError('nothing_found', 'The authorization granted no advertiser account. Connect again and tick the ad account on TikTok\'s page.');
    }
    return tokens;
  },

  async revoke(token, ctx) {
    const res = await oauthCall(
      ctx,
      {
        method: 'POST',
        url: `${apiBase(ctx)}/oauth2/revoke_token/`,
        headers: { 'content-type': 'application/json' },
        body: { app_id: ctx.app.clientId, secret: ctx.app.clientSecret, access_token: token },
      },
      "TikTok's revoke endpoint",
    );
    try {
      tiktokData(res, 'the revocation');
    } catch (error) {
      // Already revoked or unknown: nothing is left to revoke.
      if (error instanceof OAuthFlowError && error.platformError === '40105') return;
      throw error;
    }
  },

  async discover(tokens, picks, ctx): Promise<DiscoveryResult> {
    const advertisers = await tiktokAdvertisers(tokens, ctx);
    if (advertisers.length === 0) {
      throw new OAuthFlowError('nothing_found', 'This authorization reaches no advertiser account (it was withdrawn, or none was ticked). Connect again.');
    }
    const [pickedAdvertiser, pickedPixel] = picks;
    if (pickedAdvertiser === undefined) {
      const choices: DiscoveryChoice[] = advertisers.map((a) => ({ id: a.id, label: a.name ?? `Advertiser ${a.id}`, detail: `advertiser ${a.id}` }));
      return { kind: 'choose', step: { key: 'advertiser', title: 'Which TikTok ad account (advertiser)?', choices } };
    }
    const advertiser = advertisers.find((a) => a.id === pickedAdvertiser);
    if (advertiser === undefined) throw new OAuthFlowError('refused', 'The advertiser picked is not among those this authorization reaches. Pick again.');
    const label = advertiser.name ?? `Advertiser ${advertiser.id}`;
    const pixels = await tiktokPixels(tokens, advertiser.id, ctx);
    if (pixels.length === 0) {
      throw new OAuthFlowError('nothing_found', `${label} has no pixel. Create one in TikTok Events Manager (Web Events → Set up web events), then connect again.`);
    }
    if (pickedPixel === undefined) {
      return {
        kind: 'choose',
        step: { key: 'pixel', title: `Which pixel of ${label}?`, choices: pixels.map((p) => ({ id: p.code, label: p.name ?? p.code, detail: `pixel code ${p.code}` })) },
      };
    }
    const pixel = pixels.find((p) => p.code === pickedPixel);
    if (pixel === undefined) throw new OAuthFlowError('refused', 'The pixel picked is not among this advertiser\'s. Pick again.');
    return { kind: 'done', settings: { pixel_code: pixel.code }, summary: `${pixel.name ?? pixel.code} (${pixel.code}) · ${label} (${advertiser.id})` };
  },

  credentials(tokens) {
    return { access_token: tokens.accessToken };
  },

  health(grant) {
    // Advertiser tokens do not expire; an expiry TikTok did send is kept, and only a new authorization renews it.
    return grant.expiresAt === undefined ? {} : { userActionBy: grant.expiresAt };
  },
};
