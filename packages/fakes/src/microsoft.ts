/**
 * Fake Microsoft Advertising REST: Customer Management (`User/Query`,
 * `AccountsInfo/Query`), Campaign Management (`ConversionGoals/QueryByIds`,
 * `OfflineConversions/Apply`, and the UET tag calls of `microsoft-capi.ts`), production and sandbox (microsoft-ads.md §10).
 * Every header and field is checked; faults are flat `ApplicationFault`s with
 * `Type`; what Microsoft accepts silently (unknown clicks, duplicates) gets
 * HTTP 200 and is recorded with its §4.4 reason for tests. Pure request →
 * answer logic over the state passed in.
 */
import { randomUUID } from 'node:crypto';
import { isKnownCurrency, MS } from './formats.js';
import type { Ledger } from './ledger.js';
import { handleUetTagCall, type MicrosoftCapiContext } from './microsoft-capi.js';
import type { MicrosoftIdentity } from './microsoft-oauth.js';
import { header, isRecord, type FakeAnswer, type FakeHttpRequest } from './request.js';

/** A seeded offline conversion goal. */
export interface MicrosoftGoalSeed {
  id: string;
  name: string;
  accountId: string;
  /** `OfflineConversion` unless given (an `Event` goal is not an offline goal). */
  type?: string;
  status?: 'Active' | 'Paused';
  enhanced?: boolean;
  /** Goal creation time; younger than 2 hours gives 5615. Defaults to long ago. */
  createdAt?: Date | string;
}

/** A conversion Microsoft took silently, and why it will not count (microsoft-ads.md §4.4). */
export interface MicrosoftSilentRecord {
  msclkid: string;
  conversionName: string;
  conversionTime: string;
  reason: 'NoMatchingClickFound' | 'AccountMismatch' | 'DuplicateConversionKey' | 'SandboxNotAttributed';
  accountId: string;
}

/** One stored conversion (counted once). */
export interface MicrosoftStoredConversion {
  accountId: string;
  body: Record<string, unknown>;
}

/** What the Microsoft fake needs. */
export interface MicrosoftContext {
  developerToken: string;
  customerId: string;
  accounts: ReadonlyArray<{ id: string; name: string; number: string }>;
  /** Replaced, never mutated, when a test turns a goal's enhanced conversions on or off. */
  goals: readonly MicrosoftGoalSeed[];
  /** Clicks known per account; `undefined`: every well-formed click is known to the connection's account. */
  knownClicks: ReadonlyMap<string, { accountId: string; clickedAtMs?: number }> | undefined;
  identity: MicrosoftIdentity;
  ledger: Ledger;
  silent: MicrosoftSilentRecord[];
  stored: MicrosoftStoredConversion[];
  /** UET tags and their Conversions API tokens (`UetTags/QueryByIds`, `UetTagAuthKey/Query`). */
  capi: MicrosoftCapiContext;
  now: () => Date;
}

const CONVERSION_FIELDS = new Set([
  'MicrosoftClickId', 'ConversionName', 'ConversionTime', 'ConversionValue', 'ConversionCurrencyCode',
  'HashedEmailAddress', 'HashedPhoneNumber', 'ExternalAttributionCredit', 'ExternalAttributionModel',
]);
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})?$/;
const MSCLKID = /^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$/;
const HASH = /^[0-9a-f]{64}$/;

