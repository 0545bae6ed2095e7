/**
 * Fake UET Conversions API (`POST /v1/{tagId}/events`, microsoft-ads.md §8,
 * §10) and the UET tag calls of Campaign Management (`UetTags/QueryByIds`,
 * `UetTagAuthKey/Query`, MS-TAGKEY). The bearer token must be the one bound
 * to the tag; every event is checked, errors and warnings answered in the
 * ValidationError shape (at most 10 details), with `continueOnValidationError`
 * false or absent any error stores nothing. Duplicates by (tagId, eventName,
 * eventId) are counted once. Stricter than Microsoft may be (UNCONFIRMED):
 * unknown properties are errors, to catch typos that would lose data silently.
 * Pure request → answer logic over the state passed in.
 */
import { randomUUID } from 'node:crypto';
import { isKnownCurrency, MS } from './formats.js';
import type { Ledger } from './ledger.js';
import { header, isRecord, type FakeAnswer, type FakeHttpRequest } from './request.js';

/** A seeded UET tag of an account; `authKey` is its Conversions API token (minted by `UetTagAuthKey/Query` when absent). */
export interface UetTagSeed {
  id: string;
  name: string;
  accountId: string;
  authKey?: string;
}

/** One event the fake Conversions API took (valid; a duplicate is recorded too, counted once). */
export interface MicrosoftCapiReceipt {
  tagId: string;
  event: Record<string, unknown>;
  /** `counted` the first time its (tagId, eventName, eventId) came, `duplicate` after. */
  verdict: 'counted' | 'duplicate';
  /** Warnings answered for it (`data[0].userData.em InvalidSha256`): the field was dropped. */
  warnings: string[];
}

/** What the Conversions API fake needs. */
export interface MicrosoftCapiContext {
  tags: readonly UetTagSeed[];
  /** Tag id → its token. */
  keys: Map<string, string>;
  ledger: Ledger;
  received: MicrosoftCapiReceipt[];
  now: () => Date;
}

/** A ValidationError detail (MS-CAPI). */
interface Detail {
  index?: number;
  propertyName: string;
  attemptedValue: unknown;
  errorMessage: string;
  errorCode: string;
  isWarning: boolean;
}

const EVENT_FIELDS = new Set([
  'eventType', 'eventId', 'eventName', 'eventTime', 'eventSourceUrl', 'pageLoadId', 'referrerUrl', 'pageTitle', 'keywords',
  'adStorageConsent', 'userData', 'customData',
]);
const USER_FIELDS = new Set(['msclkid', 'em', 'ph', 'anonymousId', 'externalId', 'idfa', 'gaid', 'clientIpAddress', 'clientUserAgent']);
const IDENTIFIERS = ['msclkid', 'em', 'ph', 'anonymousId', 'externalId', 'idfa', 'gaid'];
const CUSTOM_FIELDS = new Set([
  'value', 'currency', 'transactionId', 'eventCategory', 'eventLabel', 'eventValue', 'pageType', 'ecommProdId', 'ecommTotalValue',
  'ecommCategory', 'searchTerm', 'itemIds', 'items', 'hotelData',
]);
const PAGE_TYPES = new Set(['home', 'category', 'searchresults', 'product', 'cart', 'purchase', 'other']);
const HASH = /^[0-9a-f]{64}$/;
const MAX_DETAILS = 10;

function unauthorized(): FakeAnswer {
  return { status: 401, body: { error: { code: 'Unauthorized', message: 'You are not authorized to access this resource.' } } };
}

function validation(status: number, details: Detail[], extra: Record<string, unknown> = {}): FakeAnswer {
  const shown = details.slice(0, MAX_DETAILS);
  return {
    status,
    body: {
      ...extra,
      error: {
        code: 'ValidationError',
        message: `The request has validation errors or warnings; only the first ${MAX_DETAILS} errors and warnings are shown.`,
        details: shown,
      },
    },
  };
}

function requestError(propertyName: string, attemptedValue: unknown, errorCode: string, errorMessage: string): FakeAnswer {
  return validation(400, [{ propertyName, attemptedValue, errorCode, errorMessage, isWarning: false }]);
}

function isUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** The errors and warnings of one event; warnings name fields Microsoft drops. */
function checkEvent(raw: unknown, i: number, nowMs: number): Detail[] {
  const out: Detail[] = [];
  const at = (prop: string, value: unknown, errorCode: string, errorMessage: string, isWarning = false): void => {
    out.push({ index: i, propertyName: `data[${i}]${prop === '' ? '' : `.${prop}`}`, attemptedValue: value ?? null, errorCode, errorMessage, isWarning });
  };
  if (!isRecord(raw)) {
    at('', raw, 'InvalidValue', 'The event must be an object.');
    return out;
  }
  for (const key of Object.keys(raw)) if (!EVENT_FIELDS.has(key)) at(key, raw[key], 'UnknownProperty', `Unknown property '${key}'.`);
  const type = raw['eventType'];
  if (type !== 'pageLoad' && type !== 'custom') at('eventType', type, 'InvalidEnumValue', "eventType must be 'pageLoad' or 'custom'.");
  if (type === 'pageLoad' && !isUrl(raw['eventSourceUrl'])) at('eventSourceUrl', raw['eventSourceUrl'], 'InvalidUrl', 'A pageLoad event needs a valid eventSourceUrl.');
  // A custom event without a name: an error here (UNCONFIRMED, microsoft-ads.md §10).
  if (type === 'custom' && (typeof raw['eventName'] !== 'string' || raw['eventName'] === '')) at('eventName', raw['eventName'], 'Empty', 'eventName is required for a custom event.');
  if (raw['eventId'] !== undefined && (typeof raw['eventId'] !== 'string' || raw['eventId'] === '')) at('eventId', raw['eventId'], 'InvalidValue', 'eventId must be a non-empty string.');
  const time = raw['eventTime'];
  if (time === undefined || time === null) at('eventTime', time, 'Empty', 'eventTime is required.');
  // Seconds: a millisecond value (13 digits) is no time of the last 7 days in seconds either.
  else if (typeof time !== 'number' || !Number.isInteger(time)) at('eventTime', time, 'InvalidEventTime', 'eventTime must be an integer number of seconds.');
  else if (nowMs - time * 1000 > 7 * MS.day) at('eventTime', time, 'InvalidEventTime', 'eventTime must be within the last 7 days.');
  // A future time: an error here (UNCONFIRMED, microsoft-ads.md §10); 5 minutes of clock skew allowed.
  else if (time * 1000 - nowMs > 5 * MS.minute) at('eventTime', time, 'InvalidEventTime', 'eventTime cannot be in the future.');
  const consent = raw['adStorageConsent'];
  if (consent !== undefined && consent !== 'G' && consent !== 'D') at('adStorageConsent', consent, 'InvalidEnumValue', "adStorageConsent must be 'G' or 'D'; ignored.", true);
  if (raw['referrerUrl'] !== undefined && !isUrl(raw['referrerUrl'])) at('referrerUrl', raw['referrerUrl'], 'InvalidUrl', 'referrerUrl is not a valid URL; ignored.', true);
  const user = raw['userData'];
  if (!isRecord(user)) {
    at('userData', user, 'Empty', 'userData is required.');
  } else {
    for (const key of Object.keys(user)) if (!USER_FIELDS.has(key)) at(`userData.${key}`, user[key], 'UnknownProperty', `Unknown property '${key}'.`);
    for (const key of ['em', 'ph'] as const) {
      if (user[key] !== undefined && (typeof user[key] !== 'string' || !HASH.test(user[key]))) {
        at(`userData.${key}`, user[key], 'InvalidSha256', `${key} must be a SHA-256 hash in lower-case hex; ignored.`, true);
      }
    }
    const valid = (key: string): boolean => {
      const v = user[key];
      if (typeof v !== 'string' || v === '') return false;
      return key === 'em' || key === 'ph' ? HASH.test(v) : true;
    };
    if (!IDENTIFIERS.some(valid)) at('userData', user, 'MissingUserIdentifier', 'userData needs at least one of msclkid, em, ph, anonymousId, externalId, idfa, gaid.');
  }
  const custom = raw['customData'];
  if (custom !== undefined) {
    if (!isRecord(custom)) at('customData', custom, 'InvalidValue', 'customData must be an object.');
    else {
      for (const key of Object.keys(custom)) if (!CUSTOM_FIELDS.has(key)) at(`customData.${key}`, custom[key], 'UnknownProperty', `Unknown property '${key}'.`);
      if (custom['value'] !== undefined && (typeof custom['value'] !== 'number' || !Number.isFinite(custom['value']))) at('customData.value', custom['value'], 'InvalidValue', 'value must be a number.');
      if (custom['currency'] !== undefined && !isKnownCurrency(custom['currency'])) at('customData.currency', custom['currency'], 'InvalidCurrency', 'currency is not a supported ISO 4217 code; ignored.', true);
      if (custom['pageType'] !== undefined && !PAGE_TYPES.has(String(custom['pageType']))) at('customData.pageType', custom['pageType'], 'InvalidEnumValue', 'pageType is not supported; ignored.', true);
      if (custom['transactionId'] !== undefined && typeof custom['transactionId'] !== 'string') at('customData.transactionId', custom['transactionId'], 'InvalidValue', 'transactionId must be a string.');
    }
  }
  return out;
}

