/**
 * Meta's "Connect": Facebook Login for Business with a configuration (`config_id`), the code exchange,
 * the datasets (pixels) the token reaches, and what the token's lifetime asks of the user (oauth.md §3).
 *
 * Which token (oauth.md §3.1): Pruuv asks for a configuration whose token type is **System-user access
 * token**. The consent then yields a Business Integration System User (BISU) token for the client's
 * business, which "defaults to never expire" and is meant for "hourly, automated server-to-server
 * conversion API calls" (M-FLB): the connection keeps working without the user. A configuration of
 * type **User access token** also works: its short-lived token is exchanged at once for a long-lived one
 * (about 60 days, M-LL), and the connection then asks the user to reconnect before it ends.
 */
import { createHmac } from 'node:crypto';
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
import { META_API_VERSION, META_BASE_URL } from './request.js';

/** The login dialog's host (oauth.md §3.2); the dialog is `/{v}/dialog/oauth` under it. */
export const META_DIALOG_URL = 'https://www.facebook.com';

/** The variable holding the Facebook Login for Business configuration id. */
export const META_CONFIG_ID_ENV = 'PRUUV_META_APP_CONFIG_ID';

/**
 * The permissions the configuration must grant: `ads_read` and `business_management`, the CAPI template's
 * recommended pair (M-TPL); dataset reads need `ads_read` plus `ads_management` or `business_management` (M-DQ).
 */
export const META_REQUIRED_PERMISSIONS = ['ads_read', 'business_management'] as const;

/** Pages followed at most in one list, so a platform that keeps sending `next` cannot hold the picker forever. */
const MAX_PAGES = 200;
/** Rows asked per page (`limit`); Graph may send fewer, and `next` alone says whether more follow. */
const PAGE_LIMIT = 100;

const graphError = z.object({
  error: z.object({
    message: z.string().optional(),
    type: z.string().optional(),
    code: z.number().int(),
    error_subcode: z.number().int().optional(),
    fbtrace_id: z.string().optional(),
  }),
});

const tokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  // Absent (or 0) for system-user tokens: they do not expire (oauth.md §3.3).
  expires_in: z.number().nonnegative().optional(),
});

const debugToken = z.object({
  data: z.object({
    app_id: z.union([z.string(), z.number()]).optional(),
    type: z.string().optional(),
    is_valid: z.boolean(),
    expires_at: z.number().optional(),
    scopes: z.array(z.string()).optional(),
    error: z.object({ code: z.number().optional(), message: z.string().optional(), subcode: z.number().optional() }).optional(),
  }),
});

const pageSchema = z.object({
  data: z.array(z.unknown()),
  paging: z.object({ cursors: z.object({ after: z.string().optional() }).optional(), next: z.string().optional() }).optional(),
});

const pixelNode = z.object({ id: z.string().regex(/^\d+$/), name: z.string().optional(), is_unavailable: z.boolean().optional(), last_fired_time: z.string().optional() });
const businessNode = z.object({ id: z.string().regex(/^\d+$/), name: z.string().optional() });
const adAccountNode = z.object({ id: z.string(), account_id: z.string().regex(/^\d+$/), name: z.string().optional() });
const meNode = z.object({ id: z.string(), client_business_id: z.string().regex(/^\d+$/).optional() });

/** A dataset (pixel) a person can pick. */
export interface MetaPixelChoice {
  id: string;
  name?: string;
  /** Where it was found: `owned`, `shared` (a client's, `client_pixels`) or `ad account`. */
  via: 'owned' | 'shared' | 'ad account';
  lastFiredTime?: string;
  unavailable: boolean;
}

/**
 * The Graph error a call answered, read into a flow failure. The message keeps Meta's own words; never a token.
 * `exchange`: the call was the code exchange, where a bare code 100 is a malformed or unknown code.
 */