/** Default messages of the codes the fake answers (MS-ERR). */
export const MICROSOFT_ERRORS: Readonly<Record<number, { errorCode: string; message: string }>> = {
  0: { errorCode: 'InternalError', message: 'An internal error has occurred.' },
  105: { errorCode: 'InvalidCredentials', message: 'Authentication failed. Either supplied credentials are invalid or the account is inactive.' },
  106: { errorCode: 'UserIsNotAuthorized', message: 'The user does not represent a authorized developer.' },
  109: { errorCode: 'AuthenticationTokenExpired', message: 'Authentication token expired. Please renew it or obtain a new token.' },
  117: { errorCode: 'CallRateExceeded', message: 'You have exceeded the number of calls that you are allowed to make in a given time period.' },
  1029: { errorCode: 'CampaignServiceCustomerIdHasToBeSpecified', message: 'The CustomerId header element cannot be null or empty.' },
  1030: { errorCode: 'CampaignServiceAccountIdHasToBeSpecified', message: 'The CustomerAccountId header element cannot be null or empty.' },
  3101: { errorCode: 'OAuthTokenInvalid', message: 'The OAuth access token is invalid for this API.' },
  5600: { errorCode: 'OfflineConversionsNullOrEmpty', message: 'The list of offline conversions cannot be null or empty.' },
  5601: { errorCode: 'OfflineConversionsLimitExceeded', message: 'The list of offline conversions exceeds the limit.' },
  5603: { errorCode: 'OfflineConversionMicrosoftClickIdNullOrEmpty', message: 'The offline conversion MicrosoftClickId cannot be null or empty.' },
  5604: { errorCode: 'OfflineConversionMicrosoftClickIdInvalid', message: 'The offline conversion MicrosoftClickId is invalid.' },
  5605: { errorCode: 'OfflineConversionNameNullOrEmpty', message: 'The offline conversion name cannot be null or empty.' },
  5606: { errorCode: 'OfflineConversionNameInvalid', message: 'The offline conversion name is invalid.' },
  5608: { errorCode: 'OfflineConversionTimeNullOrEmpty', message: 'The offline conversion time cannot be null or empty.' },
  5609: { errorCode: 'OfflineConversionTimeOutOfWindow', message: 'The offline conversion time is out of the conversion window.' },
  5610: { errorCode: 'OfflineConversionValueInvalid', message: 'The offline conversion value is invalid.' },
  5611: { errorCode: 'OfflineConversionCurrencyCodeInvalid', message: 'The offline conversion currency code is invalid.' },
  5612: { errorCode: 'OfflineConversionsApplyFailed', message: 'Failed to send the offline conversions to the internal server.' },
  5614: { errorCode: 'FutureConversionTimeCannotBeSet', message: 'The offline conversion time cannot be in the future.' },
  5615: { errorCode: 'OfflineConversionNotAcceptedForGoal', message: 'Offline conversions are accepted for a goal 2 hours after it is created.' },
  5616: { errorCode: 'ConversionTimeEarlierThanClickTime', message: 'The conversion time cannot be earlier than the click time.' },
  5617: { errorCode: 'ClickIdDateTimeOutsideGoalConversionWindow', message: 'The click is outside the goal conversion window.' },
};

function trackingId(): string {
  return randomUUID();
}

/** A request-level fault: AdApiFaultDetail for auth and throttling, ApiFaultDetail for operations. */
export function microsoftFault(code: number, status: number, message?: string): FakeAnswer {
  const known = MICROSOFT_ERRORS[code] ?? { errorCode: 'Unknown', message: 'Error.' };
  const tracking = trackingId();
  const error = { Code: code, Details: null, ErrorCode: known.errorCode, Message: message ?? known.message };
  const adApi = code < 1000 || code === 3101;
  const body = adApi
    ? { TrackingId: tracking, Type: 'AdApiFaultDetail', Errors: [{ Code: code, Detail: null, ErrorCode: known.errorCode, Message: error.Message }] }
    : { TrackingId: tracking, Type: 'ApiFaultDetail', BatchErrors: [], OperationErrors: [error] };
  return { status, body, headers: { trackingid: tracking } };
}

function ok(body: Record<string, unknown>): FakeAnswer {
  const tracking = trackingId();
  return { status: 200, body, headers: { trackingid: tracking } };
}

function batchError(index: number, code: number, fieldPath: string | null, errorCode?: string, message?: string): Record<string, unknown> {
  const known = MICROSOFT_ERRORS[code];
  return {
    Code: code, Details: null, ErrorCode: errorCode ?? known?.errorCode ?? 'Unknown', FieldPath: fieldPath, ForwardCompatibilityMap: null,
    Index: index, Message: message ?? known?.message ?? 'Error.', Type: 'BatchError',
  };
}

type Authed = { ok: true; user: string; sandbox: boolean } | { ok: false; answer: FakeAnswer };

/** `Authorization` and `DeveloperToken` (every call), and the environment of the token. */
function authenticate(req: FakeHttpRequest, ctx: MicrosoftContext, sandbox: boolean): Authed {
  const auth = header(req.headers, 'authorization');
  const match = auth === undefined ? null : /^Bearer\s+(\S+)$/.exec(auth.trim());
  const issued = match === null ? undefined : ctx.identity.access.get(match[1] ?? '');
  if (issued === undefined) return { ok: false, answer: microsoftFault(105, 401) };
  if (ctx.now().getTime() >= issued.expiresAtMs) return { ok: false, answer: microsoftFault(109, 401) };
  if (header(req.headers, 'developertoken') !== ctx.developerToken) return { ok: false, answer: microsoftFault(105, 401) };
  // A sandbox token on production, or the reverse: InvalidCredentials (environment mismatch, MS-ERR 105).
  if (issued.sandbox !== sandbox) return { ok: false, answer: microsoftFault(105, 401) };
  return { ok: true, user: issued.user, sandbox };
}

