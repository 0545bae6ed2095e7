/**
 * Fake Google Ads `customers/{cid}:uploadClickConversions` (platforms.md §3, checks §8).
 * Per-row errors come back in `partialFailureError` with HTTP 200, request-level
 * errors as RPC errors. Pure request → answer logic.
 */
import { isKnownCurrency, MS, SHA256_HEX } from './formats.js';
import { adsJobId } from './ids.js';
import type { Ledger } from './ledger.js';
import { authorization, GOOGLE_SCOPES, type TokenStore } from './google-oauth.js';
import {
  adsFailure, adsRpcError, badRequest, MISSING_CREDENTIALS_MESSAGE, RPC_CODE, rpcError,
  type AdsError, type AdsFieldPathElement,
} from './google-rpc.js';
import { checkProtoJson, enumsToNames, P, type ProtoType } from './proto-json.js';
import { header, isRecord, type FakeAnswer, type FakeHttpRequest } from './request.js';

/** Ads API versions the fake serves (platforms.md §3.1: v23-v26 active in late 2026). */
export const ADS_API_VERSIONS: readonly string[] = ['v23', 'v24', 'v25', 'v26'];

/** At most 2,000 conversions per request (platforms.md §3.2). */
const MAX_CONVERSIONS = 2000;
/** At most 5 user identifiers per conversion (platforms.md §3.2). */
const MAX_USER_IDENTIFIERS = 5;
/** A click must be at least 6 h old when uploaded: "retry after 6 hours" (platforms.md §3.5 TOO_RECENT_EVENT). */
const MIN_CLICK_AGE_MS = 6 * MS.hour;
/** The fake's click-through window: the 90-day maximum (platforms.md §3.6). */
const CLICK_WINDOW_MS = 90 * MS.day;
/** `yyyy-mm-dd hh:mm:ss+|-hh:mm`: no `T`, no `Z` (platforms.md §3.2). */
const ADS_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})([+-])(\d{2}):(\d{2})$/;
const CONVERSION_ACTION = /^customers\/(\d+)\/conversionActions\/(\d+)$/;
/** Click ids are URL-safe base64-ish tokens; anything else was modified (UNPARSEABLE_*). */
const CLICK_ID = /^[A-Za-z0-9_-]{4,512}$/;
const CLICK_FIELDS = ['gclid', 'gbraid', 'wbraid'] as const;
type ClickField = (typeof CLICK_FIELDS)[number];

/** The proto3-JSON shape of the request (platforms.md §3.2), per version for the type names. */
function requestType(version: string): ProtoType {
  const ns = `google.ads.googleads.${version}`;
  // Every Google Ads enum numbers UNSPECIFIED 0 and UNKNOWN 1 (googleapis google/ads/googleads/v24/enums).
  const consentStatus = P.enumOf(`${ns}.enums.ConsentStatusEnum.ConsentStatus`, { UNSPECIFIED: 0, UNKNOWN: 1, GRANTED: 2, DENIED: 3 });
  const userIdentifier = P.message(`${ns}.common.UserIdentifier`, {
    userIdentifierSource: P.enumOf(`${ns}.enums.UserIdentifierSourceEnum.UserIdentifierSource`, { UNSPECIFIED: 0, UNKNOWN: 1, FIRST_PARTY: 2, THIRD_PARTY: 3 }),
    hashedEmail: P.string,
    hashedPhoneNumber: P.string,
    mobileId: P.string,
    thirdPartyUserId: P.string,
    addressInfo: P.any,
  });
  const conversion = P.message(`${ns}.services.ClickConversion`, {
    gclid: P.string,
    gbraid: P.string,
    wbraid: P.string,
    conversionAction: P.string,
    conversionDateTime: P.string,
    conversionValue: P.double,
    currencyCode: P.string,
    orderId: P.string,
    externalAttributionData: P.message(`${ns}.services.ExternalAttributionData`, { externalAttributionCredit: P.double, externalAttributionModel: P.string }),
    customVariables: P.repeated(P.message(`${ns}.services.CustomVariable`, { conversionCustomVariable: P.string, value: P.string })),
    cartData: P.any,
    userIdentifiers: P.repeated(userIdentifier),
    conversionEnvironment: P.enumOf(`${ns}.enums.ConversionEnvironmentEnum.ConversionEnvironment`, { UNSPECIFIED: 0, UNKNOWN: 1, APP: 2, WEB: 3 }),
    consent: P.message(`${ns}.common.Consent`, { adUserData: consentStatus, adPersonalization: consentStatus }),
    customerType: P.enumOf(`${ns}.enums.ConversionCustomerTypeEnum.ConversionCustomerType`, { UNSPECIFIED: 0, UNKNOWN: 1, NEW: 2, RETURNING: 3 }),
    userIpAddress: P.string,
    sessionAttributesEncoded: P.string,
    sessionAttributesKeyValuePairs: P.any,
  });
  return P.message(`${ns}.services.UploadClickConversionsRequest`, {
    conversions: P.repeated(conversion),
    partialFailure: P.bool,
    validateOnly: P.bool,
    jobId: P.int32,
  });
}