export function metaGraphFailure(res: HttpResponse, what: string, exchange = false): OAuthFlowError {
  const parsed = graphError.safeParse(res.json);
  if (!parsed.success) return new OAuthFlowError('refused', `Meta answered ${what} with HTTP ${res.status} and an unexpected body.`, `http_${res.status}`);
  const e = parsed.data.error;
  const code = e.error_subcode === undefined ? String(e.code) : `${e.code}/${e.error_subcode}`;
  const said = e.message === undefined ? '' : `: ${e.message}`;
  // Code exchange (oauth.md §3.3 table).
  if (e.code === 100 && e.error_subcode === 36008) {
    return new OAuthFlowError('redirect_uri_mismatch', `Meta refused ${what} (${code}${said}). Add the exact redirect URI shown on this page to the app's Valid OAuth Redirect URIs.`, code);
  }
  if (e.code === 100 && (e.error_subcode === 36009 || e.error_subcode === 36007)) {
    return new OAuthFlowError('invalid_grant', `Meta refused ${what} (${code}${said}). Start again from Connect.`, code);
  }
  if (e.code === 101 || e.code === 1) {
    return new OAuthFlowError('invalid_client', `Meta refused ${what} (${code}${said}). Check PRUUV_META_APP_ID and PRUUV_META_APP_SECRET.`, code);
  }
  // Token health (oauth.md §3.5): 190 (any subcode) and 102 mean the token no longer works.
  if (e.code === 190 || e.code === 102) return new OAuthFlowError('token_revoked', `Meta refused the token while ${what} (${code}${said}). Reconnect.`, code);
  // 10 and 200-299: a permission is missing.
  if (e.code === 10 || (e.code >= 200 && e.code <= 299)) {
    return new OAuthFlowError('scope_missing', `Meta says a permission is missing while ${what} (${code}${said}). Connect again and grant every permission asked.`, code);
  }
  if (exchange && e.code === 100) {
    return new OAuthFlowError('invalid_grant', `Meta refused ${what} (${code}${said}). Start again from Connect.`, code);
  }
  return new OAuthFlowError('refused', `Meta refused ${what} (${code}${said}).`, code);
}

const graphBase = (ctx: OAuthCallContext): string => `${ctx.urls['meta'] ?? META_BASE_URL}/${ctx.versions['meta'] ?? META_API_VERSION}`;

/** `appsecret_proof`: hex HMAC-SHA256 of the token keyed with the app secret, for apps that "Require App Secret" (oauth.md §3.4). */
export function appsecretProof(accessToken: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(accessToken).digest('hex');
}

/** The login dialog URL (oauth.md §3.2): `config_id` replaces `scope`, which is not sent. Pure. */
export function metaAuthorizeUrl(input: { state: string; redirectUri: string }, ctx: Pick<OAuthCallContext, 'app' | 'urls' | 'versions'>): string {
  const configId = ctx.app.extra?.[META_CONFIG_ID_ENV];
  if (configId === undefined || configId === '') {
    throw new OAuthFlowError('invalid_client', `Set ${META_CONFIG_ID_ENV} to the Facebook Login for Business configuration id (README, "Connect your ad accounts").`);
  }
  const url = new URL(`${ctx.urls['authorize'] ?? META_DIALOG_URL}/${ctx.versions['meta'] ?? META_API_VERSION}/dialog/oauth`);
  url.searchParams.set('client_id', ctx.app.clientId);
  url.searchParams.set('redirect_uri', input.redirectUri);
  url.searchParams.set('state', input.state);
  // System-user configurations accept only the code flow (M-FLB).
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('config_id', configId);
  return url.href;
}

/** Reads the redirect back: a code, or Meta's `error_reason=user_denied` / `error=access_denied` (oauth.md §3.2). Pure. */
export function readMetaCallback(query: URLSearchParams): CallbackResult {
  const error = query.get('error') ?? query.get('error_reason');
  if (error !== null && error !== '') {
    const description = query.get('error_description');
    return description === null || description === '' ? { kind: 'denied', error } : { kind: 'denied', error, description };
  }
  const code = query.get('code');
  return code !== null && code !== '' ? { kind: 'code', code } : { kind: 'denied', error: 'no_code' };
}

/** Reads a token answer (code exchange or `fb_exchange_token`). Pure. */
export function readMetaToken(res: HttpResponse, now: Date, what: string): { accessToken: string; expiresAt?: Date } {
  if (res.status !== 200) throw metaGraphFailure(res, what, true);
  const ok = tokenResponse.safeParse(res.json);
  if (!ok.success) throw new OAuthFlowError('refused', `Meta answered ${what} with an unexpected body (no access_token).`);
  const out: { accessToken: string; expiresAt?: Date } = { accessToken: ok.data.access_token };
  if (ok.data.expires_in !== undefined && ok.data.expires_in > 0) out.expiresAt = new Date(now.getTime() + ok.data.expires_in * 1000);
  return out;
}