/** `POST /v1/{tagId}/events`. `injected`: `data` positions refused with this error code (a scripted `microsoft-capi-invalid`). */
export function handleMicrosoftCapi(req: FakeHttpRequest, ctx: MicrosoftCapiContext, injected: ReadonlyMap<number, string> = new Map()): FakeAnswer {
  const m = /^\/v1\/([^/]+)\/events$/.exec(req.path);
  if (m === null || req.method !== 'POST') return { status: 404, body: { error: { code: 'NotFound', message: `No UET Conversions API method ${req.method} ${req.path} (POST /v1/{tagId}/events only).` } } };
  const tagId = decodeURIComponent(m[1] ?? '');
  const auth = header(req.headers, 'authorization');
  const token = auth === undefined ? undefined : /^Bearer\s+(\S+)$/.exec(auth.trim())?.[1];
  // The token is bound to its tag: another tag's token, or none, is refused (MS-CAPI).
  if (!/^\d+$/.test(tagId) || token === undefined || ctx.keys.get(tagId) !== token) return unauthorized();
  if (req.contentType !== 'application/json') return { status: 415, body: { error: { code: 'UnsupportedMediaType', message: 'Content-Type must be application/json.' } } };
  if (req.body.kind !== 'json' || !isRecord(req.body.value)) return requestError('', null, 'InvalidJson', 'The body is not a JSON object.');
  const body = req.body.value;
  for (const key of Object.keys(body)) {
    if (!['data', 'continueOnValidationError', 'dataProvider'].includes(key)) return requestError(key, body[key], 'UnknownProperty', `Unknown property '${key}'.`);
  }
  const cont = body['continueOnValidationError'];
  if (cont !== undefined && typeof cont !== 'boolean') return requestError('continueOnValidationError', cont, 'InvalidValue', 'continueOnValidationError must be a boolean.');
  // "required for third-party senders" (MS-CAPI): the fake always asks for it.
  if (typeof body['dataProvider'] !== 'string' || body['dataProvider'] === '') return requestError('dataProvider', body['dataProvider'], 'Empty', 'dataProvider is required for third-party senders.');
  const data = body['data'];
  // Wording of these two UNCONFIRMED (microsoft-ads.md §10).
  if (!Array.isArray(data) || data.length === 0) return requestError('data', data ?? null, 'Empty', 'data must hold 1 to 1000 events.');
  if (data.length > 1000) return requestError('data', data.length, 'TooManyEvents', 'data must hold 1 to 1000 events.');

  const nowMs = ctx.now().getTime();
  const details: Detail[] = [];
  const valid: number[] = [];
  data.forEach((raw, i) => {
    const found = checkEvent(raw, i, nowMs);
    const code = injected.get(i);
    if (code !== undefined) found.push({ index: i, propertyName: `data[${i}]`, attemptedValue: null, errorCode: code, errorMessage: 'Scripted validation error.', isWarning: false });
    details.push(...found);
    if (!found.some((d) => !d.isWarning)) valid.push(i);
  });
  const hasErrors = valid.length < data.length;
  if (hasErrors && (cont !== true || valid.length === 0)) return validation(400, details);
  for (const i of valid) {
    const event = data[i] as Record<string, unknown>;
    const warnings = details.filter((d) => d.index === i && d.isWarning).map((d) => `${d.propertyName} ${d.errorCode}`);
    const id = event['eventId'];
    let verdict: 'counted' | 'duplicate' = 'counted';
    if (typeof id === 'string') verdict = ctx.ledger.receive(`${tagId}:${String(event['eventName'])}:${id}`, nowMs);
    else ctx.ledger.receiveAnonymous(`${tagId}:${String(event['eventName'])}`);
    ctx.received.push({ tagId, event, verdict, warnings });
  }
  if (details.length > 0) return validation(200, details, { eventsReceived: valid.length });
  return { status: 200, body: { eventsReceived: valid.length } };
}