const requestTypes = new Map<string, ProtoType>();
function requestTypeOf(version: string): ProtoType {
  let type = requestTypes.get(version);
  if (type === undefined) {
    type = requestType(version);
    requestTypes.set(version, type);
  }
  return type;
}

/** What the click checks need: known clicks (id → click time in ms, or `undefined` when unknown). */
export interface ClickKnowledge {
  /** `undefined`: every well-formed click is known and no time check runs. */
  knownClicks: ReadonlyMap<string, number | undefined> | undefined;
  conversionActions: ReadonlySet<string>;
  nowMs: number;
}

/** Parse an Ads `conversionDateTime` to epoch ms; `undefined` when the format is wrong, `NaN` when the values are. */
export function parseAdsDateTime(value: string): number | undefined {
  const m = ADS_DATE_TIME.exec(value);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s, oh, om] = [1, 2, 3, 4, 5, 6, 8, 9].map((i) => Number(m[i])) as [number, number, number, number, number, number, number, number];
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(local);
  const valid = back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && h <= 23 && mi <= 59 && s <= 59 && oh <= 14 && om <= 59;
  if (!valid) return Number.NaN;
  const sign = m[7] === '-' ? -1 : 1;
  return local - sign * (oh * 60 + om) * MS.minute;
}

function rowError(index: number, family: string, code: string, message: string, path: AdsFieldPathElement[] = [], trigger?: string): AdsError {
  return {
    errorCode: { [family]: code },
    message,
    ...(trigger === undefined ? {} : { trigger: { stringValue: trigger } }),
    location: { fieldPathElements: [{ fieldName: 'conversions', index }, ...path] },
  };
}

const upload = 'conversionUploadError';

/** The click id field of a row and its value, when exactly one is set. */
export function clickIdOf(row: Record<string, unknown>): { field: ClickField; value: string } | undefined {
  for (const field of CLICK_FIELDS) {
    const value = row[field];
    if (typeof value === 'string' && value !== '') return { field, value };
  }
  return undefined;
}

/**
 * Check one ClickConversion (platforms.md §8, Google Ads per-row rules), except the
 * duplicate checks that need the store. Returns every error of the row. Pure.
 */
