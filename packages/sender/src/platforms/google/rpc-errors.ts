/**
 * Reading Google's error bodies, shared by the Ads API and Data Manager:
 * `google.rpc.Status` with `GoogleAdsFailure`, `ErrorInfo`, `RequestInfo`,
 * `BadRequest` and `RetryInfo` details (platforms.md §3.4–3.5,
 * google-data-manager.md §6). Pure.
 */
import { parseRetryAfter, type HttpResponse } from '../../http.js';
import { clip, type Classified } from '../../outcomes.js';
import { ruleForHttpStatus, ruleTable, verdictFrom, type RetryRule } from '../../retry-rules.js';
import { GOOGLE_RETRY_RULES } from './retry-rules.js';

const rules = ruleTable(GOOGLE_RETRY_RULES);

/** The parts of a Google error that decide what to do. */
export interface GoogleErrorInfo {
  /** Canonical code, e.g. `INVALID_ARGUMENT`. */
  status?: string;
  message?: string;
  /** Error-code values (`CLICK_NOT_FOUND`), `ErrorInfo` reasons, quota limits, `fieldViolations` reasons, in order found. */
  codes: string[];
  /** Error-code families (`conversionUploadError`, `authenticationError`…). */
  families: string[];
  /** Indexes of the events/conversions the error names, ascending, unique. */
  indices: number[];
  /** `retryDelay` from `RetryInfo` or `quotaErrorDetails`, in ms. */
  retryDelayMs?: number;
  requestId?: string;
}

type Json = Record<string, unknown>;

/** A JSON object (not an array, not null). */
export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** proto3 JSON `Duration` (`"30s"`, `"1.5s"`) or `{seconds, nanos}`, in ms. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)s$/.exec(v.trim());
    return m ? Math.round(Number(m[1]) * 1000) : undefined;
  }
  if (isObject(v) && (v.seconds !== undefined || v.nanos !== undefined)) {
    const seconds = Number(v.seconds ?? 0);
    const nanos = Number(v.nanos ?? 0);
    return Number.isFinite(seconds) && Number.isFinite(nanos) ? Math.round(seconds * 1000 + nanos / 1e6) : undefined;
  }
  return undefined;
}

/** `field` paths vary (`events[1]…`, `events.events[1]…`): the index is whatever follows `events[` or `conversions[`. */
const INDEX_IN_FIELD = /(?:events|conversions)\[(\d+)\]/;

/**
 * Parses a `google.rpc.Status` (the value of `error` in a request-level
 * error, or `partialFailureError` in an Ads 200). Unknown shapes yield an
 * info with no codes.
 */
export function parseGoogleStatus(status: unknown): GoogleErrorInfo {
  const info: GoogleErrorInfo = { codes: [], families: [], indices: [] };
  if (!isObject(status)) return info;
  const s = str(status.status);
  if (s) info.status = s;
  const message = str(status.message);
  if (message) info.message = message;
  const indices = new Set<number>();

  const details = Array.isArray(status.details) ? status.details : [];
  for (const d of details) {
    if (!isObject(d)) continue;
    // GoogleAdsFailure: errors[].errorCode {family: CODE}, location.fieldPathElements[].index
    if (Array.isArray(d.errors)) {
      for (const e of d.errors) {
        if (!isObject(e)) continue;
        if (isObject(e.errorCode)) {
          for (const [family, code] of Object.entries(e.errorCode)) {
            info.families.push(family);
            if (typeof code === 'string') info.codes.push(code);
          }
        }
        const path = isObject(e.location) && Array.isArray(e.location.fieldPathElements) ? e.location.fieldPathElements : [];
        for (const el of path) {
          if (isObject(el) && (el.fieldName === 'conversions' || el.fieldName === 'events') && typeof el.index === 'number') {
            indices.add(el.index);
          }
        }
        if (isObject(e.details) && isObject(e.details.quotaErrorDetails)) {
          const delay = parseDuration(e.details.quotaErrorDetails.retryDelay);
          if (delay !== undefined) info.retryDelayMs = delay;
        }
      }
      const rid = str(d.requestId);
      if (rid && !info.requestId) info.requestId = rid;
    }
    // ErrorInfo: reason + metadata.quota_limit (google-data-manager.md §6)
    const reason = str(d.reason);
    if (reason) info.codes.push(reason);
    if (isObject(d.metadata)) {
      const quota = str(d.metadata.quota_limit) ?? str(d.metadata.quotaLimit);
      if (quota) info.codes.unshift(quota); // the quota name is the most specific code
      const rid = str(d.metadata.requestId);
      if (rid && !info.requestId) info.requestId = rid;
    }
    // RequestInfo
    if (str(d['@type'])?.endsWith('RequestInfo')) {
      const rid = str(d.requestId);
      if (rid && !info.requestId) info.requestId = rid;
    }
    // RetryInfo
    if (d.retryDelay !== undefined) {
      const delay = parseDuration(d.retryDelay);
      if (delay !== undefined) info.retryDelayMs = delay;
    }
    // BadRequest: fieldViolations[].field names the event
    if (Array.isArray(d.fieldViolations)) {
      for (const fv of d.fieldViolations) {
        if (!isObject(fv)) continue;
        const m = INDEX_IN_FIELD.exec(str(fv.field) ?? '');
        if (m) indices.add(Number(m[1]));
        const r = str(fv.reason);
        if (r) info.codes.push(r);
      }
    }
  }
  info.indices = [...indices].sort((a, b) => a - b);
  return info;
}

