/**
 * Reading ApplyOfflineConversions' answer (microsoft-ads.md §4): HTTP 200 with
 * `PartialErrors` by `Index` (empty, null or absent: no error), or a request
 * fault, one flat `ApplicationFault` discriminated by `Type` (the PHP guide's
 * `{"ApplicationFault":{…}}` wrapper is read too: DISAGREE in §4.2). Pure.
 */
import { z } from 'zod';
import { parseRetryAfter, type HttpResponse } from '../../http.js';
import { clip, type Classified, type EventResult } from '../../outcomes.js';
import { ruleForHttpStatus, ruleTable, sharedRule, verdictFrom, type RetryRule, type Verdict } from '../../retry-rules.js';
import { MICROSOFT_DATA_CODES, MICROSOFT_RETRY_RULES } from './retry-rules.js';

const rules = ruleTable(MICROSOFT_RETRY_RULES);

/** ids and codes may be numbers or strings (microsoft-ads.md §2). */
const intLike = z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)]);

const errorSchema = z.object({
  Code: intLike.nullish(),
  ErrorCode: z.string().nullish(),
  Message: z.string().nullish(),
  Index: intLike.nullish(),
});
const errorList = z.array(errorSchema).nullish();

const faultSchema = z.object({
  TrackingId: z.string().nullish(),
  Type: z.string().nullish(),
  Errors: errorList,
  OperationErrors: errorList,
  BatchErrors: errorList,
});
const okSchema = z.object({ PartialErrors: errorList });

/** One error as Microsoft sent it. */
export interface MicrosoftError {
  code?: number;
  errorCode?: string;
  message?: string;
  index?: number;
}

function toError(e: z.infer<typeof errorSchema>): MicrosoftError {
  const out: MicrosoftError = {};
  if (e.Code !== undefined && e.Code !== null) out.code = e.Code;
  if (e.ErrorCode) out.errorCode = e.ErrorCode;
  if (e.Message) out.message = e.Message;
  if (e.Index !== undefined && e.Index !== null) out.index = e.Index;
  return out;
}

/** A request fault's errors and tracking id, or `undefined` when the body is no fault. */
export function readFault(json: unknown): { errors: MicrosoftError[]; trackingId?: string } | undefined {
  const inner = typeof json === 'object' && json !== null && 'ApplicationFault' in json ? (json as { ApplicationFault: unknown }).ApplicationFault : json;
  const parsed = faultSchema.safeParse(inner);
  if (!parsed.success) return undefined;
  const f = parsed.data;
  const errors = [...(f.Errors ?? []), ...(f.OperationErrors ?? []), ...(f.BatchErrors ?? [])].map(toError);
  if (errors.length === 0 && !f.Type) return undefined;
  return { errors, ...(f.TrackingId ? { trackingId: f.TrackingId } : {}) };
}

/** The answer calls for a token refresh: HTTP 401, or fault code 109 (microsoft-ads.md §9). */
export function needsRefresh(res: HttpResponse): boolean {
  if (res.status === 401) return true;
  if (res.status >= 200 && res.status < 300) return false;
  return readFault(res.json)?.errors.some((e) => e.code === 109) === true;
}

/** The row for a request fault code. */
export function microsoftRequestRule(code: number | undefined, status: number): RetryRule {
  if (code !== undefined) {
    const own = rules.find(`microsoft:${code}`);
    if (own !== undefined) return own;
  }
  if (status >= 500 || status === 429 || status === 408) return ruleForHttpStatus(status);
  return rules.get('microsoft:request');
}

/** Per-conversion codes with a row of their own; request codes (0, 105…) never judge an item. */
const ITEM_CODES: ReadonlySet<number> = new Set([5606, 5612, 5613, 5615]);

/** The row for a per-conversion error. */
export function microsoftItemRule(error: MicrosoftError): RetryRule {
  const code = error.code;
  if (code !== undefined) {
    if (MICROSOFT_DATA_CODES.has(code)) return rules.get('microsoft:5603-5617');
    if (ITEM_CODES.has(code)) return rules.get(`microsoft:${code}`);
  }
  return rules.get('microsoft:item');
}

const SEVERITY: Readonly<Record<Verdict['kind'], number>> = { pause: 4, fail: 3, split: 2, retry: 1, delivered: 0 };

function details(error: MicrosoftError): Omit<Verdict, 'kind' | 'reason'> {
  const code = [error.code, error.errorCode].filter((s) => s !== undefined && s !== '').join(' ');
  const out: Omit<Verdict, 'kind' | 'reason'> = {};
  if (code !== '') out.error_code = code;
  const message = clip(error.message);
  if (message !== undefined) out.error_message = message;
  return out;
}

/**
 * Why a 200 without a partial error is only "accepted" (microsoft-ads.md §4.4):
 * what Microsoft checks after the upload and never reports back to the uploader.
 */
export const ACCEPTED_MESSAGE =
  'Accepted by Microsoft at upload (HTTP 200, no partial error), not yet attributed: Microsoft checks later, without reporting back, ' +
  'that the click exists and belongs to this account, that it is within the goal window and 90 days, and ignores a duplicate ' +
  '(same click, goal and time) silently; see the goal\'s "All conv." within 6 hours.';

/**
 * Reads the answer to a request of `count` conversions: one result per
 * conversion. Several errors for one `Index` are possible; the gravest
 * decides (a data error is not retried because another error on the same
 * item was transient).
 */
export function classifyMicrosoftResponse(res: HttpResponse, count: number, now: Date): Classified {
  const trackingHeader = res.headers['trackingid'];
  const base = { http_status: res.status, ...(trackingHeader ? { request_id: trackingHeader } : {}) };
  if (res.status >= 200 && res.status < 300) {
    const ok = okSchema.safeParse(res.json);
    if (!ok.success) {
      return { verdict: { type: 'all', result: verdictFrom(sharedRule('bad_response'), { error_code: `HTTP ${res.status}` }) }, ...base };
    }
    const accepted: EventResult = { kind: 'sent', message: ACCEPTED_MESSAGE };
    const results: EventResult[] = Array.from({ length: count }, () => accepted);
    for (const raw of ok.data.PartialErrors ?? []) {
      const error = toError(raw);
      const i = error.index;
      if (i === undefined || i < 0 || i >= count) continue;
      const verdict = verdictFrom(microsoftItemRule(error), details(error));
      const current = results[i] as EventResult;
      if (current.kind === 'sent' || current.kind === 'validated' || SEVERITY[verdict.kind] > SEVERITY[current.kind]) results[i] = verdict;
    }
    return { verdict: { type: 'each', results }, ...base };
  }
  const fault = readFault(res.json);
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now);
  const extra = retryAfterMs === undefined ? {} : { retryAfterMs };
  const withTracking = fault?.trackingId !== undefined && base.request_id === undefined ? { ...base, request_id: fault.trackingId } : base;
  const first = fault?.errors[0];
  const rule = microsoftRequestRule(first?.code, res.status);
  const verdict = verdictFrom(rule, { ...(first !== undefined ? details(first) : { error_code: `HTTP ${res.status}` }), ...extra });
  return { verdict: { type: 'all', result: verdict }, ...withTracking };
}