/** `CustomerId` and `CustomerAccountId` of a Campaign Management call. */
function account(req: FakeHttpRequest, ctx: MicrosoftContext): { ok: true; accountId: string } | { ok: false; answer: FakeAnswer } {
  const customer = header(req.headers, 'customerid');
  const accountId = header(req.headers, 'customeraccountid');
  if (customer === undefined || !/^\d+$/.test(customer)) return { ok: false, answer: microsoftFault(1029, 400) };
  if (accountId === undefined || !/^\d+$/.test(accountId)) return { ok: false, answer: microsoftFault(1030, 400) };
  const known = ctx.accounts.some((a) => a.id === accountId);
  if (customer !== ctx.customerId) {
    // cid and aid swapped: the reported symptom is 105 (GH Advertising-docs#1051).
    return { ok: false, answer: microsoftFault(customer === accountId || ctx.accounts.some((a) => a.id === customer) ? 105 : 106, customer === accountId ? 401 : 403) };
  }
  if (!known) return { ok: false, answer: microsoftFault(106, 403) };
  return { ok: true, accountId };
}

function jsonBody(req: FakeHttpRequest): { body: Record<string, unknown> } | { answer: FakeAnswer } {
  if (req.contentType !== 'application/json') return { answer: { status: 415, body: { Message: 'The request entity media type must be application/json.' } } };
  if (req.body.kind !== 'json' || !isRecord(req.body.value)) return { answer: { status: 400, body: { Message: 'The request is invalid: the body is not a JSON object.' } } };
  return { body: req.body.value };
}

function goalsOf(ctx: MicrosoftContext, accountId: string): MicrosoftGoalSeed[] {
  return ctx.goals.filter((g) => g.accountId === accountId);
}

function queryGoals(body: Record<string, unknown>, ctx: MicrosoftContext, accountId: string): FakeAnswer {
  const types = body['ConversionGoalTypes'];
  if (typeof types !== 'string' || types.trim() === '') return microsoftFault(5600, 400, 'ConversionGoalTypes is required.');
  const wanted = new Set(types.split(',').map((s) => s.trim()));
  const ids = body['ConversionGoalIds'];
  const idSet = Array.isArray(ids) ? new Set(ids.map(String)) : undefined;
  const extra = typeof body['ReturnAdditionalFields'] === 'string' ? body['ReturnAdditionalFields'].split(',').map((s) => s.trim()) : [];
  const goals = goalsOf(ctx, accountId)
    .filter((g) => wanted.has(g.type ?? 'OfflineConversion') && (idSet === undefined || idSet.has(g.id)))
    .map((g) => {
      const out: Record<string, unknown> = {
        Id: g.id, Name: g.name, Type: g.type ?? 'OfflineConversion', Status: g.status ?? 'Active', Scope: 'Account',
        CountType: 'All', ConversionWindowInMinutes: 43200, GoalCategory: 'Purchase', TagId: null,
      };
      if (extra.includes('IsEnhancedConversionsEnabled')) out['IsEnhancedConversionsEnabled'] = g.enhanced === true;
      if (extra.includes('IsExternallyAttributed')) out['IsExternallyAttributed'] = false;
      return out;
    });
  return ok({ ConversionGoals: goals, PartialErrors: [] });
}

