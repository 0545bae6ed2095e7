/**
 * Fake Facebook Login for Business and the Graph reads of "Connect with OAuth" (oauth.md §3, checks §5.2):
 * the `/{v}/dialog/oauth` consent, `/{v}/oauth/access_token` (code exchange and `fb_exchange_token`),
 * `/{v}/debug_token`, `/{v}/me`, `/me/businesses`, `/me/adaccounts`, `/act_{id}/adspixels`,
 * `/{biz}/owned_pixels`, `/{biz}/client_pixels` and `/{biz}/system_user_access_tokens`.
 * The issued tokens are shared with the Conversions API fake, which refuses them once killed here.
 * Pure request → answer logic over a {@link MetaOAuthWorld}; the server in `server.ts` does the HTTP.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { metaErrorBody } from './meta.js';
import { isRecord, type FakeAnswer, type FakeHttpRequest } from './request.js';
import type { FakeConsentStep, FakeMetaOAuthSeed, FakeMetaPixel, FakeMetaTokenInfo } from './types.js';

/** Graph versions look like `v26.0` (oauth.md §5.2). */
const VERSION = /^v\d+\.0$/;
/** Lifetime of a short-lived user token from the code exchange (oauth.md §5.2). */
export const META_SHORT_LIVED_SECONDS = 5400;
/** `expires_in` of a long-lived user token (M-LL sample, about 60 days). */
export const META_LONG_LIVED_SECONDS = 5_183_944;
/** Graph's default page size when `limit` is absent. */
const DEFAULT_LIMIT = 25;

/** The `error_subcode`s a test may kill a token with (oauth.md §3.5). */
export type MetaKillSubcode = 458 | 460 | 463 | 467;

const KILL_MESSAGES: Readonly<Record<MetaKillSubcode, string>> = {
  458: 'Error validating access token: The user has not authorized application.',
  460: 'Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.',
  463: 'Error validating access token: Session has expired.',
  467: 'Error validating access token: The session is invalid because the user logged out.',
};

interface PendingCode {
  configId: string;
  redirectUri: string;
  tokenType: 'system_user' | 'user';
  scopes: readonly string[];
  businessId: string;
  createdAtMs: number;
  used: boolean;
}

/** A token the fake issued. */
interface IssuedMetaToken {
  kind: 'system_user' | 'user';
  /** BISU tokens belong to one client business; user tokens reach every seeded business. */
  businessId: string | undefined;
  scopes: readonly string[];
  issuedAtMs: number;
  expiresAtMs: number | undefined;
  killed: MetaKillSubcode | undefined;
}

/** The seeded Meta world of the OAuth fake, its codes and the tokens it issued. */
export class MetaOAuthWorld {
  readonly seed: FakeMetaOAuthSeed;
  readonly #redirectUris: Set<string>;
  readonly #codes = new Map<string, PendingCode>();
  readonly #tokens = new Map<string, IssuedMetaToken>();
  /** The absolute base URL of the Graph route, for `paging.next`. Set by the server once it listens. */
  graphBaseUrl = '';

  constructor(seed: FakeMetaOAuthSeed) {
    this.seed = seed;
    this.#redirectUris = new Set(seed.app.redirectUris ?? []);
  }

  allowRedirectUri(uri: string): void {
    this.#redirectUris.add(uri);
  }

  hasRedirectUri(uri: string): boolean {
    return this.#redirectUris.has(uri);
  }

  /** Every pixel id of the seed: the Conversions API fake accepts events for them. */
  allPixelIds(): Set<string> {
    const ids = new Set<string>();
    for (const b of this.seed.businesses) {
      for (const p of [...b.ownedPixels, ...b.clientPixels, ...b.adAccounts.flatMap((a) => a.pixels)]) ids.add(p.id);
    }
    return ids;
  }

  newCode(code: Omit<PendingCode, 'used'>): string {
    const value = `AQ${randomBytes(48).toString('base64url')}`;
    this.#codes.set(value, { ...code, used: false });
    return value;
  }

