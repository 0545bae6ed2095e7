/**
 * Fake TikTok Events API 2.0: `POST /open_api/v1.3/event/track/` (platforms.md §4, checks §8).
 * Errors come back with HTTP 200 and a non-zero `code` (§4.3). Pure request → answer logic.
 */
import { isIP } from 'node:net';
import { jsonType, SHA256_HEX } from './formats.js';
import { tiktokRequestId } from './ids.js';
import type { Ledger } from './ledger.js';
import { header, isRecord, type FakeAnswer, type FakeHttpRequest } from './request.js';
import { handleTikTokOAuthApi, trackTokenCheck, type TikTokOAuthContext } from './tiktok-oauth.js';

/** `event_source` values (platforms.md §4.2). */
export const TIKTOK_EVENT_SOURCES: readonly string[] = ['web', 'app', 'offline', 'crm'];
const MAX_EVENTS = 1000;
/** Event times above 10^10 are milliseconds (platforms.md §8). */
const MS_LOOKING = 1e10;
const TRACK_PATH = '/open_api/v1.3/event/track/';
/** A SHA-256 hex digest in either case. */
const ANY_CASE_SHA256_HEX = /^[A-Fa-f0-9]{64}$/;

/** Default messages of the codes a test may script (platforms.md §4.3). */
export const TIKTOK_MESSAGES: Readonly<Record<number, string>> = {
  0: 'OK',
  40001: 'No permission to operate pixel code. You must be an admin or operator of this advertiser account.',
  40002: 'Invalid parameter',
  40100: 'Too many requests. Please retry in some time.',
};

/** A TikTok answer: always HTTP 200 with `code`, `message`, `request_id`, `data`. */
export function tiktokAnswer(code: number, message: string, now: Date): FakeAnswer {
  return { status: 200, body: { code, message, request_id: tiktokRequestId(now), data: {} } };
}

/** What the TikTok fake needs besides the request. */
export interface TikTokContext {
  pixelCodes: ReadonlySet<string>;
  tokens: ReadonlySet<string>;
  now: () => Date;
  ledger: Ledger;
  /** The OAuth fake: its API routes, and the tokens it issued (oauth.md §5.3: revoked tokens fail here too). */
  oauth?: TikTokOAuthContext;
}

function checkHashedList(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  const values = Array.isArray(value) ? value : [value];
  for (const [i, item] of values.entries()) {
    const at = Array.isArray(value) ? `${path}.${i}` : path;
    if (typeof item !== 'string') return `${at}: Not a valid string`;
    // Either case: TikTok's own template passes an upper-case digest through unchanged (gtm-template-eapi `isHashed`).
    if (item !== '' && !ANY_CASE_SHA256_HEX.test(item)) return `${at}: must be a SHA-256 hex digest of the normalised value`;
  }
  return undefined;
}

function checkPlain(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return `${path}: Not a valid string`;
  if (SHA256_HEX.test(value)) return `${path}: must not be hashed`;
  return undefined;
}

/**
 * Check one event (platforms.md §8, TikTok). Returns `"<path>: <reason>"` for the
 * first problem, like TikTok's 40002 messages, or `undefined`. Pure.
 */
export function validateTikTokEvent(event: unknown, index: number): string | undefined {
  const base = `data.${index}`;
  if (!isRecord(event)) return `${base}: Not a valid object`;
  if (typeof event['event'] !== 'string' || event['event'].trim() === '') return `${base}.event: Field required, a non-empty string`;
  const time = event['event_time'];
  if (typeof time !== 'number' || !Number.isInteger(time) || time <= 0) return `${base}.event_time: Not a valid integer (Unix seconds)`;
  if (time > MS_LOOKING) return `${base}.event_time: ${time} looks like milliseconds; send Unix seconds`;
  const id = event['event_id'];
  if (id !== undefined && (typeof id !== 'string' || id === '')) return `${base}.event_id: Not a valid string`;
  const user = event['user'];
  if (user !== undefined) {
    if (!isRecord(user)) return `${base}.user: Not a valid object`;
    for (const key of ['email', 'phone', 'external_id']) {
      const problem = checkHashedList(user[key], `${base}.user.${key}`);
      if (problem !== undefined) return problem;
    }
    for (const key of ['ttclid', 'ttp', 'user_agent', 'locale']) {
      const problem = checkPlain(user[key], `${base}.user.${key}`);
      if (problem !== undefined) return problem;
    }
    const ip = user['ip'];
    if (ip !== undefined && ip !== null && (typeof ip !== 'string' || isIP(ip) === 0)) return `${base}.user.ip: Not a valid IP address`;
  }
  const properties = event['properties'];
  if (properties !== undefined) {
    if (!isRecord(properties)) return `${base}.properties: Not a valid object`;
    const value = properties['value'];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) return `${base}.properties.value: Not a valid number`;
    const currency = properties['currency'];
    if (currency !== undefined && (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))) return `${base}.properties.currency: Not a valid currency code`;
    const contents = properties['contents'];
    if (contents !== undefined) {
      if (!Array.isArray(contents)) return `${base}.properties.contents: Not a valid list, got ${jsonType(contents)}`;
      for (const [j, content] of contents.entries()) {
        if (isRecord(content) && content['content_id'] !== undefined && typeof content['content_id'] !== 'string') {
          return `${base}.properties.contents.${j}.content_id: Not a valid string`;
        }
      }
    }
  }
  const page = event['page'];
  if (page !== undefined) {
    if (!isRecord(page)) return `${base}.page: Not a valid object`;
    if (page['url'] !== undefined && typeof page['url'] !== 'string') return `${base}.page.url: Not a valid string`;
  }
  return undefined;
}