/** `OfflineConversions/Apply` (microsoft-ads.md §3, §4, §10). */
function applyOfflineConversions(body: Record<string, unknown>, ctx: MicrosoftContext, accountId: string, sandbox: boolean, failures: ReadonlyMap<number, number>): FakeAnswer {
  for (const key of Object.keys(body)) {
    if (key !== 'OfflineConversions') return { status: 400, body: { Message: `The request is invalid: unknown property '${key}'.` } };
  }
  const list = body['OfflineConversions'];
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) return microsoftFault(5600, 400);
  if (!Array.isArray(list)) return { status: 400, body: { Message: 'The request is invalid: OfflineConversions must be an array.' } };
  if (list.length > 1000) return microsoftFault(5601, 400);
  // Deserialisation: the whole request fails, nothing stored (GH PHP-SDK#41).
  for (const [i, item] of list.entries()) {
    if (!isRecord(item)) return { status: 400, body: { Message: `The request is invalid: OfflineConversions[${i}] is not an object.` } };
    for (const key of Object.keys(item)) {
      if (!CONVERSION_FIELDS.has(key)) return { status: 400, body: { Message: `The request is invalid: unknown property '${key}' in OfflineConversions[${i}].` } };
    }
    const t = item['ConversionTime'];
    if (t !== undefined && t !== null && (typeof t !== 'string' || !TIME.test(t) || Number.isNaN(Date.parse(t)))) {
      return { status: 400, body: { Message: `The request is invalid: OfflineConversions[${i}].ConversionTime '${String(t)}' is not a date-time.` } };
    }
  }
  const nowMs = ctx.now().getTime();
  const errors: Array<Record<string, unknown>> = [];
  for (const [i, raw] of list.entries()) {
    const item = raw as Record<string, unknown>;
    const problem = checkConversion(item, ctx, accountId, nowMs, failures.get(i));
    if (problem !== undefined) {
      errors.push(batchError(i, problem.code, problem.field, problem.errorCode, problem.message));
      continue;
    }
    const msclkid = String(item['MicrosoftClickId']);
    const name = String(item['ConversionName']);
    const at = new Date(Date.parse(String(item['ConversionTime']).replace(/(T[\d:.]+)$/, '$1Z'))).toISOString();
    const conversionTime = String(item['ConversionTime']);
    // Dedup key: click, goal name, conversion time (MS-HELP); the first instance wins.
    const key = `${accountId}:${msclkid.toLowerCase()}:${name}:${at}`;
    if (ctx.ledger.has(key, nowMs)) {
      ctx.ledger.bump(key);
      ctx.silent.push({ msclkid, conversionName: name, conversionTime, reason: 'DuplicateConversionKey', accountId });
      continue;
    }
    const click = ctx.knownClicks?.get(msclkid.toLowerCase());
    if (ctx.knownClicks !== undefined && click === undefined) {
      ctx.silent.push({ msclkid, conversionName: name, conversionTime, reason: 'NoMatchingClickFound', accountId });
      continue;
    }
    if (click !== undefined && click.accountId !== accountId) {
      ctx.silent.push({ msclkid, conversionName: name, conversionTime, reason: 'AccountMismatch', accountId });
      continue;
    }
    ctx.ledger.receive(key, nowMs);
    ctx.stored.push({ accountId, body: item });
    if (sandbox) ctx.silent.push({ msclkid, conversionName: name, conversionTime, reason: 'SandboxNotAttributed', accountId });
  }
  return ok({ PartialErrors: errors });
}

function checkConversion(
  item: Record<string, unknown>,
  ctx: MicrosoftContext,
  accountId: string,
  nowMs: number,
  injected: number | undefined,
): { code: number; field: string | null; errorCode?: string; message?: string } | undefined {
  const present = (k: string): boolean => item[k] !== undefined && item[k] !== null;
  const name = item['ConversionName'];
  if (typeof name !== 'string' || name === '') return { code: 5605, field: 'ConversionName' };
  const goal = goalsOf(ctx, accountId).find((g) => g.name === name && (g.type ?? 'OfflineConversion') === 'OfflineConversion');
  if (goal === undefined) return { code: 5606, field: 'ConversionName' };
  const hashed = present('HashedEmailAddress') || present('HashedPhoneNumber');
  const click = item['MicrosoftClickId'];
  if ((typeof click !== 'string' || click === '') && !hashed) return { code: 5603, field: 'MicrosoftClickId' };
  if (typeof click === 'string' && click !== '' && !MSCLKID.test(click)) return { code: 5604, field: 'MicrosoftClickId' };
  const time = item['ConversionTime'];
  if (typeof time !== 'string' || time === '') return { code: 5608, field: 'ConversionTime' };
  // No zone: read as UTC (UNCONFIRMED; the sender always sends Z).
  const at = Date.parse(/(Z|[+-]\d{2}:\d{2})$/.test(time) ? time : `${time}Z`);
  if (at > nowMs + 5 * MS.minute) return { code: 5614, field: 'ConversionTime' };
  if (nowMs - at > 90 * MS.day) return { code: 5609, field: 'ConversionTime' };
  const known = typeof click === 'string' ? ctx.knownClicks?.get(click.toLowerCase()) : undefined;
  if (known?.clickedAtMs !== undefined) {
    if (at <= known.clickedAtMs) return { code: 5616, field: 'ConversionTime' };
    if (at - known.clickedAtMs > 43200 * MS.minute) return { code: 5617, field: 'ConversionTime' };
  }
  if (present('ConversionValue')) {
    const v = item['ConversionValue'];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 999_999_999_999) return { code: 5610, field: 'ConversionValue' };
  }
  if (present('ConversionCurrencyCode') && !isKnownCurrency(item['ConversionCurrencyCode'])) return { code: 5611, field: 'ConversionCurrencyCode' };
  if (present('ExternalAttributionCredit') || present('ExternalAttributionModel')) {
    return { code: 0, field: 'ExternalAttributionCredit', errorCode: 'GoalNotEligibleForExternalAttribution', message: 'The goal is not externally attributed.' };
  }
  if (present('HashedEmailAddress') && (typeof item['HashedEmailAddress'] !== 'string' || !HASH.test(item['HashedEmailAddress']))) {
    return { code: 0, field: 'HashedEmailAddress', errorCode: 'ConversionEmailAddressIsNotHashed', message: 'The email address is not SHA-256 hashed.' };
  }
  if (present('HashedPhoneNumber') && (typeof item['HashedPhoneNumber'] !== 'string' || !HASH.test(item['HashedPhoneNumber']))) {
    return { code: 0, field: 'HashedPhoneNumber', errorCode: 'ConversionPhoneNumberIsNotHashed', message: 'The phone number is not SHA-256 hashed.' };
  }
  if (hashed && goal.enhanced !== true) {
    return { code: 0, field: 'HashedEmailAddress', errorCode: 'NotEligibleForEnhancedConversions', message: 'The goal does not have enhanced conversions on.' };
  }
  if (goal.createdAt !== undefined && nowMs - new Date(goal.createdAt).getTime() < 2 * MS.hour) return { code: 5615, field: 'ConversionName' };
  if (injected !== undefined) return { code: injected, field: null };
  return undefined;
}

