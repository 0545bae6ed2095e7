/**
 * The vocabulary of the retry table and its shared rows. The table itself is
 * assembled in `retry-policy.ts` from these rows and each platform adapter's
 * own (`platforms/<name>/retry-rules.ts`); adapters read their answers with a
 * {@link ruleTable} over the shared rows and theirs, so no platform ever looks
 * up another's rows.
 */
import { SenderError } from './errors.js';
import type { Platform } from './platforms/index.js';

/**
 * - `retry`: transient; send again later with backoff.
 * - `split`: the platform rejected the whole batch because of some event in it;
 *   split the batch until the bad event is alone, then fail only that one.
 * - `fail`: the request or event is invalid; never retry.
 * - `pause`: the credentials or account are unusable; never retry, pause the
 *   connection until a person fixes it.
 * - `delivered`: the platform already has this conversion; count it as sent.
 */
export type VerdictKind = 'retry' | 'split' | 'fail' | 'pause' | 'delivered';

/** One row of the retry table. */
export interface RetryRule {
  /** Lookup key: `http:429`, `meta:17`, `google:RESOURCE_EXHAUSTED`, `tiktok:40100`… */
  key: string;
  platform: Platform | 'any';
  verdict: VerdictKind;
  /** Machine reason recorded on the outcome. */
  reason: string;
  /** Wait at least this long before the retry. */
  minDelayMs?: number;
  /** Why, with the source. */
  why: string;
}

/** What a failed attempt says, per event. */
export interface Verdict {
  kind: VerdictKind;
  reason: string;
  /** Platform code, e.g. `190`, `100/2804003`, `CLICK_NOT_FOUND`, `40002`, `HTTP 502`. */
  error_code?: string;
  error_message?: string;
  /** From the rule: the shortest wait before retrying. */
  minDelayMs?: number;
  /** From `Retry-After` or `retryDelay`: the platform's requested wait. */
  retryAfterMs?: number;
}

/** Why retries stopped. */
export type DeadReason = 'dedup_window_passed' | 'event_too_old' | 'click_window_passed' | 'max_attempts';

/** A verdict from a rule, with the details of the answer. */
export function verdictFrom(rule: RetryRule, details: Omit<Verdict, 'kind' | 'reason'> = {}): Verdict {
  const v: Verdict = { kind: rule.verdict, reason: rule.reason, ...details };
  if (rule.minDelayMs !== undefined) v.minDelayMs = rule.minDelayMs;
  return v;
}

/**
 * The rows of every platform: transport failures and HTTP statuses no
 * platform code explains. The platforms' rows come after them in the table.
 */
export const SHARED_RETRY_RULES: readonly RetryRule[] = [
  // Transport: the platform may or may not have processed the request; a resend is deduplicated.
  { key: 'network', platform: 'any', verdict: 'retry', reason: 'network', why: 'Connection refused or reset: nothing known about the outcome; the resend is deduplicated.' },
  { key: 'timeout', platform: 'any', verdict: 'retry', reason: 'timeout', why: 'No answer in time; the platform may have accepted it, the resend is deduplicated.' },
  { key: 'bad_response', platform: 'any', verdict: 'retry', reason: 'bad_response', why: 'A success status with a body we cannot read: delivery is unconfirmed.' },
  { key: 'http:408', platform: 'any', verdict: 'retry', reason: 'timeout', why: 'Request Timeout (RFC 9110).' },
  { key: 'http:429', platform: 'any', verdict: 'retry', reason: 'rate_limited', why: 'Too Many Requests; Retry-After honoured.' },
  { key: 'http:5xx', platform: 'any', verdict: 'retry', reason: 'server_error', why: 'Server error, incl. non-JSON 502s from proxies (platforms.md §4.3).' },
  { key: 'http:4xx', platform: 'any', verdict: 'fail', reason: 'invalid_request', why: 'Any other client error without a known platform code.' },
];

/** Rows by key. */
export interface RuleTable {
  /** The row for a key; `undefined` when the table has no such row. */
  find(key: string): RetryRule | undefined;
  /** The row for a key the code names itself. Throws {@link SenderError} when it is missing: a typo, not a platform answer. */
  get(key: string): RetryRule;
}

/** A lookup over `rows`, the shared rows included. */
export function ruleTable(rows: readonly RetryRule[]): RuleTable {
  const byKey = new Map([...SHARED_RETRY_RULES, ...rows].map((r) => [r.key, r]));
  return {
    find: (key) => byKey.get(key),
    get(key) {
      const rule = byKey.get(key);
      if (rule === undefined) throw new SenderError(`The retry table has no row ${key}.`);
      return rule;
    },
  };
}

const SHARED = ruleTable([]);

/** A shared row by key (`network`, `timeout`, `bad_response`, `http:…`). */
export function sharedRule(key: string): RetryRule {
  return SHARED.get(key);
}

/** The rule for an HTTP status that no platform code explains. */
export function ruleForHttpStatus(status: number): RetryRule {
  return SHARED.get(status === 408 || status === 429 ? `http:${status}` : status >= 500 ? 'http:5xx' : 'http:4xx');
}