/** Answer one request to the TikTok route (platforms.md §8, TikTok). */
export function handleTikTok(req: FakeHttpRequest, ctx: TikTokContext): FakeAnswer {
  const oauthAnswer = ctx.oauth === undefined ? undefined : handleTikTokOAuthApi(req, ctx.oauth);
  if (oauthAnswer !== undefined) return oauthAnswer;
  const now = ctx.now();
  if (req.method !== 'POST' || req.path !== TRACK_PATH) {
    return { status: 404, body: { code: 40400, message: `Not found: ${req.method} ${req.path} (the endpoint is POST ${TRACK_PATH}, trailing slash included)`, request_id: tiktokRequestId(now), data: {} } };
  }
  const token = header(req.headers, 'access-token');
  if (token === undefined || token === '') return tiktokAnswer(40001, 'Access-Token header is missing.', now);
  const issued = ctx.oauth === undefined ? 'unknown' : ctx.oauth.world.isIssued(token) ? 'issued' : 'unknown';
  if (issued === 'unknown' && !ctx.tokens.has(token)) return tiktokAnswer(40001, 'Access token is invalid or has no permission for this advertiser account.', now);
  if (req.body.kind !== 'json' || !isRecord(req.body.value)) {
    return tiktokAnswer(40002, `body: Not a valid JSON object (send application/json)`, now);
  }
  const body = req.body.value;
  const source = body['event_source'];
  if (typeof source !== 'string' || !TIKTOK_EVENT_SOURCES.includes(source)) {
    return tiktokAnswer(40002, `event_source: Must be one of ${TIKTOK_EVENT_SOURCES.join(', ')}`, now);
  }
  const sourceId = body['event_source_id'];
  if (typeof sourceId !== 'string' || sourceId === '') return tiktokAnswer(40002, 'event_source_id: Field required', now);
  if (!ctx.pixelCodes.has(sourceId)) return tiktokAnswer(40002, `event_source_id: Pixel code ${sourceId} not found`, now);
  if (issued === 'issued' && ctx.oauth !== undefined) {
    const refused = trackTokenCheck(ctx.oauth, token, sourceId);
    if (refused !== undefined && refused !== 'unknown') return refused;
  }
  const data = body['data'];
  if (!Array.isArray(data) || data.length === 0) return tiktokAnswer(40002, 'data: Must be a non-empty list', now);
  if (data.length > MAX_EVENTS) return tiktokAnswer(40002, `data: At most ${MAX_EVENTS} events per request (got ${data.length})`, now);
  for (const [i, event] of data.entries()) {
    const problem = validateTikTokEvent(event, i);
    if (problem !== undefined) return tiktokAnswer(40002, problem, now);
  }
  // Dedup key event_source_id + event_id + event (platforms.md §4.2).
  const nowMs = now.getTime();
  for (const event of data as Array<Record<string, unknown>>) {
    const id = event['event_id'];
    if (typeof id === 'string') ctx.ledger.receive(`${sourceId}:${id}:${String(event['event'])}`, nowMs);
    else ctx.ledger.receiveAnonymous(`${sourceId}:`);
  }
  return tiktokAnswer(0, 'OK', now);
}