/** A UET tag as `UetTags/QueryByIds` returns it. */
function tagBody(tag: UetTagSeed): Record<string, unknown> {
  return { Id: tag.id, Name: tag.name, Description: null, TrackingStatus: 'Active', TrackingScript: `<script>/* UET tag ${tag.id} */</script>`, CustomerShare: null };
}

/**
 * `UetTags/QueryByIds` (`TagIds` null: every tag of the account) and
 * `UetTagAuthKey/Query` (`{"UetTagId":…}` → `{"UetTagAuthKey":…}`, the
 * existing key or a new one; the reference page and SDK shape, DISAGREE with
 * the CAPI guide's in microsoft-ads.md §8). `undefined` for other methods.
 */
export function handleUetTagCall(method: string, body: Record<string, unknown>, ctx: MicrosoftCapiContext, accountId: string): FakeAnswer | undefined {
  const tracking = randomUUID();
  const ok = (b: Record<string, unknown>): FakeAnswer => ({ status: 200, body: b, headers: { trackingid: tracking } });
  const own = ctx.tags.filter((t) => t.accountId === accountId);
  if (method === 'UetTags/QueryByIds') {
    if (!('TagIds' in body)) return { status: 400, body: { Message: 'The request is invalid: TagIds is required (null for every tag).' } };
    const ids = body['TagIds'];
    if (ids !== null && !Array.isArray(ids)) return { status: 400, body: { Message: 'The request is invalid: TagIds must be an array or null.' } };
    const wanted = ids === null ? undefined : new Set(ids.map(String));
    return ok({ UetTags: own.filter((t) => wanted === undefined || wanted.has(t.id)).map(tagBody), PartialErrors: [] });
  }
  if (method === 'UetTagAuthKey/Query') {
    for (const key of Object.keys(body)) {
      if (key !== 'UetTagId') return { status: 400, body: { Message: `The request is invalid: unknown property '${key}'.` } };
    }
    const id = body['UetTagId'];
    if ((typeof id !== 'string' && typeof id !== 'number') || !/^\d+$/.test(String(id))) {
      return { status: 400, body: { Message: 'The request is invalid: UetTagId must be the numeric tag id.' } };
    }
    const tag = own.find((t) => t.id === String(id));
    if (tag === undefined) {
      // A tag the caller does not own: code and shape UNCONFIRMED; a partial error with no key.
      return ok({
        UetTagAuthKey: null,
        PartialErrors: [{ Code: 4511, ErrorCode: 'UetTagIdInvalid', Message: 'The UET tag id is invalid or not owned by this account.', Index: 0, Type: 'BatchError' }],
      });
    }
    let key = ctx.keys.get(tag.id);
    if (key === undefined) {
      key = `uet-capi-${randomUUID()}`;
      ctx.keys.set(tag.id, key);
    }
    return ok({ UetTagAuthKey: key, PartialErrors: [] });
  }
  return undefined;
}