  code(value: string): PendingCode | undefined {
    return this.#codes.get(value);
  }

  issue(token: Omit<IssuedMetaToken, 'killed'>): string {
    const value = `EAAG${randomBytes(60).toString('base64url')}`;
    this.#tokens.set(value, { ...token, killed: undefined });
    return value;
  }

  token(value: string): IssuedMetaToken | undefined {
    return this.#tokens.get(value);
  }

  /** Kill one token, or every token issued so far; returns how many. */
  kill(subcode: MetaKillSubcode, only?: string): number {
    let n = 0;
    for (const [value, token] of this.#tokens) {
      if (only !== undefined && value !== only) continue;
      token.killed = subcode;
      n += 1;
    }
    return n;
  }

  /** The live tokens, newest last, for assertions. */
  issued(nowMs: number): FakeMetaTokenInfo[] {
    return [...this.#tokens].map(([token, t]) => ({
      token,
      kind: t.kind,
      businessId: t.businessId,
      scopes: [...t.scopes],
      expiresAt: t.expiresAtMs === undefined ? undefined : new Date(t.expiresAtMs),
      live: t.killed === undefined && (t.expiresAtMs === undefined || nowMs < t.expiresAtMs),
    }));
  }

  /** The pixels a token may send events to. */
  reachablePixels(token: IssuedMetaToken): Set<string> {
    const ids = new Set<string>();
    for (const b of this.seed.businesses) {
      if (token.businessId !== undefined && b.id !== token.businessId) continue;
      for (const p of [...b.ownedPixels, ...b.clientPixels, ...b.adAccounts.flatMap((a) => a.pixels)]) ids.add(p.id);
    }
    return ids;
  }
}

/** What the Meta OAuth routes need. */
export interface MetaOAuthContext {
  world: MetaOAuthWorld;
  now: () => Date;
}

const html = (status: number, text: string): FakeAnswer => ({
  status,
  body: `<!doctype html><title>Facebook</title><h1>Error</h1><p>${text.replace(/[<>&]/g, '')}</p>`,
  headers: { 'content-type': 'text/html; charset=utf-8' },
});

const graphError = (message: string, code: number, subcode?: number, type?: string): FakeAnswer => ({
  status: 400,
  body: metaErrorBody({ message, code, ...(subcode === undefined ? {} : { subcode }), ...(type === undefined ? {} : { type }) }),
});

function redirect(uri: string, params: Record<string, string>): FakeAnswer {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { status: 302, body: undefined, headers: { location: url.toString() } };
}

/**
 * `GET /{v}/dialog/oauth` (oauth.md §3.2, §5.2). With no scripted consent the user approves at once:
 * a 302 to the redirect URI, never an HTML consent page.
 */
export function handleMetaDialog(req: FakeHttpRequest, ctx: MetaOAuthContext, consent: FakeConsentStep | undefined): FakeAnswer {
  const match = /^\/([^/]+)\/dialog\/oauth$/.exec(req.path);
  if (req.method !== 'GET' || match === null || !VERSION.test(match[1] ?? '')) {
    return html(404, `Sorry, this content isn't available right now (${req.method} ${req.path}; the dialog is GET /{v}/dialog/oauth).`);
  }
  const { world } = ctx;
  const q = req.query;
  const app = world.seed.app;
  if ([...q.values()].includes(app.secret) || q.has('client_secret')) {
    return html(400, 'The app secret must never appear in the login dialog URL.');
  }
  if (q.get('client_id') !== app.id) return html(400, 'Invalid App ID: the client_id is not a Facebook app.');
  const redirectUri = q.get('redirect_uri') ?? '';
  if (!world.hasRedirectUri(redirectUri)) {
    return html(400, "URL Blocked: This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings.");
  }
  const configId = q.get('config_id');
  const config = configId === null ? undefined : world.seed.configs.find((c) => c.id === configId);
  if (config === undefined) return html(400, 'Config ID is invalid.');
  const responseType = q.get('response_type') ?? 'code';
  if (config.tokenType === 'system_user' && responseType !== 'code') {
    return html(400, 'Business System User Access Token is set up with incorrect response_type.');
  }
  if (responseType !== 'code') return html(400, `Unsupported response_type ${responseType} in this fake; use code.`);
  const state = q.get('state');
  const withState = (params: Record<string, string>): Record<string, string> => (state === null ? params : { ...params, state });
  if (consent?.decision === 'error_page') return html(500, 'Sorry, something went wrong. We are working on getting this fixed as soon as we can.');
  if (consent?.decision === 'deny') {
    return redirect(redirectUri, withState({ error_reason: 'user_denied', error: 'access_denied', error_description: 'Permissions error.' }));
  }
  const businessId = consent?.business ?? world.seed.clientBusinessId;
  if (!world.seed.businesses.some((b) => b.id === businessId)) return html(400, `The fake has no business ${businessId}.`);
  const scopes = consent?.grant ?? config.permissions;
  const code = world.newCode({ configId: config.id, redirectUri, tokenType: config.tokenType, scopes, businessId, createdAtMs: ctx.now().getTime() });
  return redirect(redirectUri, withState({ code }));
}