export function validateClickConversion(row: Record<string, unknown>, index: number, ctx: ClickKnowledge): AdsError[] {
  const errors: AdsError[] = [];
  const action = row['conversionAction'];
  const actionMatch = typeof action === 'string' ? CONVERSION_ACTION.exec(action) : null;
  if (actionMatch === null || !ctx.conversionActions.has(actionMatch[2] ?? '')) {
    errors.push(rowError(index, upload, 'NO_CONVERSION_ACTION_FOUND',
      "The conversion action specified in the upload request cannot be found. Make sure it's available in this account (customers/{cid}/conversionActions/{id}).",
      [{ fieldName: 'conversionAction' }], typeof action === 'string' ? action : undefined));
  }
  const dateTime = row['conversionDateTime'];
  let conversionMs: number | undefined;
  if (typeof dateTime !== 'string' || dateTime === '') {
    errors.push(rowError(index, 'fieldError', 'REQUIRED', 'The required field was not present: conversionDateTime.', [{ fieldName: 'conversionDateTime' }]));
  } else {
    const parsed = parseAdsDateTime(dateTime);
    if (parsed === undefined) {
      errors.push(rowError(index, 'dateError', 'INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET',
        "The string date time's format should be yyyy-mm-dd hh:mm:ss+|-hh:mm.", [{ fieldName: 'conversionDateTime' }], dateTime));
    } else if (Number.isNaN(parsed)) {
      errors.push(rowError(index, 'dateError', 'INVALID_FIELD_VALUES_IN_DATE_TIME',
        'Given field values do not correspond to a valid date time.', [{ fieldName: 'conversionDateTime' }], dateTime));
    } else conversionMs = parsed;
  }

  const setClicks = CLICK_FIELDS.filter((f) => typeof row[f] === 'string' && row[f] !== '');
  const identifiers = row['userIdentifiers'];
  const hasIdentifiers = Array.isArray(identifiers) && identifiers.length > 0;
  if (setClicks.includes('gbraid') && setClicks.includes('wbraid')) {
    errors.push(rowError(index, upload, 'GBRAID_WBRAID_BOTH_SET', "Can't use both gbraid and wbraid parameters. Use only 1 and try again.", [{ fieldName: 'wbraid' }]));
  } else if (setClicks.length > 1) {
    // No documented error for gclid + braid (UNCONFIRMED, platforms.md §3.2): the fake refuses, send exactly one.
    errors.push(rowError(index, 'fieldError', 'VALUE_MUST_BE_UNSET', `Set exactly one click identifier; got ${setClicks.join(' and ')}.`, [{ fieldName: setClicks[1] ?? 'gbraid' }]));
  } else if (setClicks.length === 0 && !hasIdentifiers) {
    errors.push(rowError(index, 'fieldError', 'REQUIRED', 'A click conversion needs a gclid, gbraid or wbraid, or userIdentifiers.', [{ fieldName: 'gclid' }]));
  }
  const click = setClicks.length === 1 ? clickIdOf(row) : undefined;
  if (click !== undefined) {
    const path = [{ fieldName: click.field }];
    if (!CLICK_ID.test(click.value)) {
      errors.push(rowError(index, upload, `UNPARSEABLE_${click.field.toUpperCase()}`,
        `The ${click.field} could not be decoded. Check that it was not modified.`, path, click.value));
    } else if (ctx.knownClicks !== undefined) {
      if (!ctx.knownClicks.has(click.value)) {
        errors.push(rowError(index, upload, 'EVENT_NOT_FOUND',
          "The click associated with the given identifier or iOS URL parameter can't be found.", path, click.value));
      } else {
        const clickedAt = ctx.knownClicks.get(click.value);
        if (clickedAt !== undefined) {
          if (conversionMs !== undefined && conversionMs < clickedAt) {
            errors.push(rowError(index, upload, 'CONVERSION_PRECEDES_EVENT',
              'The conversion date time precedes the click. Make sure the conversion happened after the click.', [{ fieldName: 'conversionDateTime' }]));
          }
          if (ctx.nowMs - clickedAt < MIN_CLICK_AGE_MS) {
            errors.push(rowError(index, upload, 'TOO_RECENT_EVENT',
              'The click associated with the given identifier or iOS URL parameter occurred less than 6 hours ago; retry after 6 hours have passed.', path, click.value));
          }
          if (conversionMs !== undefined && conversionMs - clickedAt > CLICK_WINDOW_MS) {
            errors.push(rowError(index, upload, 'EXPIRED_EVENT',
              "The click happened before the conversion action's click-through lookback window.", path, click.value));
          }
        }
      }
    }
  }

  if (Array.isArray(identifiers)) {
    if (identifiers.length > MAX_USER_IDENTIFIERS) {
      errors.push(rowError(index, 'collectionSizeError', 'TOO_MANY', `At most ${MAX_USER_IDENTIFIERS} userIdentifiers per conversion.`, [{ fieldName: 'userIdentifiers' }]));
    }
    for (const [j, identifier] of identifiers.entries()) {
      const at = (field?: string): AdsFieldPathElement[] => [{ fieldName: 'userIdentifiers', index: j }, ...(field === undefined ? [] : [{ fieldName: field }])];
      const ident = isRecord(identifier) ? identifier : {};
      const kinds = ['hashedEmail', 'hashedPhoneNumber', 'mobileId', 'thirdPartyUserId', 'addressInfo'].filter((k) => ident[k] !== undefined && ident[k] !== null);
      if (kinds.length !== 1) {
        errors.push(rowError(index, upload, 'INVALID_USER_IDENTIFIER', 'Each user identifier sets exactly one of hashedEmail or hashedPhoneNumber.', at()));
        continue;
      }
      const kind = kinds[0] ?? '';
      if (kind !== 'hashedEmail' && kind !== 'hashedPhoneNumber') {
        errors.push(rowError(index, upload, 'UNSUPPORTED_USER_IDENTIFIER',
          'The provided user identifiers are not supported. Use only hashed email or phone number and try again.', at(kind)));
      } else if (typeof ident[kind] !== 'string' || !SHA256_HEX.test(ident[kind])) {
        errors.push(rowError(index, upload, 'INVALID_USER_IDENTIFIER',
          'Make sure you hash user provided data using SHA-256 (lowercase hex) and normalise it according to the guidelines.', at(kind)));
      }
    }
  }
  const currency = row['currencyCode'];
  if (currency !== undefined && currency !== null && !isKnownCurrency(currency)) {
    errors.push(rowError(index, 'currencyCodeError', 'UNSUPPORTED', 'The currency code is not supported: use an ISO 4217 code in upper case.', [{ fieldName: 'currencyCode' }], String(currency)));
  }
  const orderId = row['orderId'];
  if (typeof orderId === 'string' && orderId.includes('@')) {
    errors.push(rowError(index, upload, 'ORDER_ID_CONTAINS_PII', 'The order ID contains personally identifiable information.', [{ fieldName: 'orderId' }]));
  }
  return errors;
}

