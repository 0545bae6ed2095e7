/**
 * Fake Meta Conversions API: `POST /{vNN.0}/{pixel_id}/events` (platforms.md §1, checks §8).
 * Pure request → answer logic; the server in `server.ts` does the HTTP.
 */
import { isIP } from 'node:net';
import { fbtraceId } from './ids.js';
import type { Ledger } from './ledger.js';
import { isRecord, type FakeAnswer, type FakeHttpRequest } from './request.js';
import { MS, SHA256_HEX, jsonType } from './formats.js';
import { capiTokenCheck, handleMetaOAuthGraph, type MetaOAuthContext } from './meta-oauth.js';

/** Graph versions the fake serves: those still available in late 2026 (v20.0 ended 2026-09-24, platforms.md §1.1). */
export const META_API_VERSIONS: readonly string[] = ['v21.0', 'v22.0', 'v23.0', 'v24.0', 'v25.0', 'v26.0'];

/** The nine `action_source` values; there is no `crm` (platforms.md §1.3). */
export const META_ACTION_SOURCES: readonly string[] = [
  'email', 'website', 'app', 'phone_call', 'chat', 'physical_store', 'system_generated', 'business_messaging', 'other',
];

/**
 * `user_data` fields Meta requires as SHA-256 hashes (platforms.md §1.4), and the
 * ones Meta's Business SDK hashes the same way (`UserData.normalize()` in
 * facebook-nodejs-business-sdk `src/objects/serverside/user-data.js`: the first 5
 * letters of the first and last name, the first initial, day, month and year of birth).
 */
export const META_HASHED_FIELDS: readonly string[] = [
  'em', 'ph', 'fn', 'ln', 'db', 'ge', 'ct', 'st', 'zp', 'country', 'f5first', 'f5last', 'fi', 'dobd', 'dobm', 'doby',
];

/** Every `user_data` field Meta documents or its Business SDK sends (platforms.md §1.4); anything else is a client typo. */
const USER_DATA_FIELDS: ReadonlySet<string> = new Set([
  ...META_HASHED_FIELDS, 'external_id', 'client_ip_address', 'client_user_agent', 'fbc', 'fbp',
  'subscription_id', 'fb_login_id', 'lead_id', 'anon_id', 'madid', 'page_id', 'page_scoped_user_id',
  'ctwa_clid', 'ig_account_id', 'ig_sid', 'app_user_id',
]);

/**
 * Server event fields Meta documents (platforms.md §1.3) and its Business SDK
 * sends (`ServerEvent.normalize()`, which adds `advanced_measurement_table` and
 * `advertiser_tracking_enabled`).
 */
const EVENT_FIELDS: ReadonlySet<string> = new Set([
  'event_name', 'event_time', 'user_data', 'custom_data', 'event_source_url', 'opt_out', 'event_id',
  'action_source', 'data_processing_options', 'data_processing_options_country', 'data_processing_options_state',
  'referrer_url', 'app_data', 'original_event_data', 'customer_segmentation', 'messaging_channel', 'attribution_data',
  'advanced_measurement_table', 'advertiser_tracking_enabled',
]);

/** `custom_data.value`: a number, or a numeric string as in Meta's own examples (`"142.52"`, platforms.md §1.5). */
function isMetaValue(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && /^-?\d+(?:\.\d+)?$/.test(value.trim());
}