async function graphGet(ctx: OAuthCallContext, url: URL, accessToken: string, what: string): Promise<HttpResponse> {
  url.searchParams.set('access_token', accessToken);
  url.searchParams.set('appsecret_proof', appsecretProof(accessToken, ctx.app.clientSecret));
  const res = await oauthCall(ctx, { method: 'GET', url: url.href, headers: {} }, 'Meta');
  if (res.status !== 200) throw metaGraphFailure(res, what);
  return res;
}

/**
 * Every row of a Graph edge (oauth.md §3.4 paging): the next page is asked with `after` on the configured
 * base, for as long as the answer carries `next` (a page may be short, or even empty, and still have one).
 * The `next` URL itself is not followed, so the token only ever goes to the configured Graph host.
 */
export async function metaListAll(ctx: OAuthCallContext, accessToken: string, path: string, fields: string, what: string): Promise<unknown[]> {
  const rows: unknown[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const url = new URL(`${graphBase(ctx)}/${path}`);
    url.searchParams.set('fields', fields);
    url.searchParams.set('limit', String(PAGE_LIMIT));
    if (after !== undefined) url.searchParams.set('after', after);
    const res = await graphGet(ctx, url, accessToken, what);
    const parsed = pageSchema.safeParse(res.json);
    if (!parsed.success) throw new OAuthFlowError('refused', `Meta answered ${what} with an unexpected body.`);
    rows.push(...parsed.data.data);
    const next = parsed.data.paging?.next;
    after = parsed.data.paging?.cursors?.after;
    if (next === undefined || after === undefined) return rows;
  }
  return rows;
}

const PIXEL_FIELDS = 'id,name,last_fired_time,is_unavailable';

function pixelsOf(rows: readonly unknown[], via: MetaPixelChoice['via']): MetaPixelChoice[] {
  return rows.flatMap((r) => {
    const p = pixelNode.safeParse(r);
    if (!p.success) return [];
    const c: MetaPixelChoice = { id: p.data.id, via, unavailable: p.data.is_unavailable === true };
    if (p.data.name !== undefined) c.name = p.data.name;
    if (p.data.last_fired_time !== undefined) c.lastFiredTime = p.data.last_fired_time;
    return [c];
  });
}

/** Merge pixel lists by id, first one wins (owned before shared, oauth.md §3.4). Pure. */
export function mergePixels(...lists: ReadonlyArray<readonly MetaPixelChoice[]>): MetaPixelChoice[] {
  const seen = new Map<string, MetaPixelChoice>();
  for (const list of lists) for (const p of list) if (!seen.has(p.id)) seen.set(p.id, p);
  return [...seen.values()];
}

/** The datasets of one business: `owned_pixels` and `client_pixels`, merged (oauth.md §3.4). */
export async function metaBusinessPixels(ctx: OAuthCallContext, accessToken: string, businessId: string): Promise<MetaPixelChoice[]> {
  const owned = await metaListAll(ctx, accessToken, `${businessId}/owned_pixels`, PIXEL_FIELDS, `listing the datasets of business ${businessId}`);
  const shared = await metaListAll(ctx, accessToken, `${businessId}/client_pixels`, PIXEL_FIELDS, `listing the datasets shared with business ${businessId}`);
  return mergePixels(pixelsOf(owned, 'owned'), pixelsOf(shared, 'shared'));
}

function pixelChoice(p: MetaPixelChoice): DiscoveryChoice {
  const detail = [`dataset ${p.id}`, p.via === 'shared' ? 'shared by a client business' : p.via === 'ad account' ? 'used by this ad account' : 'owned by the business',
    p.unavailable ? 'unavailable' : p.lastFiredTime === undefined ? 'never fired' : `last event ${p.lastFiredTime.slice(0, 10)}`].join(' · ');
  return { id: p.id, label: p.name ?? `Dataset ${p.id}`, detail };
}

const noPixels = (where: string): OAuthFlowError =>
  new OAuthFlowError(
    'nothing_found',
    `${where} reaches no dataset (pixel). Create one in Events Manager, or give this login at least "Use events dataset" access to it, then connect again.`,
  );

function chosenPixel(pixels: readonly MetaPixelChoice[], pick: string, where: string): DiscoveryResult {
  const pixel = pixels.find((p) => p.id === pick);
  if (pixel === undefined) throw new OAuthFlowError('refused', 'The dataset picked is not among those this login reaches. Pick again.');
  return { kind: 'done', settings: { pixel_id: pixel.id }, summary: `${pixel.name ?? 'Dataset'} (${pixel.id}) · ${where}` };
}

