/**
 * Meta Conversions API: the reading of Meta's answer into one verdict per
 * request (platforms.md §1.7). Pure: no I/O.
 */
import { z } from 'zod';
import { parseRetryAfter, type HttpResponse } from '../../http.js';
import { clip, type Classified } from '../../outcomes.js';
import { ruleForHttpStatus, ruleTable, sharedRule, verdictFrom, type RetryRule, type Verdict } from '../../retry-rules.js';
import { META_RETRY_RULES } from './retry-rules.js';

const rules = ruleTable(META_RETRY_RULES);

const successSchema = z.object({ events_received: z.number().int(), fbtrace_id: z.string().optional() });
const errorSchema = z.object({
  error: z.object({
    code: z.number().int(),
    error_subcode: z.number().int().optional(),
    message: z.string().optional(),
    error_user_title: z.string().optional(),
    error_user_msg: z.string().optional(),
    is_transient: z.boolean().optional(),
    fbtrace_id: z.string().optional(),
  }),
});

/** The retry-table row for a Graph error code (platforms.md §1.7). */
export function metaRule(code: number, subcode: number | undefined, transient: boolean, httpStatus: number): RetryRule {
  if (code === 100 && subcode === 33) return rules.get('meta:100/33');
  if (code >= 200 && code <= 299) return rules.get('meta:200-299');
  const rule = rules.find(`meta:${code}`);
  if (rule) return rule;
  if (transient) return rules.get('meta:transient');
  // RudderStack retries unknown codes (platforms.md §1.7); we trust the HTTP status instead, so a 4xx fails.
  return ruleForHttpStatus(httpStatus >= 400 ? httpStatus : 500);
}

/**
 * Reads Meta's answer to a request of `count` events. Success is only
 * `events_received === count`: a short count is a failure of unknown rows,
 * so all are retried (Meta deduplicates the ones it kept).
 */
export function classifyMetaResponse(res: HttpResponse, count: number, now: Date): Classified {
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now);
  const extra = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (res.status >= 200 && res.status < 300) {
    const ok = successSchema.safeParse(res.json);
    if (!ok.success) {
      return all(res, undefined, verdictFrom(sharedRule('bad_response'), { error_code: `HTTP ${res.status}`, error_message: 'Unreadable success body' }));
    }
    const requestId = ok.data.fbtrace_id;
    if (ok.data.events_received === count) return { verdict: { type: 'all', result: { kind: 'sent' } }, http_status: res.status, ...(requestId ? { request_id: requestId } : {}) };
    return all(res, requestId, verdictFrom(rules.get('meta:events_received_short'), {
      error_code: 'events_received_short',
      error_message: `Meta received ${ok.data.events_received} of ${count} events`,
    }));
  }
  const parsed = errorSchema.safeParse(res.json);
  if (!parsed.success) {
    return all(res, undefined, verdictFrom(ruleForHttpStatus(res.status), { error_code: `HTTP ${res.status}`, error_message: clip(res.text.slice(0, 200)) ?? '', ...extra }));
  }
  const err = parsed.data.error;
  const rule = metaRule(err.code, err.error_subcode, err.is_transient === true, res.status);
  const message = [err.error_user_title, err.error_user_msg ?? err.message].filter(Boolean).join(': ');
  const verdict = verdictFrom(rule, {
    error_code: err.error_subcode === undefined ? String(err.code) : `${err.code}/${err.error_subcode}`,
    ...(message ? { error_message: clip(message) as string } : {}),
    ...extra,
  });
  const base = { http_status: res.status, ...(err.fbtrace_id ? { request_id: err.fbtrace_id } : {}) };
  if (verdict.kind === 'split') return { verdict: { type: 'split', verdict }, ...base };
  return { verdict: { type: 'all', result: verdict }, ...base };
}

function all(res: HttpResponse, requestId: string | undefined, verdict: Verdict): Classified {
  return { verdict: { type: 'all', result: verdict }, http_status: res.status, ...(requestId ? { request_id: requestId } : {}) };
}
