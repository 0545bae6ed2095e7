/**
 * Google Ads API `ConversionUploadService.UploadClickConversions` (REST): the
 * request and the reading of the answer, partial failures included
 * (platforms.md §3). Pure: no I/O.
 */
import type { HttpRequest, HttpResponse } from '../../http.js';
import { clip, type Classified, type EventResult } from '../../outcomes.js';
import { sharedRule, verdictFrom, type Verdict } from '../../retry-rules.js';
import type { GoogleConnection } from './connection.js';
import type { GooglePlan } from './eligibility.js';
import { classifyGoogleRpcError, googleRule, isObject, parseGoogleStatus } from './rpc-errors.js';

/** Real Google Ads API host. */
export const GOOGLE_ADS_BASE_URL = 'https://googleads.googleapis.com';
/** Google Ads API version. Defaults to `v26` (latest active; platforms.md §3.1). */
export const GOOGLE_ADS_API_VERSION = 'v26';
/** Conversions per request: "Upload fewer than 2001 events" (platforms.md §3.2). */
export const GOOGLE_MAX_BATCH = 2000;

/** One `ClickConversion` (platforms.md §3.2). */
export interface ClickConversion {
  gclid?: string;
  gbraid?: string;
  wbraid?: string;
  /** `customers/{cid}/conversionActions/{id}` */
  conversionAction: string;
  /** `yyyy-mm-dd hh:mm:ss+00:00` */
  conversionDateTime: string;
  conversionValue?: number;
  currencyCode?: string;
  /** The funnel event id: one conversion per order id per action, so a resend is refused, not counted. */
  orderId: string;
  userIdentifiers?: Array<{ hashedEmail: string } | { hashedPhoneNumber: string }>;
  consent?: { adUserData: 'GRANTED' | 'DENIED' };
}