/** The discovery of a system-user token: its one client business, then a dataset of it. */
async function discoverSystemUser(tokens: OAuthTokenSet, businessId: string, picks: readonly string[], ctx: OAuthCallContext): Promise<DiscoveryResult> {
  const pixels = await metaBusinessPixels(ctx, tokens.accessToken, businessId);
  const where = `business ${businessId}`;
  if (pixels.length === 0) throw noPixels(`The business that consented (${businessId})`);
  const [pick] = picks;
  if (pick === undefined) {
    return { kind: 'choose', step: { key: 'pixel', title: 'Which dataset (pixel) receives the conversions?', choices: pixels.map(pixelChoice) } };
  }
  return chosenPixel(pixels, pick, where);
}

/** The discovery of a user token: a business portfolio or an ad account, then a dataset of it. */
async function discoverUser(tokens: OAuthTokenSet, picks: readonly string[], ctx: OAuthCallContext): Promise<DiscoveryResult> {
  const businesses = (await metaListAll(ctx, tokens.accessToken, 'me/businesses', 'id,name', 'listing the business portfolios')).flatMap((r) => {
    const b = businessNode.safeParse(r);
    return b.success ? [b.data] : [];
  });
  const accounts = (await metaListAll(ctx, tokens.accessToken, 'me/adaccounts', 'id,account_id,name', 'listing the ad accounts')).flatMap((r) => {
    const a = adAccountNode.safeParse(r);
    return a.success ? [a.data] : [];
  });
  const sources: DiscoveryChoice[] = [
    ...businesses.map((b) => ({ id: `business:${b.id}`, label: b.name ?? `Business ${b.id}`, detail: `business portfolio ${b.id}` })),
    ...accounts.map((a) => ({ id: `act:${a.account_id}`, label: a.name ?? `Ad account ${a.account_id}`, detail: `ad account ${a.account_id}` })),
  ];
  if (sources.length === 0) {
    throw new OAuthFlowError('nothing_found', 'This Facebook login reaches no business portfolio and no ad account. Log in with a person who has access to the client\'s business, then connect again.');
  }
  const [source, pick] = picks;
  if (source === undefined) {
    return { kind: 'choose', step: { key: 'source', title: 'Which business portfolio or ad account?', choices: sources } };
  }
  const chosen = sources.find((s) => s.id === source);
  if (chosen === undefined) throw new OAuthFlowError('refused', 'The business or ad account picked is not among those this login reaches. Pick again.');
  const [kind, id = ''] = source.split(':');
  const pixels = kind === 'business'
    ? await metaBusinessPixels(ctx, tokens.accessToken, id)
    : pixelsOf(await metaListAll(ctx, tokens.accessToken, `act_${id}/adspixels`, PIXEL_FIELDS, `listing the datasets of ad account ${id}`), 'ad account');
  if (pixels.length === 0) throw noPixels(chosen.label);
  if (pick === undefined) {
    return { kind: 'choose', step: { key: 'pixel', title: `Which dataset (pixel) of ${chosen.label}?`, choices: pixels.map(pixelChoice) } };
  }
  return chosenPixel(pixels, pick, chosen.label);
}

