/**
 * Fake TikTok advertiser authorization (oauth.md §4, checks §5.3): the `/portal/auth` consent, and under
 * `/open_api/v1.3/`: `oauth2/access_token/`, `oauth2/advertiser/get/`, `pixel/list/` and `oauth2/revoke_token/`.
 * Every answer is HTTP 200 with TikTok's envelope (`code`, `message`, `request_id`, `data`). The issued
 * tokens are shared with the Events API fake, which refuses them once revoked here. Pure request → answer logic.
 */
import { randomBytes } from 'node:crypto';
import { tiktokRequestId } from './ids.js';
import { header, isRecord, type FakeAnswer, type FakeHttpRequest } from './request.js';
import type { FakeConsentStep, FakeTikTokOAuthSeed, FakeTikTokTokenInfo } from './types.js';

const API = '/open_api/v1.3/';
/** A TikTok developer app registers at most 10 advertiser redirect URLs (oauth.md §4.1). */
export const TIKTOK_MAX_REDIRECT_URIS = 10;
/** Permission ids the fake grants (`data.scope`, a list of numbers, oauth.md §4.2). */
export const TIKTOK_FAKE_SCOPE: readonly number[] = [4, 5, 6, 12];

/** Messages of the codes the OAuth fake answers (oauth.md §4.2, §4.4; 40101, 40105 and 40110 are UNCONFIRMED there). */
export const TIKTOK_OAUTH_MESSAGES = {
  40001: 'No permission to operate this advertiser. The advertiser has not authorized your app.',
  40002: 'Invalid parameter',
  40101: 'The app_id or secret is invalid.',
  40105: 'The access token is missing, incorrect or has been revoked.',
  40110: 'The auth_code is invalid, expired or has already been used.',
} as const;

interface PendingAuthCode {
  redirectUri: string;
  advertiserIds: readonly string[];
  createdAtMs: number;
  used: boolean;
}

interface IssuedTikTokToken {
  advertiserIds: readonly string[];
  revoked: boolean;
}

/** The seeded TikTok world of the OAuth fake, its auth codes and the tokens it issued. */
export class TikTokOAuthWorld {
  readonly seed: FakeTikTokOAuthSeed;
  readonly #redirectUris: string[];
  readonly #codes = new Map<string, PendingAuthCode>();
  readonly #tokens = new Map<string, IssuedTikTokToken>();
  /** Advertisers that withdrew their authorization of the app (a test control). */
  readonly withdrawn = new Set<string>();

  constructor(seed: FakeTikTokOAuthSeed) {
    this.seed = seed;
    this.#redirectUris = [...(seed.app.redirectUris ?? [])];
  }