/** The JSON body of `:uploadClickConversions`. */
export interface UploadClickConversionsBody {
  conversions: ClickConversion[];
  /** Must be `true`: "omitting the field … causes the entire request to fail" (platforms.md §3.2). */
  partialFailure: true;
  validateOnly?: true;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * `yyyy-mm-dd hh:mm:ss+00:00` in UTC: Google's format, space-separated with a
 * required offset, no `T` and no `Z` (platforms.md §3.2).
 *
 * @example formatGoogleAdsDateTime('2026-10-01T12:05:00.250Z') // '2026-10-01 12:05:00+00:00'
 */
export function formatGoogleAdsDateTime(iso: string): string {
  const d = new Date(iso);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+00:00`
  );
}

/** One event as a `ClickConversion`. */
export function clickConversion(customerId: string, plan: GooglePlan): ClickConversion {
  const e = plan.event;
  const conv: ClickConversion = {
    [plan.click.name]: plan.click.value,
    conversionAction: `customers/${customerId}/conversionActions/${plan.conversion_action_id}`,
    conversionDateTime: formatGoogleAdsDateTime(e.event_time),
    orderId: e.id,
  };
  // Without currencyCode, Google uses the action's default currency.
  if (e.revenue_value !== undefined) conv.conversionValue = e.revenue_value;
  if (e.currency !== undefined) conv.currencyCode = e.currency;
  const ids: NonNullable<ClickConversion['userIdentifiers']> = [];
  // Google's email canonical form (gmail dots) when it differs (platforms.md §3.3).
  const email = e.email_sha256_google ?? e.email_sha256;
  if (email) ids.push({ hashedEmail: email });
  // E.164 with `+` (platforms.md §3.3).
  if (e.phone_sha256) ids.push({ hashedPhoneNumber: e.phone_sha256 });
  if (ids.length > 0) conv.userIdentifiers = ids;
  // `unspecified`: the site did not ask; leave consent out rather than claim it (consent.proto).
  if (e.consent === 'granted') conv.consent = { adUserData: 'GRANTED' };
  else if (e.consent === 'denied') conv.consent = { adUserData: 'DENIED' };
  return conv;
}

/**
 * `POST {baseUrl}/{version}/customers/{cid}:uploadClickConversions`.
 * `login-customer-id` only through a manager account; `developer-token` only
 * when configured: optional and ignored since 2026-09-09 (platforms.md §3.1).
 */
export function buildGoogleAdsRequest(
  connection: GoogleConnection,
  plans: readonly GooglePlan[],
  accessToken: string,
  options: { baseUrl?: string; version?: string } = {},
): HttpRequest {
  const base = (options.baseUrl ?? GOOGLE_ADS_BASE_URL).replace(/\/+$/, '');
  const cid = connection.customer_id.replace(/-/g, '');
  const headers: Record<string, string> = {
    authorization: `Bearer ${accessToken}`,
    'content-type': 'application/json',
  };
  if (connection.login_customer_id) headers['login-customer-id'] = connection.login_customer_id.replace(/-/g, '');
  if (connection.developer_token) headers['developer-token'] = connection.developer_token;
  const body: UploadClickConversionsBody = {
    conversions: plans.map((p) => clickConversion(cid, p)),
    partialFailure: true,
  };
  if (connection.dry_run) body.validateOnly = true;
  return {
    method: 'POST',
    url: `${base}/${options.version ?? GOOGLE_ADS_API_VERSION}/customers/${cid}:uploadClickConversions`,
    headers,
    body,
  };
}

/** The verdict of one row named in a `partialFailureError`. */
function rowVerdict(codes: string[], families: string[], message: string | undefined): Verdict {
  const rule = googleRule({ codes, families });
  const v = verdictFrom(rule, { error_code: codes[0] ?? families[0] ?? 'UNKNOWN' });
  if (message) v.error_message = clip(message) as string;
  return v;
}

/**
 * Reads the answer to an upload of `count` conversions. HTTP 200 is not
 * success by itself: rows named in `partialFailureError` failed
 * (`fieldPathElements[{fieldName: "conversions", index}]`, platforms.md §3.4).
 * With `validateOnly` a clean answer means "valid", not "uploaded".
 */
export function classifyGoogleAdsResponse(
  res: HttpResponse,
  count: number,
  now: Date,
  dryRun = false,
): Classified {
  const headerRequestId = res.headers['request-id'];
  const base = { http_status: res.status, ...(headerRequestId ? { request_id: headerRequestId } : {}) };
  if (res.status >= 200 && res.status < 300) {
    if (!isObject(res.json)) {
      return { verdict: { type: 'all', result: verdictFrom(sharedRule('bad_response'), { error_code: `HTTP ${res.status}` }) }, ...base };
    }
    const ok: EventResult = dryRun ? { kind: 'validated' } : { kind: 'sent' };
    const results: EventResult[] = Array.from({ length: count }, () => ok);
    const pfe = res.json.partialFailureError;
    if (isObject(pfe)) {
      const details = Array.isArray(pfe.details) ? pfe.details : [];
      const unplaced: Verdict[] = [];
      for (const d of details) {
        if (!isObject(d) || !Array.isArray(d.errors)) continue;
        for (const err of d.errors) {
          if (!isObject(err)) continue;
          const one = parseGoogleStatus({ details: [{ errors: [err] }] });
          const verdict = rowVerdict(one.codes, one.families, typeof err.message === 'string' ? err.message : undefined);
          if (one.indices.length === 0) unplaced.push(verdict);
          for (const i of one.indices) {
            // A row with several errors keeps its first.
            if (i < count && (results[i] as EventResult).kind === ok.kind) results[i] = verdict;
          }
        }
      }
      // An error without a row index concerns the request; it applies to every row not already failed.
      if (unplaced.length > 0) for (let i = 0; i < count; i++) if (results[i]?.kind === ok.kind) results[i] = unplaced[0] as Verdict;
      const rid = parseGoogleStatus(pfe).requestId;
      if (rid && !base.request_id) Object.assign(base, { request_id: rid });
    }
    return { verdict: { type: 'each', results }, ...base };
  }
  return classifyGoogleRpcError(res, now, 'ads');
}