/** Customer Management: `User/Query` and `AccountsInfo/Query` (microsoft-ads.md §7.2). */
function customerManagement(req: FakeHttpRequest, ctx: MicrosoftContext, user: string, method: string): FakeAnswer {
  const parsed = jsonBody(req);
  if ('answer' in parsed) return parsed.answer;
  const body = parsed.body;
  if (method === 'User/Query') {
    // `{"UserId":null}`: the signed-in user (microsoft-ads.md §7.2).
    if (!('UserId' in body) || (body['UserId'] !== null && String(body['UserId']) !== '9000001')) {
      return { status: 400, body: { Message: "The request is invalid: UserId is required (null for the signed-in user)." } };
    }
    return ok({
      User: { Id: '9000001', UserName: user, ContactInfo: null },
      CustomerRoles: [{ CustomerId: ctx.customerId, AccountIds: null, LinkedAccountIds: null, RoleId: '41', CustomerLinkPermission: null }],
    });
  }
  if (method === 'AccountsInfo/Query') {
    if (body['CustomerId'] === undefined || body['CustomerId'] === null) return { status: 400, body: { Message: 'The request is invalid: CustomerId is required.' } };
    if (body['OnlyParentAccounts'] !== undefined && typeof body['OnlyParentAccounts'] !== 'boolean') {
      return { status: 400, body: { Message: 'The request is invalid: OnlyParentAccounts must be a boolean.' } };
    }
    if (String(body['CustomerId']) !== ctx.customerId) return microsoftFault(106, 403);
    return ok({
      AccountsInfo: ctx.accounts.map((a) => ({ Id: a.id, Name: a.name, Number: a.number, AccountLifeCycleStatus: 'Active', PauseReason: null })),
    });
  }
  return { status: 404, body: { Message: `No Customer Management method ${method}.` } };
}

/** Answer one request under `/CampaignManagement/v13/…` or `/CustomerManagement/v13/…`. */
export function handleMicrosoft(req: FakeHttpRequest, ctx: MicrosoftContext, sandbox: boolean, failures: ReadonlyMap<number, number>): FakeAnswer {
  const m = /^\/(CampaignManagement|CustomerManagement)\/v13\/(.+)$/.exec(req.path);
  if (m === null || req.method !== 'POST') return { status: 404, body: { Message: `No Microsoft Advertising method ${req.method} ${req.path} (POST /CampaignManagement/v13/… only).` } };
  const auth = authenticate(req, ctx, sandbox);
  if (!auth.ok) return auth.answer;
  const method = m[2] as string;
  if (m[1] === 'CustomerManagement') return customerManagement(req, ctx, auth.user, method);
  const acct = account(req, ctx);
  if (!acct.ok) return acct.answer;
  const parsed = jsonBody(req);
  if ('answer' in parsed) return parsed.answer;
  const body = parsed.body;
  if (method === 'OfflineConversions/Apply') return applyOfflineConversions(body, ctx, acct.accountId, sandbox, failures);
  if (method === 'ConversionGoals/QueryByIds') return queryGoals(body, ctx, acct.accountId);
  const tags = handleUetTagCall(method, body, ctx.capi, acct.accountId);
  if (tags !== undefined) return tags;
  return { status: 404, body: { Message: `No Campaign Management method ${method}.` } };
}