/** What the Ads fake needs besides the request. */
export interface AdsContext {
  customers: ReadonlySet<string>;
  conversionActions: ReadonlySet<string>;
  knownClicks: ReadonlyMap<string, number | undefined> | undefined;
  notAllowlisted: ReadonlySet<string>;
  tokens: TokenStore;
  now: () => Date;
  /** Google's counting ledger, keyed `{actionId}:{orderId}` (shared with Data Manager). */
  ledger: Ledger;
  /** Accepted click conversions without order id: `{actionId}:{clickId}:{conversionDateTime}`. */
  clickConversions: Set<string>;
}

/** Rows a scripted `google-partial` step fails. */
export interface ScriptedRows {
  rows: ReadonlySet<number>;
  error: string;
}

const PATH = /^\/([^/]+)\/customers\/([^/:]+):uploadClickConversions$/;

function actionIdOf(row: Record<string, unknown>): string {
  const action = row['conversionAction'];
  return typeof action === 'string' ? (CONVERSION_ACTION.exec(action)?.[2] ?? '') : '';
}

function partialMessage(errors: AdsError[]): string {
  return errors
    .map((e) => {
      const path = (e.location?.fieldPathElements ?? []).map((p) => (p.index === undefined ? p.fieldName : `${p.fieldName}[${p.index}]`)).join('.');
      return `${e.message}, at ${path}`;
    })
    .join(', ');
}

