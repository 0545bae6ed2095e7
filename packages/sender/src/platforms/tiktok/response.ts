/**
 * TikTok Events API 2.0: the reading of the answer into one verdict per
 * request (platforms.md §4.3). Pure.
 */
import { z } from 'zod';
import { parseRetryAfter, type HttpResponse } from '../../http.js';
import { clip, type Classified } from '../../outcomes.js';
import { ruleForHttpStatus, ruleTable, sharedRule, verdictFrom, type RetryRule } from '../../retry-rules.js';
import { TIKTOK_RETRY_RULES } from './retry-rules.js';

const rules = ruleTable(TIKTOK_RETRY_RULES);

const answerSchema = z.object({
  code: z.number().int(),
  message: z.string().optional(),
  request_id: z.string().optional(),
});

/** The retry-table row for a TikTok `code` (platforms.md §4.3). */
export function tiktokRule(code: number): RetryRule {
  return rules.find(`tiktok:${code}`) ?? rules.get(code >= 50000 && code < 60000 ? 'tiktok:5xxxx' : 'tiktok:other');
}

/**
 * Reads the answer. TikTok answers errors with HTTP 200 and `code != 0`, so
 * only `code: 0` is success; a non-JSON answer (a proxy's 502 page) is judged
 * by its HTTP status (platforms.md §4.3).
 */
export function classifyTikTokResponse(res: HttpResponse, now: Date): Classified {
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now);
  const extra = retryAfterMs === undefined ? {} : { retryAfterMs };
  const parsed = answerSchema.safeParse(res.json);
  if (!parsed.success) {
    const rule = res.status >= 200 && res.status < 300 ? sharedRule('bad_response') : ruleForHttpStatus(res.status);
    return { verdict: { type: 'all', result: verdictFrom(rule, { error_code: `HTTP ${res.status}`, ...extra }) }, http_status: res.status };
  }
  const { code, message, request_id } = parsed.data;
  const base = { http_status: res.status, ...(request_id ? { request_id } : {}) };
  if (code === 0) return { verdict: { type: 'all', result: { kind: 'sent' } }, ...base };
  const verdict = verdictFrom(tiktokRule(code), {
    error_code: String(code),
    ...(message ? { error_message: clip(message) as string } : {}),
    ...extra,
  });
  if (verdict.kind === 'split') return { verdict: { type: 'split', verdict }, ...base };
  return { verdict: { type: 'all', result: verdict }, ...base };
}