/**
 * The retry-table row for a Google error: the most specific code the table
 * knows (quota name, error code, family), else the canonical status, else
 * `google:other`.
 */
export function googleRule(info: Pick<GoogleErrorInfo, 'codes' | 'families' | 'status'>): RetryRule {
  for (const code of info.codes) {
    const rule = rules.find(`google:${code}`);
    // Status-like reasons (`INVALID_ARGUMENT` as an ErrorInfo reason) are not more specific than the status.
    if (rule && code !== 'INVALID_ARGUMENT') return rule;
  }
  for (const family of info.families) {
    const rule = rules.find(`google:${family}`);
    if (rule) return rule;
  }
  if (info.status) {
    const rule = rules.find(`google:${info.status}`);
    if (rule) return rule;
  }
  return rules.get('google:other');
}

/** The short code recorded on an outcome: the first specific code, else the status. */
export function googleErrorCode(info: GoogleErrorInfo, httpStatus: number): string {
  return info.codes[0] ?? info.status ?? `HTTP ${httpStatus}`;
}

/**
 * A request-level Google error (non-2xx): `{"error": google.rpc.Status}`.
 * Ads reports bad rows as partial failures, so a request-level
 * `INVALID_ARGUMENT` there is the request's fault unless it names rows;
 * Data Manager fails the whole request for one bad event, so there it is
 * isolated (google-data-manager.md §6).
 */
export function classifyGoogleRpcError(res: HttpResponse, now: Date, api: 'ads' | 'data-manager'): Classified {
  const headerRequestId = res.headers['request-id'];
  const body = isObject(res.json) ? res.json : undefined;
  if (!body || !isObject(body.error)) {
    const rule = ruleForHttpStatus(res.status);
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now);
    const verdict = verdictFrom(rule, {
      error_code: `HTTP ${res.status}`,
      ...(res.text ? { error_message: clip(res.text.slice(0, 200)) as string } : {}),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
    return { verdict: { type: 'all', result: verdict }, http_status: res.status, ...(headerRequestId ? { request_id: headerRequestId } : {}) };
  }
  const info = parseGoogleStatus(body.error);
  let rule = googleRule(info);
  if (!info.status && rule.key === 'google:other') rule = ruleForHttpStatus(res.status);
  const retryAfterMs = info.retryDelayMs ?? parseRetryAfter(res.headers['retry-after'], now);
  const verdict = verdictFrom(rule, {
    error_code: googleErrorCode(info, res.status),
    ...(info.message ? { error_message: clip(info.message) as string } : {}),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
  const requestId = info.requestId ?? headerRequestId;
  const base = { http_status: res.status, ...(requestId ? { request_id: requestId } : {}) };
  if (verdict.kind === 'split') {
    if (info.indices.length > 0) return { verdict: { type: 'split', verdict, indices: info.indices }, ...base };
    if (api === 'ads' && rule.key === 'google:INVALID_ARGUMENT') {
      return { verdict: { type: 'all', result: { ...verdict, kind: 'fail', reason: 'invalid_request' } }, ...base };
    }
    return { verdict: { type: 'split', verdict }, ...base };
  }
  return { verdict: { type: 'all', result: verdict }, ...base };
}