  /** Register an advertiser redirect URL; throws past TikTok's 10. */
  allowRedirectUri(uri: string): void {
    if (this.#redirectUris.includes(uri)) return;
    if (this.#redirectUris.length >= TIKTOK_MAX_REDIRECT_URIS) {
      throw new Error(`A TikTok app has at most ${TIKTOK_MAX_REDIRECT_URIS} advertiser redirect URLs.`);
    }
    this.#redirectUris.push(uri);
  }

  hasRedirectUri(uri: string): boolean {
    return this.#redirectUris.includes(uri);
  }

  /** Every pixel code of the seed: the Events API fake accepts events for them. */
  allPixelCodes(): Set<string> {
    return new Set(this.seed.advertisers.flatMap((a) => a.pixels.map((p) => p.code)));
  }

  newCode(code: Omit<PendingAuthCode, 'used'>): string {
    const value = randomBytes(20).toString('hex');
    this.#codes.set(value, { ...code, used: false });
    return value;
  }

  code(value: string): PendingAuthCode | undefined {
    return this.#codes.get(value);
  }

  issue(advertiserIds: readonly string[]): string {
    const value = randomBytes(20).toString('hex');
    this.#tokens.set(value, { advertiserIds, revoked: false });
    return value;
  }

  /** A live token (issued, not revoked), or `undefined`. */
  live(value: string | undefined): IssuedTikTokToken | undefined {
    const token = value === undefined ? undefined : this.#tokens.get(value);
    return token === undefined || token.revoked ? undefined : token;
  }

  isIssued(value: string): boolean {
    return this.#tokens.has(value);
  }

  /** Revoke one token, or every token issued so far; returns how many. */
  revoke(only?: string): number {
    let n = 0;
    for (const [value, token] of this.#tokens) {
      if (only !== undefined && value !== only) continue;
      if (!token.revoked) n += 1;
      token.revoked = true;
    }
    return n;
  }

  /** The advertisers a token can still reach. */
  authorized(token: IssuedTikTokToken): string[] {
    return token.advertiserIds.filter((id) => !this.withdrawn.has(id));
  }

  issued(): FakeTikTokTokenInfo[] {
    return [...this.#tokens].map(([token, t]) => ({ token, advertiserIds: [...t.advertiserIds], live: !t.revoked }));
  }
}

/** What the TikTok OAuth routes need. */
export interface TikTokOAuthContext {
  world: TikTokOAuthWorld;
  now: () => Date;
}

const html = (status: number, text: string): FakeAnswer => ({
  status,
  body: `<!doctype html><title>TikTok For Business</title><h1>Authorization failed</h1><p>${text.replace(/[<>&]/g, '')}</p>`,
  headers: { 'content-type': 'text/html; charset=utf-8' },
});

function envelope(now: Date, code: number, message: string, data: unknown = {}): FakeAnswer {
  return { status: 200, body: { code, message, request_id: tiktokRequestId(now), data } };
}

const fail = (now: Date, code: keyof typeof TIKTOK_OAUTH_MESSAGES, detail?: string): FakeAnswer =>
  envelope(now, code, detail === undefined ? TIKTOK_OAUTH_MESSAGES[code] : `${TIKTOK_OAUTH_MESSAGES[code]} ${detail}`);

/**
 * `GET /portal/auth` (oauth.md §4.1, §5.3). With no scripted consent the advertiser approves at once:
 * a 302 with `auth_code` and `code` (the same value) and `state` when sent.
 */
export function handleTikTokPortal(req: FakeHttpRequest, ctx: TikTokOAuthContext, consent: FakeConsentStep | undefined): FakeAnswer {
  if (req.method !== 'GET' || req.path !== '/portal/auth') return html(404, `Page not found: ${req.method} ${req.path} (the page is GET /portal/auth).`);
  const { world } = ctx;
  const q = req.query;
  const app = world.seed.app;
  if ([...q.values()].includes(app.secret) || q.has('secret')) return html(400, 'The app secret must never appear in the authorization URL.');
  if (q.get('app_id') !== app.id) return html(400, 'The app does not exist or is not approved.');
  const redirectUri = q.get('redirect_uri') ?? '';
  if (!world.hasRedirectUri(redirectUri)) return html(400, "The redirect_uri does not match the app's advertiser redirect URL.");
  const url = new URL(redirectUri);
  const state = q.get('state');
  if (state !== null) url.searchParams.set('state', state);
  if (consent?.decision === 'error_page') return html(500, 'Something went wrong. Please try again later.');
  if (consent?.decision !== 'deny') {
    const advertiserIds = consent?.advertisers ?? world.seed.advertisers.map((a) => a.id);
    const unknown = advertiserIds.find((id) => !world.seed.advertisers.some((a) => a.id === id));
    if (unknown !== undefined) return html(400, `The fake has no advertiser ${unknown}.`);
    const code = world.newCode({ redirectUri, advertiserIds, createdAtMs: ctx.now().getTime() });
    if (consent?.codeOnly !== true) url.searchParams.set('auth_code', code);
    url.searchParams.set('code', code);
  }
  // A denial comes back with the state only, no code (UNCONFIRMED, oauth.md §4.1).
  return { status: 302, body: undefined, headers: { location: url.toString() } };
}

function handleAccessToken(req: FakeHttpRequest, ctx: TikTokOAuthContext, now: Date): FakeAnswer {
  if (req.method !== 'POST') return fail(now, 40002, 'Use POST.');
  if (req.body.kind !== 'json' || !isRecord(req.body.value)) return fail(now, 40002, 'body: Not a valid JSON object (send application/json).');
  const body = req.body.value;
  const app = ctx.world.seed.app;
  for (const field of ['app_id', 'secret', 'auth_code']) {
    if (typeof body[field] !== 'string' || body[field] === '') return fail(now, 40002, `${field}: Field required.`);
  }
  if (body['app_id'] !== app.id || body['secret'] !== app.secret) return fail(now, 40101);
  const code = ctx.world.code(String(body['auth_code']));
  if (code === undefined || code.used || now.getTime() - code.createdAtMs >= ctx.world.seed.codeTtlSeconds * 1000) return fail(now, 40110);
  code.used = true;
  const token = ctx.world.issue(code.advertiserIds);
  return envelope(now, 0, 'OK', { access_token: token, advertiser_ids: [...code.advertiserIds], scope: [...TIKTOK_FAKE_SCOPE] });
}

function tokenOf(req: FakeHttpRequest, ctx: TikTokOAuthContext): IssuedTikTokToken | undefined {
  return ctx.world.live(header(req.headers, 'access-token'));
}

function handleAdvertiserGet(req: FakeHttpRequest, ctx: TikTokOAuthContext, now: Date): FakeAnswer {
  if (req.method !== 'GET') return fail(now, 40002, 'Use GET.');
  const token = tokenOf(req, ctx);
  if (token === undefined) return fail(now, 40105);
  const app = ctx.world.seed.app;
  if (req.query.get('app_id') !== app.id || req.query.get('secret') !== app.secret) return fail(now, 40101);
  const list = ctx.world.authorized(token).map((id) => {
    const advertiser = ctx.world.seed.advertisers.find((a) => a.id === id);
    return { advertiser_id: id, advertiser_name: advertiser?.name ?? '' };
  });
  return envelope(now, 0, 'OK', { list });
}

function handlePixelList(req: FakeHttpRequest, ctx: TikTokOAuthContext, now: Date): FakeAnswer {
  if (req.method !== 'GET') return fail(now, 40002, 'Use GET.');
  const token = tokenOf(req, ctx);
  if (token === undefined) return fail(now, 40105);
  const advertiserId = req.query.get('advertiser_id');
  if (advertiserId === null || advertiserId === '') return fail(now, 40002, 'advertiser_id: Field required.');
  if (!ctx.world.authorized(token).includes(advertiserId)) return fail(now, 40001);
  const pageText = req.query.get('page') ?? '1';
  const sizeText = req.query.get('page_size') ?? '10';
  const page = Number(pageText);
  const size = Number(sizeText);
  if (!/^\d+$/.test(pageText) || page < 1) return fail(now, 40002, 'page: Must be greater than or equal to 1.');
  if (!/^\d+$/.test(sizeText) || size < 1 || size > 20) return fail(now, 40002, 'page_size: Must be between 1 and 20.');
  const pixels = ctx.world.seed.advertisers.find((a) => a.id === advertiserId)?.pixels ?? [];
  const rows = pixels.slice((page - 1) * size, page * size).map((p) => ({
    pixel_id: p.id,
    pixel_code: p.code,
    pixel_name: p.name,
    pixel_setup_mode: 'DEVELOPER',
    create_time: '2026-01-05 10:00:00',
    partner_name: '',
    asset_ownership: { asset_relation_status: p.unbound === true ? 'UNBOUND' : null, ownership_status: p.unbound !== true, owner_bc_id: null },
    events: [],
  }));
  return envelope(now, 0, 'OK', {
    pixels: rows,
    page_info: { page, page_size: size, total_number: pixels.length, total_page: Math.ceil(pixels.length / size) },
  });
}

function handleRevoke(req: FakeHttpRequest, ctx: TikTokOAuthContext, now: Date): FakeAnswer {
  if (req.method !== 'POST') return fail(now, 40002, 'Use POST.');
  if (req.body.kind !== 'json' || !isRecord(req.body.value)) return fail(now, 40002, 'body: Not a valid JSON object (send application/json).');
  const body = req.body.value;
  for (const field of ['app_id', 'secret', 'access_token']) {
    if (typeof body[field] !== 'string' || body[field] === '') return fail(now, 40002, `${field}: Field required.`);
  }
  const app = ctx.world.seed.app;
  if (body['app_id'] !== app.id || body['secret'] !== app.secret) return fail(now, 40101);
  const value = String(body['access_token']);
  const token = ctx.world.live(value);
  if (token === undefined) return fail(now, 40105);
  ctx.world.revoke(value);
  return envelope(now, 0, 'OK', { app_id: app.id, advertiser_ids: [...token.advertiserIds] });
}

/**
 * Answer a request of the OAuth surface under the TikTok API route, or `undefined` when the path
 * is not one (the Events API handler then answers).
 */
export function handleTikTokOAuthApi(req: FakeHttpRequest, ctx: TikTokOAuthContext): FakeAnswer | undefined {
  if (!req.path.startsWith(API)) return undefined;
  const now = ctx.now();
  switch (req.path.slice(API.length)) {
    case 'oauth2/access_token/':
      return handleAccessToken(req, ctx, now);
    case 'oauth2/advertiser/get/':
      return handleAdvertiserGet(req, ctx, now);
    case 'pixel/list/':
      return handlePixelList(req, ctx, now);
    case 'oauth2/revoke_token/':
      return handleRevoke(req, ctx, now);
    default:
      return undefined;
  }
}

/**
 * The Events API's view of a token: `'unknown'` when this world never issued it, else the
 * answer refusing it (revoked, or no advertiser of the token owns the pixel), or `undefined` when allowed.
 */
export function trackTokenCheck(ctx: TikTokOAuthContext, value: string, pixelCode: string): FakeAnswer | undefined | 'unknown' {
  if (!ctx.world.isIssued(value)) return 'unknown';
  const now = ctx.now();
  const token = ctx.world.live(value);
  if (token === undefined) return envelope(now, 40001, 'Access token is invalid or has been revoked.');
  const owner = ctx.world.seed.advertisers.find((a) => a.pixels.some((p) => p.code === pixelCode));
  if (owner === undefined || !ctx.world.authorized(token).includes(owner.id)) {
    return envelope(now, 40001, 'No permission to operate pixel code. You must be an admin or operator of this advertiser account.');
  }
  return undefined;
}