/** Meta's OAuth provider: Facebook Login for Business (system-user or long-lived user token), then a dataset. */
export const metaOAuth: OAuthProvider = {
  platform: 'meta',
  env: {
    clientId: 'PRUUV_META_APP_ID',
    clientSecret: 'PRUUV_META_APP_SECRET',
    extra: [META_CONFIG_ID_ENV],
    urls: { authorize: 'PRUUV_META_OAUTH_URL', meta: 'PRUUV_META_API_URL' },
  },
  urls: { authorize: META_DIALOG_URL, meta: META_BASE_URL },
  // Meta's PKCE flow is OIDC-only and "still in testing" (M-OIDC): not used.
  pkce: false,
  // No API revokes a system-user token (oauth.md §3.3): the client removes the app (M-FLB).
  disconnectHint:
    "Meta offers no way for Pruuv to revoke the token: remove the app in the client's Business Settings → Integrations → Connected apps (a user token: Settings & privacy → Security and login → Business Integrations).",
  fills: ['pixel_id', 'access_token'],

  authorizeUrl(input, ctx) {
    return metaAuthorizeUrl(input, ctx);
  },

  readCallback: readMetaCallback,

  async exchangeCode(input, ctx) {
    const url = new URL(`${graphBase(ctx)}/oauth/access_token`);
    url.searchParams.set('client_id', ctx.app.clientId);
    // Sent, and identical to the dialog's: an omitted or different one is subcode 36008 (M-OBS).
    url.searchParams.set('redirect_uri', input.redirectUri);
    url.searchParams.set('client_secret', ctx.app.clientSecret);
    url.searchParams.set('code', input.code);
    const first = readMetaToken(await oauthCall(ctx, { method: 'GET', url: url.href, headers: {} }, "Meta's token endpoint"), ctx.now(), 'the authorization code');
    let token = first;
    if (first.expiresAt !== undefined) {
      // A user token lasts hours: exchange it at once for a long-lived one, about 60 days (M-LL).
      const long = new URL(`${graphBase(ctx)}/oauth/access_token`);
      long.searchParams.set('grant_type', 'fb_exchange_token');
      long.searchParams.set('client_id', ctx.app.clientId);
      long.searchParams.set('client_secret', ctx.app.clientSecret);
      long.searchParams.set('fb_exchange_token', first.accessToken);
      token = readMetaToken(await oauthCall(ctx, { method: 'GET', url: long.href, headers: {} }, "Meta's token endpoint"), ctx.now(), 'the long-lived token exchange');
    }
    // debug_token says what was granted, and when the token ends (0 = never, oauth.md §3.5).
    const debug = new URL(`${graphBase(ctx)}/debug_token`);
    debug.searchParams.set('input_token', token.accessToken);
    debug.searchParams.set('access_token', `${ctx.app.clientId}|${ctx.app.clientSecret}`);
    const res = await oauthCall(ctx, { method: 'GET', url: debug.href, headers: {} }, "Meta's debug_token");
    if (res.status !== 200) throw metaGraphFailure(res, 'checking the new token');
    const info = debugToken.safeParse(res.json);
    if (!info.success) throw new OAuthFlowError('refused', 'Meta answered debug_token with an unexpected body.');
    const d = info.data.data;
    if (!d.is_valid) throw new OAuthFlowError('token_revoked', `Meta says the new token is not valid${d.error?.message === undefined ? '' : `: ${d.error.message}`}. Connect again.`, 'is_valid_false');
    if (d.app_id !== undefined && String(d.app_id) !== ctx.app.clientId) {
      throw new OAuthFlowError('invalid_client', `Meta issued the token for app ${String(d.app_id)}, not PRUUV_META_APP_ID.`, 'app_mismatch');
    }
    const scopes = d.scopes ?? [];
    const missing = META_REQUIRED_PERMISSIONS.filter((p) => !scopes.includes(p));
    if (missing.length > 0) {
      throw new OAuthFlowError('scope_missing', `Meta granted no ${missing.join(', ')}. Add ${missing.length === 1 ? 'it' : 'them'} to the Facebook Login for Business configuration and connect again, granting every permission.`, 'scope_missing');
    }
    const out: OAuthTokenSet = { accessToken: token.accessToken, scopes };
    const expiresAt = d.expires_at !== undefined && d.expires_at > 0 ? new Date(d.expires_at * 1000) : token.expiresAt;
    if (expiresAt !== undefined) out.expiresAt = expiresAt;
    return out;
  },

  async discover(tokens, picks, ctx) {
    // A system-user token names its client business (M-FLB); a user token has no such field and Graph says so (code 100).
    const url = new URL(`${graphBase(ctx)}/me`);
    url.searchParams.set('fields', 'client_business_id');
    let businessId: string | undefined;
    try {
      const me = meNode.safeParse((await graphGet(ctx, url, tokens.accessToken, 'reading who consented')).json);
      if (!me.success) throw new OAuthFlowError('refused', 'Meta answered /me with an unexpected body.');
      businessId = me.data.client_business_id;
    } catch (error) {
      if (!(error instanceof OAuthFlowError && error.platformError === '100')) throw error;
    }
    return businessId === undefined ? discoverUser(tokens, picks, ctx) : discoverSystemUser(tokens, businessId, picks, ctx);
  },

  credentials(tokens) {
    return { access_token: tokens.accessToken };
  },

  health(grant) {
    // A system-user token has no end; a long-lived user token ends in about 60 days and only a new login renews it (M-LL).
    // No accessExpiresAt: nothing renews the token by itself, the user does.
    return grant.expiresAt === undefined ? {} : { userActionBy: grant.expiresAt };
  },
};