/** SHA-256 hex, optionally with the param builder's appendix (platforms.md §1.4, §1.8). */
const HASHED_VALUE = /^[a-f0-9]{64}(?:\.(?:AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?$/;
/** `fb.{subdomainIndex}.{creationTime}.{fbclid|random}[.appendix]` (platforms.md §8). */
const CLICK_COOKIE = /^fb\.\d+\.(\d+)\.[^.]+(?:\.(?:AQ|Ag|Aw|BA|BQ|Bg|[A-Za-z0-9_-]{8}))?$/;

const MAX_EVENTS = 1000;
/** 7 days for web events; physical-store events may be 62 days old (platforms.md §1.3). */
const MAX_AGE_SECONDS = 7 * 86_400;
const MAX_AGE_STORE_SECONDS = 62 * 86_400;
/** Future timestamps are UNCONFIRMED; the fake tolerates 5 minutes of clock skew (platforms.md §7.2). */
const FUTURE_SKEW_SECONDS = 300;
/** Event times above 10^10 are milliseconds, not seconds (platforms.md §8). */
const MS_LOOKING = 1e10;
/** Same (event_name, event_id) within 48 h counts once (platforms.md §1.3). */
const DEDUP_WINDOW_MS = 48 * MS.hour;

/** Why one event is invalid: any invalid event rejects the whole request (platforms.md §1.2). */
export interface MetaProblem {
  /** Where, e.g. `data[2].user_data.em`. */
  path: string;
  /** What is wrong and how to fix it. */
  message: string;
  /** `error_user_title`. */
  title: string;
  /** `error_subcode` when Meta's is known (2804003 too old, 2804019 purchase value). */
  subcode?: number;
}

/** The outcome of checking one server event. */
export interface MetaEventCheck {
  problem?: MetaProblem;
  /** Non-fatal findings: fbc/fbp format (platforms.md §8: recorded, not rejected). */
  diagnostics: string[];
}

/** What the Meta fake needs besides the request. */
export interface MetaContext {
  pixels: ReadonlySet<string>;
  tokens: ReadonlySet<string>;
  now: () => Date;
  ledger: Ledger;
  /** The OAuth fake: its Graph routes, and the tokens it issued (oauth.md §5.2: the CAPI fake shares its token store). */
  oauth?: MetaOAuthContext;
}

/** Options of a Graph error body. */
export interface MetaErrorInit {
  message: string;
  code: number;
  type?: string;
  subcode?: number;
  transient?: boolean;
  title?: string;
  userMessage?: string;
}

/** A Graph API error body (platforms.md §1.7); every error carries a fresh `fbtrace_id`. */
export function metaErrorBody(init: MetaErrorInit): { error: Record<string, unknown> } {
  return {
    error: {
      message: init.message,
      type: init.type ?? 'OAuthException',
      code: init.code,
      ...(init.subcode === undefined ? {} : { error_subcode: init.subcode }),
      is_transient: init.transient ?? false,
      ...(init.title === undefined ? {} : { error_user_title: init.title }),
      ...(init.userMessage === undefined ? {} : { error_user_msg: init.userMessage }),
      fbtrace_id: fbtraceId(),
    },
  };
}

/** Messages Graph uses for the throttling and transient codes (platforms.md §1.7 table). */
const META_CODE_MESSAGES: Readonly<Record<number, string>> = {
  1: 'An unknown error occurred',
  2: 'An unexpected error has occurred. Please retry your request later.',
  4: '(#4) Application request limit reached',
  17: '(#17) User request limit reached',
  100: 'Invalid parameter',
  190: 'Invalid OAuth access token - Cannot parse access token',
  341: '(#341) Application limit reached',
  368: '(#368) The action attempted has been deemed abusive or is otherwise disallowed',
  613: '(#613) Calls to this api have exceeded the rate limit.',
  21009: 'The data set upload is temporarily not ready.',
  80004: '(#80004) There have been too many calls to this ad-account. Wait a bit and try again.',
};

/** The body of a scripted Meta error with a given code. */
export function metaCodeError(code: number, subcode?: number, transient?: boolean): { error: Record<string, unknown> } {
  return metaErrorBody({
    message: META_CODE_MESSAGES[code] ?? `(#${code}) Scripted error`,
    code,
    ...(subcode === undefined ? {} : { subcode }),
    transient: transient ?? (code === 1 || code === 2),
    ...(subcode === 33 ? { type: 'GraphMethodException' } : {}),
  });
}

function invalidParameter(message: string, init: Partial<MetaErrorInit> = {}): FakeAnswer {
  return { status: 400, body: metaErrorBody({ message, code: 100, ...init }) };
}

/** Check one hashed `user_data` value (string or list of strings). */
function checkHashed(value: unknown, path: string): MetaProblem | undefined {
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0) return { path, title: 'Invalid User Data', message: `${path} is an empty list; omit the field instead.` };
  for (const [i, item] of values.entries()) {
    const at = Array.isArray(value) ? `${path}[${i}]` : path;
    if (typeof item !== 'string') {
      return { path: at, title: 'Invalid User Data', message: `${at} must be a string, got ${jsonType(item)}.` };
    }
    if (!HASHED_VALUE.test(item)) {
      const plain = item.includes('@') || /\s/.test(item) || /[A-Z]/.test(item) || !/^[a-f0-9.A-Za-z_-]+$/.test(item);
      return {
        path: at,
        title: plain ? 'Unhashed Customer Information' : 'Invalid Hash',
        message: `${at} must be the lowercase SHA-256 hex of the normalised value (optionally followed by the param builder's ".appendix"); ${plain ? 'it looks like plaintext' : 'it is not a SHA-256 hex digest'}.`,
      };
    }
  }
  return undefined;
}

function checkClickCookie(name: 'fbc' | 'fbp', value: unknown, path: string, diagnostics: string[]): MetaProblem | undefined {
  if (typeof value !== 'string' || value === '') {
    return { path, title: 'Invalid User Data', message: `${path} must be a non-empty string (the _${name} cookie value, never hashed).` };
  }
  const match = CLICK_COOKIE.exec(value);
  if (match === null) {
    diagnostics.push(`${path}: "${value}" is not fb.{subdomainIndex}.{creationTime}.{value}[.appendix] (platforms.md §1.8)`);
  } else if (match[1]?.length !== 13) {
    diagnostics.push(`${path}: creationTime ${match[1] ?? ''} is not Unix milliseconds (13 digits, platforms.md §1.8)`);
  }
  return undefined;
}

function checkUserData(userData: unknown, base: string, diagnostics: string[]): MetaProblem | undefined {
  if (!isRecord(userData)) {
    return { path: base, title: 'Missing User Data', message: `${base} is required and must be an object with at least one customer information parameter.` };
  }
  let present = 0;
  for (const [key, value] of Object.entries(userData)) {
    const path = `${base}.${key}`;
    if (!USER_DATA_FIELDS.has(key)) {
      return { path, title: 'Invalid User Data', message: `${path} is not a Meta customer information parameter (see platforms.md §1.4).` };
    }
    if (value === undefined || value === null || value === '') continue;
    present += 1;
    let problem: MetaProblem | undefined;
    if (META_HASHED_FIELDS.includes(key)) problem = checkHashed(value, path);
    else if (key === 'client_ip_address') {
      if (typeof value !== 'string' || isIP(value) === 0) {
        problem = { path, title: 'Invalid IP Address', message: `${path} must be a plain IPv4 or IPv6 address, never hashed.` };
      }
    } else if (key === 'client_user_agent') {
      if (typeof value !== 'string' || SHA256_HEX.test(value)) {
        problem = { path, title: 'Invalid User Agent', message: `${path} must be the browser user agent string, never hashed.` };
      }
    } else if (key === 'fbc' || key === 'fbp') problem = checkClickCookie(key, value, path, diagnostics);
    else if (key === 'external_id') {
      const values = Array.isArray(value) ? value : [value];
      if (!values.every((v) => typeof v === 'string' && v !== '')) {
        problem = { path, title: 'Invalid User Data', message: `${path} must be a string or a list of strings.` };
      }
    } else if (typeof value !== 'string' && typeof value !== 'number') {
      problem = { path, title: 'Invalid User Data', message: `${path} must be a string or number.` };
    }
    if (problem !== undefined) return problem;
  }
  if (present === 0) {
    return { path: base, title: 'Missing User Data', message: `${base} needs at least one customer information parameter.` };
  }
  return undefined;
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Check one server event against platforms.md §8 (Meta). Pure.
 * `nowSeconds` is the fake's clock in Unix seconds.
 */
export function validateMetaEvent(event: unknown, index: number, nowSeconds: number): MetaEventCheck {
  const base = `data[${index}]`;
  const diagnostics: string[] = [];
  const fail = (problem: MetaProblem): MetaEventCheck => ({ problem, diagnostics });
  if (!isRecord(event)) return fail({ path: base, title: 'Invalid Event', message: `${base} must be an object.` });
  for (const key of Object.keys(event)) {
    if (!EVENT_FIELDS.has(key)) return fail({ path: `${base}.${key}`, title: 'Invalid Event', message: `${base}.${key} is not a server event parameter.` });
  }
  const name = event['event_name'];
  if (typeof name !== 'string' || name.trim() === '') {
    return fail({ path: `${base}.event_name`, title: 'Missing Event Name', message: `${base}.event_name is required: a non-empty string.` });
  }
  const time = event['event_time'];
  if (typeof time !== 'number' || !Number.isInteger(time) || time <= 0) {
    return fail({ path: `${base}.event_time`, title: 'Invalid Event Time', message: `${base}.event_time must be an integer Unix timestamp in seconds.` });
  }
  if (time > MS_LOOKING) {
    return fail({ path: `${base}.event_time`, title: 'Invalid Event Time', message: `${base}.event_time ${time} looks like milliseconds; send Unix seconds.` });
  }
  const source = event['action_source'];
  if (typeof source !== 'string' || !META_ACTION_SOURCES.includes(source)) {
    return fail({
      path: `${base}.action_source`,
      title: 'Invalid Action Source',
      message: `${base}.action_source must be one of ${META_ACTION_SOURCES.join(', ')} (CRM stages use system_generated).`,
    });
  }
  const maxAge = source === 'physical_store' ? MAX_AGE_STORE_SECONDS : MAX_AGE_SECONDS;
  if (time < nowSeconds - maxAge) {
    return fail({
      path: `${base}.event_time`,
      title: 'Event Timestamp Too Old',
      subcode: 2804003,
      message: `The timestamp for this event is too far in the past. ${base}.event_time must be within the last ${maxAge / 86_400} days.`,
    });
  }
  if (time > nowSeconds + FUTURE_SKEW_SECONDS) {
    return fail({ path: `${base}.event_time`, title: 'Event Timestamp In The Future', message: `${base}.event_time is in the future.` });
  }
  const eventId = event['event_id'];
  if (eventId !== undefined && (typeof eventId !== 'string' || eventId === '')) {
    return fail({ path: `${base}.event_id`, title: 'Invalid Event ID', message: `${base}.event_id must be a non-empty string.` });
  }
  if (source === 'website') {
    if (!isHttpUrl(event['event_source_url'])) {
      return fail({ path: `${base}.event_source_url`, title: 'Missing Event Source URL', message: `${base}.event_source_url (an http(s) URL) is required for website events.` });
    }
    const userData = event['user_data'];
    const agent = isRecord(userData) ? userData['client_user_agent'] : undefined;
    if (typeof agent !== 'string' || agent === '') {
      return fail({ path: `${base}.user_data.client_user_agent`, title: 'Missing User Agent', message: `${base}.user_data.client_user_agent is required for website events.` });
    }
  }
  const userProblem = checkUserData(event['user_data'], `${base}.user_data`, diagnostics);
  if (userProblem !== undefined) return fail(userProblem);
  const custom = event['custom_data'];
  if (custom !== undefined && !isRecord(custom)) {
    return fail({ path: `${base}.custom_data`, title: 'Invalid Custom Data', message: `${base}.custom_data must be an object.` });
  }
  const value = isRecord(custom) ? custom['value'] : undefined;
  const currency = isRecord(custom) ? custom['currency'] : undefined;
  if (value !== undefined && !isMetaValue(value)) {
    return fail({ path: `${base}.custom_data.value`, title: 'Invalid Value', message: `${base}.custom_data.value must be a number (or a numeric string).` });
  }
  if (currency !== undefined && (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency))) {
    return fail({ path: `${base}.custom_data.currency`, title: 'Invalid Currency', message: `${base}.custom_data.currency must be a 3-letter ISO 4217 code.` });
  }
  if (name === 'Purchase' && (value === undefined || currency === undefined)) {
    // Observed subcode 2804019 (third-party report, platforms.md §1.5).
    return fail({
      path: `${base}.custom_data`,
      title: 'Missing Value or Currency',
      subcode: 2804019,
      message: `Purchase events need custom_data.value (a number) and custom_data.currency (3 letters) at ${base}.custom_data.`,
    });
  }
  return { diagnostics };
}

/** The fields of the request: query and JSON/form body merged (platforms.md §1.1). */
function requestFields(req: FakeHttpRequest): { fields: Record<string, unknown> } | { error: FakeAnswer } {
  const body = req.body;
  let fields: Record<string, unknown> = {};
  if (body.kind === 'json') {
    if (!isRecord(body.value)) return { error: invalidParameter('(#100) The request body must be a JSON object.') };
    fields = body.value;
  } else if (body.kind === 'form') {
    fields = { ...body.fields };
    const data = body.fields['data'];
    if (data !== undefined) {
      try {
        fields['data'] = JSON.parse(data) as unknown;
      } catch {
        return { error: invalidParameter('(#100) param data must be a JSON-encoded array of server events.') };
      }
    }
  } else if (body.kind === 'invalid-json') {
    return { error: invalidParameter(`(#100) The request body is not valid JSON: ${body.error}`) };
  } else if (body.kind === 'text') {
    return { error: invalidParameter('(#100) Send the events as application/json or application/x-www-form-urlencoded.') };
  }
  return { fields };
}

const EVENTS_PATH = /^\/([^/]+)\/([^/]+)\/events$/;

/** Answer one request to the Meta route (platforms.md §8, Meta). */
export function handleMeta(req: FakeHttpRequest, ctx: MetaContext): FakeAnswer {
  const oauthAnswer = ctx.oauth === undefined ? undefined : handleMetaOAuthGraph(req, ctx.oauth);
  if (oauthAnswer !== undefined) return oauthAnswer;
  const match = EVENTS_PATH.exec(req.path);
  if (match === null || req.method !== 'POST') {
    return {
      status: 400,
      body: metaErrorBody({ message: `Unsupported ${req.method.toLowerCase()} request. Unknown path components: ${req.path}`, code: 2500 }),
    };
  }
  const version = match[1] ?? '';
  const pixel = match[2] ?? '';
  if (!META_API_VERSIONS.includes(version)) {
    // Exact code UNCONFIRMED (platforms.md §8): the fake answers like a deprecated Marketing API version.
    return {
      status: 400,
      body: metaErrorBody({
        message: `(#2635) You are calling a deprecated or unknown version of the API (${version}). Please update to ${META_API_VERSIONS.at(-1) ?? 'v26.0'}.`,
        code: 2635,
      }),
    };
  }
  const parsed = requestFields(req);
  if ('error' in parsed) return parsed.error;
  const { fields } = parsed;
  const token = req.query.get('access_token') ?? fields['access_token'];
  if (typeof token !== 'string' || token === '') {
    return { status: 400, body: metaErrorBody({ message: 'An access token is required to request this resource.', code: 190 }) };
  }
  const issued = ctx.oauth === undefined ? 'unknown' : capiTokenCheck(ctx.oauth, token, pixel);
  if (issued !== 'unknown' && issued !== undefined) return issued;
  if (issued === 'unknown' && !ctx.tokens.has(token)) {
    return { status: 400, body: metaErrorBody({ message: 'Invalid OAuth access token - Cannot parse access token', code: 190 }) };
  }
  if (!ctx.pixels.has(pixel)) {
    return {
      status: 400,
      body: metaErrorBody({
        message: `Unsupported post request. Object with ID '${pixel}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
        type: 'GraphMethodException',
        code: 100,
        subcode: 33,
      }),
    };
  }
  const data = fields['data'];
  if (data === undefined) return invalidParameter('(#100) The parameter data is required');
  if (!Array.isArray(data) || data.length === 0) return invalidParameter('(#100) param data must be a non-empty array of server events.');
  if (data.length > MAX_EVENTS) return invalidParameter(`(#100) param data must be an array with at most ${MAX_EVENTS} elements (got ${data.length}).`);

  const nowMs = ctx.now().getTime();
  const nowSeconds = Math.floor(nowMs / 1000);
  const diagnostics: string[] = [];
  for (const [i, event] of data.entries()) {
    const check = validateMetaEvent(event, i, nowSeconds);
    diagnostics.push(...check.diagnostics);
    if (check.problem !== undefined) {
      const { problem } = check;
      return {
        ...invalidParameter('Invalid parameter', {
          ...(problem.subcode === undefined ? {} : { subcode: problem.subcode }),
          title: problem.title,
          userMessage: problem.message,
        }),
        diagnostics,
      };
    }
  }
  // Every event is valid: count them (Meta reports events_received including duplicates).
  for (const event of data as Array<Record<string, unknown>>) {
    const prefix = `${pixel}:${String(event['event_name'])}:`;
    const id = event['event_id'];
    if (typeof id === 'string') ctx.ledger.receive(`${prefix}${id}`, nowMs, DEDUP_WINDOW_MS);
    else ctx.ledger.receiveAnonymous(prefix);
  }
  return { status: 200, body: { events_received: data.length, messages: [], fbtrace_id: fbtraceId() }, diagnostics };
}