/** Answer one request to the Ads route (platforms.md §8, Google Ads). */
export function handleAds(req: FakeHttpRequest, ctx: AdsContext, scripted?: ScriptedRows): FakeAnswer {
  const match = PATH.exec(req.path);
  if (match === null || req.method !== 'POST') {
    return rpcError(404, 'NOT_FOUND', `The requested URL ${req.method} ${req.path} was not found on this server.`);
  }
  const version = match[1] ?? '';
  const customer = match[2] ?? '';
  if (!ADS_API_VERSIONS.includes(version)) {
    return rpcError(404, 'NOT_FOUND', `Version ${version} of the Google Ads API is not served (use one of ${ADS_API_VERSIONS.join(', ')}).`);
  }
  const nowMs = ctx.now().getTime();
  const bearer = ctx.tokens.check(authorization(req), nowMs);
  if (!bearer.ok) {
    const code = { missing: 'OAUTH_TOKEN_HEADER_INVALID', unknown: 'OAUTH_TOKEN_INVALID', expired: 'OAUTH_TOKEN_EXPIRED' }[bearer.refusal];
    const message = bearer.refusal === 'missing' ? MISSING_CREDENTIALS_MESSAGE : undefined;
    return adsRpcError(401, 'UNAUTHENTICATED', version, [{ errorCode: { authenticationError: code }, message: `Authentication failed: ${code}.` }], message);
  }
  if (!bearer.token.scopes.has(GOOGLE_SCOPES.ads)) {
    return rpcError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.', [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', domain: 'googleapis.com', metadata: { service: 'googleads.googleapis.com' } },
    ]);
  }
  if (!/^\d+$/.test(customer)) {
    return adsRpcError(400, 'INVALID_ARGUMENT', version, [{ errorCode: { requestError: 'INVALID_CUSTOMER_ID' }, message: `Customer id "${customer}" must be digits only, without hyphens.` }]);
  }
  const login = header(req.headers, 'login-customer-id');
  if (login !== undefined && !/^\d+$/.test(login)) {
    return adsRpcError(400, 'INVALID_ARGUMENT', version, [{ errorCode: { headerError: 'INVALID_LOGIN_CUSTOMER_ID' }, message: 'The login customer id header must be digits only, without hyphens.' }]);
  }
  if (!ctx.customers.has(customer)) {
    return adsRpcError(403, 'PERMISSION_DENIED', version, [{
      errorCode: { authorizationError: 'USER_PERMISSION_DENIED' },
      message: "User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer id must be set in the 'login-customer-id' header.",
    }]);
  }
  if (ctx.notAllowlisted.has(customer)) {
    // From 2026-06-15 new adopters get this permanently (google-data-manager.md §1).
    return adsRpcError(403, 'PERMISSION_DENIED', version, [{
      errorCode: { notAllowlistedError: 'CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE' },
      message: 'New integrations for uploading click conversions should use the Data Manager API. Usage of ConversionUploadService.UploadClickConversions is limited to existing users.',
    }]);
  }
  if (req.body.kind !== 'json') {
    const reason = req.body.kind === 'invalid-json' ? req.body.error : `expected application/json, got ${req.contentType || 'no body'}`;
    return rpcError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${reason}`);
  }
  const body = req.body.value;
  const shape = checkProtoJson(body, requestTypeOf(version));
  if (shape.length > 0) {
    return rpcError(400, 'INVALID_ARGUMENT', shape.map((v) => v.description).join('\n'), [badRequest(shape)]);
  }
  // Enums may come as numbers, as proto3 JSON allows: the rules read names.
  const request = enumsToNames(body, requestTypeOf(version)) as Record<string, unknown>;
  if (request['partialFailure'] !== true) {
    return adsRpcError(400, 'INVALID_ARGUMENT', version, [{
      errorCode: { partialFailureError: 'PARTIAL_FAILURE_MODE_REQUIRED' },
      message: 'The partial failure field was false in the request. This method requires this field be set to true.',
    }]);
  }
  const rows = (request['conversions'] ?? []) as Array<Record<string, unknown>>;
  if (rows.length === 0) {
    return adsRpcError(400, 'INVALID_ARGUMENT', version, [{ errorCode: { fieldError: 'REQUIRED' }, message: 'The required field was not present: conversions.', location: { fieldPathElements: [{ fieldName: 'conversions' }] } }]);
  }
  if (rows.length > MAX_CONVERSIONS) {
    return adsRpcError(400, 'INVALID_ARGUMENT', version, [{
      errorCode: { conversionUploadError: 'TOO_MANY_CONVERSIONS_IN_REQUEST' },
      message: `Upload fewer than ${MAX_CONVERSIONS + 1} events in a single request (got ${rows.length}).`,
    }]);
  }
  const jobId = request['jobId'];
  if (jobId !== undefined && jobId !== null && !(Number(jobId) >= 0 && Number(jobId) < 2 ** 31)) {
    return adsRpcError(400, 'INVALID_ARGUMENT', version, [{ errorCode: { conversionUploadError: 'INVALID_JOB_ID' }, message: 'The job id must be in [0, 2^31).' }]);
  }
  const validateOnly = request['validateOnly'] === true;

  const knowledge: ClickKnowledge = { knownClicks: ctx.knownClicks, conversionActions: ctx.conversionActions, nowMs };
  const orderSeen = new Set<string>();
  const clickSeen = new Set<string>();
  const allErrors: AdsError[] = [];
  const results: Array<Record<string, unknown>> = [];
  for (const [i, row] of rows.entries()) {
    let errors = validateClickConversion(row, i, knowledge);
    if (scripted?.rows.has(i) === true) {
      errors = [rowError(i, upload, scripted.error, `Scripted failure: ${scripted.error}.`)];
    }
    const actionId = actionIdOf(row);
    const orderId = typeof row['orderId'] === 'string' && row['orderId'] !== '' ? row['orderId'] : undefined;
    const click = clickIdOf(row);
    const clickKey = click === undefined ? undefined : `${actionId}:${click.value}:${String(row['conversionDateTime'])}`;
    const orderKey = orderId === undefined ? undefined : `${actionId}:${orderId}`;
    let duplicateOf: string | undefined;
    if (errors.length === 0) {
      // One conversion per order id per action (platforms.md §3.2); same click + time is a duplicate too.
      if (orderKey !== undefined && orderSeen.has(orderKey)) {
        errors.push(rowError(i, upload, 'DUPLICATE_ORDER_ID', 'The request contains two conversions with the same order ID.', [{ fieldName: 'orderId' }], orderId));
      } else if (orderKey !== undefined && ctx.ledger.has(orderKey, nowMs)) {
        errors.push(rowError(i, upload, 'ORDER_ID_ALREADY_IN_USE', 'A conversion with this order ID was already uploaded for this conversion action.', [{ fieldName: 'orderId' }], orderId));
        duplicateOf = orderKey;
      } else if (clickKey !== undefined && clickSeen.has(clickKey)) {
        errors.push(rowError(i, upload, 'DUPLICATE_CLICK_CONVERSION_IN_REQUEST', 'The request contains two conversions with the same click and conversion date time.'));
      } else if (clickKey !== undefined && ctx.clickConversions.has(clickKey)) {
        errors.push(rowError(i, upload, 'CLICK_CONVERSION_ALREADY_EXISTS', 'A conversion with the same click and conversion date time was already uploaded.'));
        duplicateOf = orderKey === undefined ? clickKey : undefined;
      }
      if (orderKey !== undefined) orderSeen.add(orderKey);
      if (clickKey !== undefined) clickSeen.add(clickKey);
    }
    allErrors.push(...errors);
    if (validateOnly) continue;
    if (errors.length > 0) {
      // A re-sent conversion is not counted again, but the ledger notes it was received again.
      if (duplicateOf !== undefined) ctx.ledger.bump(duplicateOf);
      results.push({});
      continue;
    }
    if (orderKey !== undefined) ctx.ledger.receive(orderKey, nowMs);
    else if (clickKey !== undefined) ctx.ledger.receive(clickKey, nowMs);
    else ctx.ledger.receiveAnonymous(`${actionId}:`);
    if (clickKey !== undefined) ctx.clickConversions.add(clickKey);
    results.push({
      ...(click === undefined ? {} : { [click.field]: click.value }),
      conversionAction: row['conversionAction'],
      conversionDateTime: row['conversionDateTime'],
      ...(Array.isArray(row['userIdentifiers']) ? { userIdentifiers: row['userIdentifiers'] } : {}),
    });
  }
  const responseBody: Record<string, unknown> = {};
  if (!validateOnly) responseBody['results'] = results;
  if (allErrors.length > 0) {
    responseBody['partialFailureError'] = {
      code: RPC_CODE['INVALID_ARGUMENT'],
      message: partialMessage(allErrors),
      details: [adsFailure(version, allErrors)],
    };
  }
  responseBody['jobId'] = jobId === undefined || jobId === null ? adsJobId() : String(jobId);
  return { status: 200, body: responseBody };
}