/** The first failure of an access token, or the token. */
function checkToken(ctx: MetaOAuthContext, value: string | null | undefined): { token: IssuedMetaToken } | { error: FakeAnswer } {
  if (value === null || value === undefined || value === '') {
    return { error: graphError('An active access token must be used to query information about the current user.', 190) };
  }
  const token = ctx.world.token(value);
  if (token === undefined) return { error: graphError('Invalid OAuth access token - Cannot parse access token', 190) };
  if (token.killed !== undefined) return { error: graphError(KILL_MESSAGES[token.killed], 190, token.killed) };
  if (token.expiresAtMs !== undefined && ctx.now().getTime() >= token.expiresAtMs) {
    return { error: graphError(`${KILL_MESSAGES[463]} The current time is ${ctx.now().toUTCString()}.`, 190, 463) };
  }
  return { token };
}

/**
 * The answer for a token the Conversions API fake received, `undefined` when it may post to `pixel`,
 * or `'unknown'` when this world never issued it (the CAPI fake then checks its seeded tokens).
 */
export function capiTokenCheck(ctx: MetaOAuthContext, value: string, pixel: string): FakeAnswer | undefined | 'unknown' {
  if (ctx.world.token(value) === undefined) return 'unknown';
  const checked = checkToken(ctx, value);
  if ('error' in checked) return checked.error;
  if (!ctx.world.reachablePixels(checked.token).has(pixel)) {
    return graphError(
      `Unsupported post request. Object with ID '${pixel}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      100, 33, 'GraphMethodException',
    );
  }
  return undefined;
}

function permissionsError(): FakeAnswer {
  return graphError('(#200) Permissions error', 200);
}

const has = (token: IssuedMetaToken, ...any: string[]): boolean => any.some((s) => token.scopes.includes(s));

function handleExchange(req: FakeHttpRequest, ctx: MetaOAuthContext): FakeAnswer {
  const q = req.query;
  const app = ctx.world.seed.app;
  const nowMs = ctx.now().getTime();
  if (q.get('client_id') !== app.id) return graphError('Error validating application. Invalid application ID.', 101);
  if (q.get('client_secret') !== app.secret) return graphError('Error validating client secret.', 1);
  if (q.get('grant_type') === 'fb_exchange_token') {
    const input = q.get('fb_exchange_token');
    const checked = checkToken(ctx, input);
    if ('error' in checked) return checked.error;
    if (checked.token.kind !== 'user') return graphError('(#100) fb_exchange_token must be a user access token.', 100);
    const token = ctx.world.issue({
      kind: 'user', businessId: undefined, scopes: checked.token.scopes, issuedAtMs: nowMs, expiresAtMs: nowMs + META_LONG_LIVED_SECONDS * 1000,
    });
    return { status: 200, body: { access_token: token, token_type: 'bearer', expires_in: META_LONG_LIVED_SECONDS } };
  }
  const value = q.get('code') ?? '';
  const code = ctx.world.code(value);
  if (code === undefined) return graphError('Invalid verification code format.', 100);
  if (q.get('redirect_uri') !== code.redirectUri) {
    return graphError(
      'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
      100, 36008,
    );
  }
  if (code.used) return graphError('This authorization code has been used.', 100, 36009);
  if (nowMs - code.createdAtMs >= ctx.world.seed.codeTtlSeconds * 1000) return graphError('This authorization code has expired.', 100, 36007);
  code.used = true;
  if (code.tokenType === 'system_user') {
    const token = ctx.world.issue({ kind: 'system_user', businessId: code.businessId, scopes: code.scopes, issuedAtMs: nowMs, expiresAtMs: undefined });
    return { status: 200, body: { access_token: token, token_type: 'bearer' } };
  }
  const token = ctx.world.issue({
    kind: 'user', businessId: undefined, scopes: code.scopes, issuedAtMs: nowMs, expiresAtMs: nowMs + META_SHORT_LIVED_SECONDS * 1000,
  });
  return { status: 200, body: { access_token: token, token_type: 'bearer', expires_in: META_SHORT_LIVED_SECONDS } };
}

function handleDebugToken(req: FakeHttpRequest, ctx: MetaOAuthContext): FakeAnswer {
  const app = ctx.world.seed.app;
  if (req.query.get('access_token') !== `${app.id}|${app.secret}`) {
    return graphError('Invalid OAuth access token - Cannot parse access token', 190);
  }
  const input = req.query.get('input_token') ?? '';
  const token = ctx.world.token(input);
  if (token === undefined) {
    return { status: 200, body: { data: { is_valid: false, error: { code: 190, message: 'Invalid OAuth access token - Cannot parse access token' }, scopes: [] } } };
  }
  const checked = checkToken(ctx, input);
  const base = {
    app_id: app.id,
    type: token.kind === 'system_user' ? 'SYSTEM_USER' : 'USER',
    application: 'Pruuv (fake)',
    expires_at: token.expiresAtMs === undefined ? 0 : Math.floor(token.expiresAtMs / 1000),
    issued_at: Math.floor(token.issuedAtMs / 1000),
    scopes: [...token.scopes],
    user_id: ctx.world.seed.user.id,
  };
  if ('error' in checked) {
    const error = (checked.error.body as { error: { code: number; message: string; error_subcode?: number } }).error;
    return { status: 200, body: { data: { ...base, is_valid: false, error: { code: error.code, message: error.message, subcode: error.error_subcode } } } };
  }
  return { status: 200, body: { data: { ...base, is_valid: true } } };
}

const PIXEL_FIELDS = new Set(['id', 'name', 'code', 'creation_time', 'last_fired_time', 'is_unavailable', 'owner_business']);

function pixelNode(pixel: FakeMetaPixel, ownerBusinessId: string, fields: readonly string[]): Record<string, unknown> {
  const all: Record<string, unknown> = {
    id: pixel.id,
    name: pixel.name,
    code: `<!-- Meta Pixel Code ${pixel.id} -->`,
    creation_time: '2026-01-05T10:00:00+0000',
    last_fired_time: '2026-11-19T08:30:00+0000',
    is_unavailable: pixel.unavailable ?? false,
    owner_business: { id: pixel.ownerBusinessId ?? ownerBusinessId },
  };
  const out: Record<string, unknown> = { id: pixel.id };
  for (const f of fields) if (PIXEL_FIELDS.has(f)) out[f] = all[f];
  return out;
}

/** A page of `rows` as Graph pages them, with a `next` URL on the fake's own base (oauth.md §3.4). */
function page(req: FakeHttpRequest, ctx: MetaOAuthContext, rows: ReadonlyArray<Record<string, unknown>>): FakeAnswer {
  const limitText = req.query.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit <= 0) return graphError(`(#100) param limit must be a positive integer, got ${limitText ?? ''}.`, 100);
  const size = Math.min(limit, ctx.world.seed.maxPageSize);
  const afterText = req.query.get('after');
  let offset = 0;
  if (afterText !== null) {
    const decoded = Number(Buffer.from(afterText, 'base64url').toString('utf8').replace(/^o:/, ''));
    if (!Number.isInteger(decoded) || decoded < 0) return graphError('(#100) Invalid cursor: after', 100);
    offset = decoded;
  }
  const data = rows.slice(offset, offset + size);
  const end = offset + data.length;
  const cursor = (n: number): string => Buffer.from(`o:${n}`).toString('base64url');
  // The "trailing empty page" scenario: a full last page still links to an empty one.
  const more = end < rows.length || (ctx.world.seed.trailingEmptyPage === true && data.length > 0 && data.length === size);
  const paging: Record<string, unknown> = { cursors: { before: cursor(offset), after: cursor(end) } };
  if (more) {
    const next = new URL(`${ctx.world.graphBaseUrl}${req.path}`);
    for (const [k, v] of req.query) if (k !== 'after') next.searchParams.set(k, v);
    next.searchParams.set('after', cursor(end));
    paging['next'] = next.toString();
  }
  if (offset > 0) paging['previous'] = `${ctx.world.graphBaseUrl}${req.path}?before=${cursor(offset)}`;
  return { status: 200, body: data.length === 0 && !more ? { data: [] } : { data, paging } };
}

const fieldsOf = (req: FakeHttpRequest): string[] => (req.query.get('fields') ?? '').split(',').map((f) => f.trim()).filter(Boolean);

function unknownObject(id: string, method = 'get'): FakeAnswer {
  return graphError(
    `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
    100, 33, 'GraphMethodException',
  );
}

function handleRead(req: FakeHttpRequest, ctx: MetaOAuthContext, rest: string): FakeAnswer {
  const checked = checkToken(ctx, req.query.get('access_token'));
  if ('error' in checked) return checked.error;
  const { token } = checked;
  const { seed } = ctx.world;
  const fields = fieldsOf(req);
  const businesses = seed.businesses.filter((b) => token.businessId === undefined || b.id === token.businessId);
  if (rest === 'me') {
    if (token.kind === 'system_user') {
      const out: Record<string, unknown> = { id: `${seed.user.id}9` };
      if (fields.includes('client_business_id')) out['client_business_id'] = token.businessId;
      if (fields.includes('name')) out['name'] = 'Pruuv (fake) system user';
      return { status: 200, body: out };
    }
    if (fields.includes('client_business_id')) return graphError('(#100) Tried accessing nonexisting field (client_business_id) on node type (User)', 100);
    return { status: 200, body: { id: seed.user.id, ...(fields.includes('name') ? { name: seed.user.name } : {}) } };
  }
  if (rest === 'me/businesses') {
    if (token.kind !== 'user') return graphError('(#100) Tried accessing nonexisting field (businesses) on node type (SystemUser)', 100);
    if (!has(token, 'business_management')) return permissionsError();
    return page(req, ctx, businesses.map((b) => ({ id: b.id, name: b.name, permitted_roles: ['ADMIN'] })));
  }
  if (rest === 'me/adaccounts') {
    if (!has(token, 'ads_read', 'ads_management')) return permissionsError();
    return page(req, ctx, businesses.flatMap((b) => b.adAccounts.map((a) => ({
      id: `act_${a.accountId}`, account_id: a.accountId, name: a.name, account_status: 1,
    }))));
  }
  const act = /^act_(\d+)\/adspixels$/.exec(rest);
  if (act !== null) {
    const accountId = act[1] ?? '';
    const owner = businesses.find((b) => b.adAccounts.some((a) => a.accountId === accountId));
    const account = owner?.adAccounts.find((a) => a.accountId === accountId);
    if (owner === undefined || account === undefined) return unknownObject(`act_${accountId}`);
    if (!has(token, 'ads_read', 'ads_management')) return permissionsError();
    return page(req, ctx, account.pixels.map((p) => pixelNode(p, owner.id, fields)));
  }
  const edge = /^(\d+)\/(owned_pixels|client_pixels)$/.exec(rest);
  if (edge !== null) {
    const business = businesses.find((b) => b.id === edge[1]);
    if (business === undefined) return unknownObject(edge[1] ?? '');
    // Dataset reads need ads_read plus ads_management or business_management (oauth.md §3.1, M-DQ).
    if (!has(token, 'ads_read') || !has(token, 'ads_management', 'business_management')) return permissionsError();
    const pixels = edge[2] === 'owned_pixels' ? business.ownedPixels : business.clientPixels;
    return page(req, ctx, pixels.map((p) => ({
      ...pixelNode(p, business.id, fields),
      ...(edge[2] === 'client_pixels' ? { permitted_tasks: ['ANALYZE', 'UPLOAD'] } : {}),
    })));
  }
  return graphError(`Unsupported get request. Unknown path components: /${rest}`, 2500);
}

function handleSystemUserTokens(req: FakeHttpRequest, ctx: MetaOAuthContext, businessId: string): FakeAnswer {
  const fields: Record<string, string> = { ...Object.fromEntries(req.query) };
  if (req.body.kind === 'form') Object.assign(fields, req.body.fields);
  else if (req.body.kind === 'json' && isRecord(req.body.value)) {
    for (const [k, v] of Object.entries(req.body.value)) if (typeof v === 'string' || typeof v === 'boolean') fields[k] = String(v);
  }
  const accessToken = fields['access_token'];
  const checked = checkToken(ctx, accessToken);
  if ('error' in checked) return checked.error;
  const proof = createHmac('sha256', ctx.world.seed.app.secret).update(accessToken ?? '').digest('hex');
  if (fields['appsecret_proof'] !== proof) return graphError('Invalid appsecret_proof provided in the API argument', 100);
  if (checked.token.kind !== 'system_user' || checked.token.businessId !== businessId) return unknownObject(businessId, 'post');
  if (!has(checked.token, 'business_management')) return permissionsError();
  if (fields['fetch_only'] === 'true') return { status: 200, body: { access_token: accessToken } };
  const scopes = fields['scope'] === undefined ? checked.token.scopes : fields['scope'].split(',').filter((s) => checked.token.scopes.includes(s));
  const nowMs = ctx.now().getTime();
  const expiresAtMs = fields['set_token_expires_in_60_days'] === 'true' ? nowMs + META_LONG_LIVED_SECONDS * 1000 : undefined;
  return { status: 200, body: { access_token: ctx.world.issue({ kind: 'system_user', businessId, scopes, issuedAtMs: nowMs, expiresAtMs }) } };
}

/**
 * Answer a Graph request of the OAuth surface, or `undefined` when the path is not one
 * (the Conversions API handler then answers).
 */
export function handleMetaOAuthGraph(req: FakeHttpRequest, ctx: MetaOAuthContext): FakeAnswer | undefined {
  const match = /^\/([^/]+)\/(.+)$/.exec(req.path);
  if (match === null || !VERSION.test(match[1] ?? '')) return undefined;
  const rest = match[2] ?? '';
  const sut = /^(\d+)\/system_user_access_tokens$/.exec(rest);
  if (sut !== null) return req.method === 'POST' ? handleSystemUserTokens(req, ctx, sut[1] ?? '') : graphError('Unsupported get request.', 100);
  if (req.method !== 'GET') return undefined;
  if (rest === 'oauth/access_token') return handleExchange(req, ctx);
  if (rest === 'debug_token') return handleDebugToken(req, ctx);
  if (rest === 'me' || rest.startsWith('me/') || /^act_\d+\/adspixels$/.test(rest) || /^\d+\/(?:owned|client)_pixels$/.test(rest)) {
    return handleRead(req, ctx, rest);
  }
  return undefined;
}
