/**
 * Google Data Manager API `events:ingest`: the request for a batch of click
 * conversions and the reading of the answer (google-data-manager.md). Pure.
 */
import type { HttpRequest, HttpResponse } from '../../http.js';
import type { Classified } from '../../outcomes.js';
import { sharedRule, verdictFrom } from '../../retry-rules.js';
import type { GoogleConnection } from './connection.js';
import type { GooglePlan } from './eligibility.js';
import { classifyGoogleRpcError, isObject } from './rpc-errors.js';

/** Real Data Manager host. */
export const DATA_MANAGER_BASE_URL = 'https://datamanager.googleapis.com';
/** Data Manager API version. Defaults to `v1`. */
export const DATA_MANAGER_API_VERSION = 'v1';
/** Events per request (google-data-manager.md §3: 2,000; one enum text says 10,000, we use the lower). */
export const DATA_MANAGER_MAX_BATCH = 2000;
/** `IngestionService` mutate quota per Cloud project (google-data-manager.md §7). */
export const DATA_MANAGER_REQUESTS_PER_MINUTE = 300;

/** A Google Ads `ProductAccount`. */
export interface ProductAccount {
  accountType: 'GOOGLE_ADS';
  /** 10 digits, no hyphens. */
  accountId: string;
}

/** One `Event` (google-data-manager.md §4). */
export interface DataManagerEvent {
  /** The funnel event id: a re-upload is reported as a duplicate, not counted (google-data-manager.md §6). */
  transactionId: string;
  /** RFC 3339, e.g. `2026-11-20T14:35:00Z`. */
  eventTimestamp: string;
  eventSource?: 'WEB';
  adIdentifiers: {
    gclid?: string;
    gbraid?: string;
    wbraid?: string;
    landingPageDeviceInfo?: { userAgent?: string; ipAddress?: string };
  };
  conversionValue?: number;
  currency?: string;
  userData?: { userIdentifiers: Array<{ emailAddress: string } | { phoneNumber: string }> };
  consent?: { adUserData: 'CONSENT_GRANTED' | 'CONSENT_DENIED' };
}

/** The JSON body of `events:ingest`. */
export interface IngestEventsBody {
  destinations: Array<{ operatingAccount: ProductAccount; loginAccount?: ProductAccount; productDestinationId: string }>;
  events: DataManagerEvent[];
  /** Digests are lower-case hex (google-data-manager.md §4). */
  encoding: 'HEX';
  validateOnly?: true;
}

/** RFC 3339 in UTC, whole seconds: `2026-11-20T14:35:00Z` (google-data-manager.md §4, §8). */
export function formatRfc3339(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One event in Data Manager's shape. */
export function dataManagerEvent(plan: GooglePlan): DataManagerEvent {
  const e = plan.event;
  const ids: DataManagerEvent['adIdentifiers'] = { [plan.click.name]: plan.click.value };
  // Device info is known only for pixel events (the collector saw the browser).
  if (e.user_agent !== undefined || e.client_ip !== undefined) {
    ids.landingPageDeviceInfo = {};
    if (e.user_agent !== undefined) ids.landingPageDeviceInfo.userAgent = e.user_agent;
    if (e.client_ip !== undefined) ids.landingPageDeviceInfo.ipAddress = e.client_ip;
  }
  const event: DataManagerEvent = {
    transactionId: e.id,
    eventTimestamp: formatRfc3339(e.event_time),
    adIdentifiers: ids,
  };
  // WEB for pixel events; left out for CRM events, as a wrong source fails with
  // EVENT_SOURCE_AND_DESTINATION_MISMATCH and the field is optional (google-data-manager.md §4).
  if (e.source === 'pixel') event.eventSource = 'WEB';
  if (e.revenue_value !== undefined) event.conversionValue = e.revenue_value;
  if (e.currency !== undefined) event.currency = e.currency;
  const userIds: NonNullable<DataManagerEvent['userData']>['userIdentifiers'] = [];
  // Gmail-canonical hash (google-data-manager.md §5), else the plain one.
  const email = e.email_sha256_google ?? e.email_sha256;
  if (email) userIds.push({ emailAddress: email });
  if (e.phone_sha256) userIds.push({ phoneNumber: e.phone_sha256 });
  if (userIds.length > 0) event.userData = { userIdentifiers: userIds };
  // `unspecified` is left out rather than sent as CONSENT_STATUS_UNSPECIFIED.
  if (e.consent === 'granted') event.consent = { adUserData: 'CONSENT_GRANTED' };
  else if (e.consent === 'denied') event.consent = { adUserData: 'CONSENT_DENIED' };
  return event;
}

/**
 * `POST {baseUrl}/{version}/events:ingest` for events of ONE conversion
 * action (a destination's `productDestinationId`). Only `Authorization` and
 * `Content-Type`: "Don't set request headers in an IngestionService request";
 * the manager account goes in `loginAccount` (google-data-manager.md §2–3).
 */
export function buildDataManagerRequest(
  connection: GoogleConnection,
  conversionActionId: string,
  plans: readonly GooglePlan[],
  accessToken: string,
  options: { baseUrl?: string; version?: string } = {},
): HttpRequest {
  const base = (options.baseUrl ?? DATA_MANAGER_BASE_URL).replace(/\/+$/, '');
  const cid = connection.customer_id.replace(/-/g, '');
  const login = connection.login_customer_id?.replace(/-/g, '');
  const destination: IngestEventsBody['destinations'][number] = {
    operatingAccount: { accountType: 'GOOGLE_ADS', accountId: cid },
    productDestinationId: conversionActionId,
  };
  // Direct access: loginAccount unset (google-data-manager.md §3).
  if (login && login !== cid) destination.loginAccount = { accountType: 'GOOGLE_ADS', accountId: login };
  const body: IngestEventsBody = { destinations: [destination], events: plans.map(dataManagerEvent), encoding: 'HEX' };
  if (connection.dry_run) body.validateOnly = true;
  return {
    method: 'POST',
    url: `${base}/${options.version ?? DATA_MANAGER_API_VERSION}/events:ingest`,
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body,
  };
}

/**
 * Reads the answer. 200 means accepted for asynchronous processing: every
 * event is sent (click matching shows up later in diagnostics). Errors fail
 * the whole request (no partial failure); `INVALID_ARGUMENT` names the bad
 * events in `fieldViolations` (google-data-manager.md §6).
 */
export function classifyDataManagerResponse(res: HttpResponse, now: Date, dryRun = false): Classified {
  if (res.status >= 200 && res.status < 300) {
    if (!isObject(res.json)) {
      return { verdict: { type: 'all', result: verdictFrom(sharedRule('bad_response'), { error_code: `HTTP ${res.status}` }) }, http_status: res.status };
    }
    const requestId = typeof res.json.requestId === 'string' ? res.json.requestId : undefined;
    return {
      verdict: { type: 'all', result: dryRun ? { kind: 'validated' } : { kind: 'sent' } },
      http_status: res.status,
      ...(requestId ? { request_id: requestId } : {}),
    };
  }
  return classifyGoogleRpcError(res, now, 'data-manager');
}
