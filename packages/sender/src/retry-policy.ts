/**
 * THE RETRY TABLE: what each failure means and when (or whether) to send
 * again. The platform classifiers look their answers up here, the README
 * prints this table, and the tests walk every row.
 *
 * Retrying is safe only while the platform still deduplicates a resend:
 * Meta and TikTok by `event_id` for 48 hours (platforms.md §1.3, §4.2),
 * Google by `orderId`/`transactionId` with no stated window
 * (platforms.md §3.2, google-data-manager.md §6). A first attempt may have
 * been counted even if we saw a timeout, so the window starts at the FIRST
 * attempt, and retries stop before it closes: the event is then `dead`.
 */
import type { Platform } from './types.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

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

/**
 * Every row, in the order the README prints them. Retry-After (HTTP header)
 * and Google's `retryDelay` are honoured on top of any row: the next attempt
 * is never earlier than the platform asked.
 */
export const RETRY_TABLE: readonly RetryRule[] = [
  // Transport: the platform may or may not have processed the request; a resend is deduplicated.
  { key: 'network', platform: 'any', verdict: 'retry', reason: 'network', why: 'Connection refused or reset: nothing known about the outcome; the resend is deduplicated.' },
  { key: 'timeout', platform: 'any', verdict: 'retry', reason: 'timeout', why: 'No answer in time; the platform may have accepted it, the resend is deduplicated.' },
  { key: 'bad_response', platform: 'any', verdict: 'retry', reason: 'bad_response', why: 'A success status with a body we cannot read: delivery is unconfirmed.' },
  { key: 'http:408', platform: 'any', verdict: 'retry', reason: 'timeout', why: 'Request Timeout (RFC 9110).' },
  { key: 'http:429', platform: 'any', verdict: 'retry', reason: 'rate_limited', why: 'Too Many Requests; Retry-After honoured.' },
  { key: 'http:5xx', platform: 'any', verdict: 'retry', reason: 'server_error', why: 'Server error, incl. non-JSON 502s from proxies (platforms.md §4.3).' },
  { key: 'http:4xx', platform: 'any', verdict: 'fail', reason: 'invalid_request', why: 'Any other client error without a known platform code.' },

  // Meta: classify by error.code, not HTTP status (platforms.md §1.7: code 17 and 190 came back as HTTP 500).
  { key: 'meta:1', platform: 'meta', verdict: 'retry', reason: 'transient', why: 'API Unknown: "Possibly a temporary issue due to downtime. Wait and retry" (M-ERR).' },
  { key: 'meta:2', platform: 'meta', verdict: 'retry', reason: 'transient', why: 'API Service: temporary downtime (M-ERR).' },
  { key: 'meta:4', platform: 'meta', verdict: 'retry', reason: 'rate_limited', minDelayMs: 15 * MINUTE_MS, why: 'App throttling: long backoff (M-ERR).' },
  { key: 'meta:17', platform: 'meta', verdict: 'retry', reason: 'rate_limited', minDelayMs: 15 * MINUTE_MS, why: 'User request limit reached: long backoff (M-ERR).' },
  { key: 'meta:341', platform: 'meta', verdict: 'retry', reason: 'rate_limited', minDelayMs: 15 * MINUTE_MS, why: 'Application limit reached (M-ERR).' },
  { key: 'meta:368', platform: 'meta', verdict: 'retry', reason: 'temporarily_blocked', minDelayMs: HOUR_MS, why: 'Temporarily blocked for policy violations: "Wait and retry", slowly (M-ERR).' },
  { key: 'meta:613', platform: 'meta', verdict: 'retry', reason: 'rate_limited', minDelayMs: 15 * MINUTE_MS, why: 'Rate limit exceeded (M-MKT).' },
  { key: 'meta:80004', platform: 'meta', verdict: 'retry', reason: 'rate_limited', minDelayMs: 15 * MINUTE_MS, why: 'Too many calls to this ad account (M-MKT).' },
  { key: 'meta:21009', platform: 'meta', verdict: 'retry', reason: 'transient', why: 'Data set upload temporarily not ready (RS-FB).' },
  { key: 'meta:events_received_short', platform: 'meta', verdict: 'retry', reason: 'events_received_short', why: 'HTTP 200 but events_received < events sent: which ones is unknown, so resend all; Meta deduplicates the rest (platforms.md §1.7).' },
  { key: 'meta:100/33', platform: 'meta', verdict: 'pause', reason: 'permission', why: 'Pixel does not exist or the token cannot reach it (RS-FB): fix the Pixel ID or token.' },
  { key: 'meta:100', platform: 'meta', verdict: 'split', reason: 'invalid_event', why: 'Invalid parameter: "If any event … is invalid, we reject the entire batch" (platforms.md §1.2).' },
  { key: 'meta:190', platform: 'meta', verdict: 'pause', reason: 'auth', why: 'Access token invalid or expired: re-authenticate (M-ERR).' },
  { key: 'meta:102', platform: 'meta', verdict: 'pause', reason: 'auth', why: 'Session invalid: re-authenticate (M-ERR).' },
  { key: 'meta:3', platform: 'meta', verdict: 'pause', reason: 'permission', why: 'Missing capability (M-ERR).' },
  { key: 'meta:10', platform: 'meta', verdict: 'pause', reason: 'permission', why: 'Permission denied (M-ERR).' },
  { key: 'meta:200-299', platform: 'meta', verdict: 'pause', reason: 'permission', why: 'Permission errors (M-ERR).' },
  { key: 'meta:transient', platform: 'meta', verdict: 'retry', reason: 'transient', why: 'Any other code with is_transient: true (RS-FB).' },

  // Google Ads API and Data Manager: ConversionUploadError / QuotaError / InternalError names, then google.rpc status.
  { key: 'google:ORDER_ID_ALREADY_IN_USE', platform: 'google', verdict: 'delivered', reason: 'already_delivered', why: 'An earlier upload with this orderId (the event id) was counted (platforms.md §3.5).' },
  { key: 'google:CLICK_CONVERSION_ALREADY_EXISTS', platform: 'google', verdict: 'delivered', reason: 'already_delivered', why: 'This click + time was already uploaded (platforms.md §3.5).' },
  { key: 'google:TOO_RECENT_EVENT', platform: 'google', verdict: 'retry', reason: 'too_recent', minDelayMs: 6 * HOUR_MS, why: 'Click < 6 h old: "Retry after 6 hours" (G-PROTO).' },
  { key: 'google:TOO_RECENT_CONVERSION_ACTION', platform: 'google', verdict: 'retry', reason: 'too_recent', minDelayMs: 6 * HOUR_MS, why: 'Conversion action created < 6 h ago (G-PROTO).' },
  { key: 'google:TOO_MANY_CONVERSIONS_IN_REQUEST', platform: 'google', verdict: 'split', reason: 'batch_too_large', why: 'More than 2,000 rows: split and resend (platforms.md §3.5).' },
  { key: 'google:CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE', platform: 'google', verdict: 'pause', reason: 'not_allowlisted', why: 'Ads API closed to new offline-conversion integrations: permanent; switch the connection to Data Manager (google-data-manager.md §1).' },
  { key: 'google:IngestionMutateRequestsPerDayPerProject', platform: 'google', verdict: 'retry', reason: 'quota_daily', minDelayMs: HOUR_MS, why: 'Daily Data Manager quota spent: wait for the reset (time UNCONFIRMED, so try hourly) (google-data-manager.md §6).' },
  { key: 'google:RESOURCE_EXHAUSTED', platform: 'google', verdict: 'retry', reason: 'rate_limited', why: 'Quota: back off; retryDelay honoured (platforms.md §3.5, google-data-manager.md §6).' },
  { key: 'google:RESOURCE_TEMPORARILY_EXHAUSTED', platform: 'google', verdict: 'retry', reason: 'rate_limited', why: 'Quota (platforms.md §3.5).' },
  { key: 'google:TRANSIENT_ERROR', platform: 'google', verdict: 'retry', reason: 'transient', why: 'InternalError: "The user should retry" (G-PROTO).' },
  { key: 'google:INTERNAL_ERROR', platform: 'google', verdict: 'retry', reason: 'server_error', why: 'InternalError (G-PROTO).' },
  { key: 'google:INTERNAL', platform: 'google', verdict: 'retry', reason: 'server_error', why: 'HTTP 500 (G-ERR, DM-ERR).' },
  { key: 'google:UNKNOWN', platform: 'google', verdict: 'retry', reason: 'server_error', why: 'HTTP 500 (G-ERR).' },
  { key: 'google:UNAVAILABLE', platform: 'google', verdict: 'retry', reason: 'server_error', why: 'HTTP 503; Google\'s own clients retry it (google-data-manager.md §2).' },
  { key: 'google:DEADLINE_EXCEEDED', platform: 'google', verdict: 'retry', reason: 'timeout', why: 'HTTP 504; Google\'s own clients retry it.' },
  { key: 'google:ABORTED', platform: 'google', verdict: 'retry', reason: 'transient', why: 'HTTP 409 concurrency conflict (DM-ERR).' },
  { key: 'google:UNAUTHENTICATED', platform: 'google', verdict: 'pause', reason: 'auth', why: 'Token rejected even after one refresh: reconnect the account.' },
  { key: 'google:invalid_grant', platform: 'google', verdict: 'pause', reason: 'auth', why: 'Refresh token revoked or expired (platforms.md §3.7).' },
  { key: 'google:PERMISSION_DENIED', platform: 'google', verdict: 'pause', reason: 'permission', why: 'The credential cannot reach this account or action (DM-ERR).' },
  { key: 'google:authenticationError', platform: 'google', verdict: 'pause', reason: 'auth', why: 'AuthenticationError family (platforms.md §3.5).' },
  { key: 'google:authorizationError', platform: 'google', verdict: 'pause', reason: 'permission', why: 'AuthorizationError family (platforms.md §3.5).' },
  { key: 'google:INVALID_ARGUMENT', platform: 'google', verdict: 'split', reason: 'invalid_event', why: 'Data Manager fails the whole request for one bad event (google-data-manager.md §6): quarantine it.' },
  { key: 'google:other', platform: 'google', verdict: 'fail', reason: 'invalid_request', why: 'Any other error code (CLICK_NOT_FOUND, EXPIRED_EVENT, NOT_FOUND…): "Don\'t retry without addressing the issue" (DM-ERR).' },

  // TikTok: errors arrive as HTTP 200 with code != 0 (platforms.md §4.3).
  { key: 'tiktok:40001', platform: 'tiktok', verdict: 'pause', reason: 'permission', why: 'No permission to operate this pixel: fix the token (RS-TT).' },
  { key: 'tiktok:40002', platform: 'tiktok', verdict: 'split', reason: 'invalid_event', why: 'Invalid parameter rejects the whole request (platforms.md §4.3).' },
  { key: 'tiktok:40100', platform: 'tiktok', verdict: 'retry', reason: 'rate_limited', why: '"Too many requests. Please retry in some time." (RS-TT).' },
  { key: 'tiktok:40700', platform: 'tiktok', verdict: 'retry', reason: 'transient', why: 'Retried as a 500 by RudderStack (RS-TT).' },
  { key: 'tiktok:5xxxx', platform: 'tiktok', verdict: 'retry', reason: 'server_error', why: 'TikTok system errors.' },
  { key: 'tiktok:other', platform: 'tiktok', verdict: 'fail', reason: 'invalid_request', why: 'Any other non-zero code.' },
];

const BY_KEY = new Map(RETRY_TABLE.map((r) => [r.key, r]));

/** The rule for a key; `undefined` when the table has no such row. */
export function ruleFor(key: string): RetryRule | undefined {
  return BY_KEY.get(key);
}

/** The rule for an HTTP status that no platform code explains. */
export function ruleForHttpStatus(status: number): RetryRule {
  const key = status === 408 || status === 429 ? `http:${status}` : status >= 500 ? 'http:5xx' : 'http:4xx';
  return BY_KEY.get(key) as RetryRule;
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

/** A verdict from a rule, with the details of the answer. */
export function verdictFrom(rule: RetryRule, details: Omit<Verdict, 'kind' | 'reason'> = {}): Verdict {
  const v: Verdict = { kind: rule.verdict, reason: rule.reason, ...details };
  if (rule.minDelayMs !== undefined) v.minDelayMs = rule.minDelayMs;
  return v;
}

/** Backoff and stop settings. */
export interface RetryPolicy {
  /** First retry delay ceiling. Defaults to `60_000` (1 minute). */
  baseDelayMs: number;
  /** Growth per attempt. Defaults to `2`. */
  factor: number;
  /** Largest delay ceiling. Defaults to `21_600_000` (6 hours). */
  maxDelayMs: number;
  /** Attempts in all, the first included. Defaults to `12`. */
  maxAttempts: number;
  /** Meta and TikTok deduplicate a resend this long after the first attempt. Defaults to `172_800_000` (48 hours). */
  dedupWindowMs: number;
  /**
   * Stop this long before a deadline, so a retry picked up late by the
   * scheduler still lands inside it. Defaults to `3_600_000` (1 hour).
   */
  safetyMarginMs: number;
}

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  baseDelayMs: MINUTE_MS,
  factor: 2,
  maxDelayMs: 6 * HOUR_MS,
  maxAttempts: 12,
  dedupWindowMs: 48 * HOUR_MS,
  safetyMarginMs: HOUR_MS,
};

/** Why retries stopped. */
export type DeadReason = 'dedup_window_passed' | 'event_too_old' | 'click_window_passed' | 'max_attempts';

/** Input of {@link nextAttempt}. */
export interface NextAttemptInput {
  platform: Platform;
  /** 1-based number of the attempt that just failed. */
  attempt: number;
  /** When the first attempt of this event on this platform was made. */
  firstAttemptAt: Date;
  now: Date;
  /** The conversion time. */
  eventTime: Date;
  /** Google: the uploaded click's first-seen time, when known. */
  clickTime?: Date;
  /** The rule's minimum delay. */
  minDelayMs?: number;
  /** The platform's requested delay (`Retry-After`, `retryDelay`). */
  retryAfterMs?: number;
  /** Uniform in [0, 1). Defaults to `Math.random`. */
  random?: () => number;
  policy?: Partial<RetryPolicy>;
}

/** Retry at a time, or stop. */
export type NextAttempt =
  | { status: 'retrying'; at: Date; delayMs: number }
  | { status: 'dead'; reason: DeadReason; message: string };

/**
 * When to try again, or `dead` when another try could double-count or can no
 * longer be accepted. Exponential backoff with full jitter: the delay is uniform
 * in [0, min(maxDelay, base × factor^(attempt−1))), then raised to the rule's
 * minimum and the platform's `Retry-After`.
 *
 * Worked numbers with the defaults: ceilings 1, 2, 4, 8 … 256 min, then 6 h;
 * eleven retries wait at most ~14.5 h in total, inside Meta's 48 h window.
 */
export function nextAttempt(input: NextAttemptInput): NextAttempt {
  const p: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...input.policy };
  if (input.attempt >= p.maxAttempts) {
    return { status: 'dead', reason: 'max_attempts', message: `Gave up after ${input.attempt} attempts.` };
  }
  const random = input.random ?? Math.random;
  const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * p.factor ** (input.attempt - 1));
  const delayMs = Math.max(Math.floor(random() * ceiling), input.minDelayMs ?? 0, input.retryAfterMs ?? 0);
  const at = new Date(input.now.getTime() + delayMs);

  const deadline = deadlineFor(input, p);
  if (deadline && at.getTime() > deadline.at - p.safetyMarginMs) {
    return { status: 'dead', reason: deadline.reason, message: deadline.message };
  }
  return { status: 'retrying', at, delayMs };
}

function deadlineFor(
  input: NextAttemptInput,
  p: RetryPolicy,
): { at: number; reason: DeadReason; message: string } | undefined {
  const dedup = {
    at: input.firstAttemptAt.getTime() + p.dedupWindowMs,
    reason: 'dedup_window_passed' as const,
    message: `The next try would fall outside the platform's ${p.dedupWindowMs / HOUR_MS} h deduplication window, so a resend could be counted twice.`,
  };
  switch (input.platform) {
    case 'meta': {
      // Meta also refuses events older than 7 days (platforms.md §1.3).
      const tooOld = {
        at: input.eventTime.getTime() + 7 * DAY_MS,
        reason: 'event_too_old' as const,
        message: 'The next try would be more than 7 days after the conversion; Meta would reject it.',
      };
      return tooOld.at < dedup.at ? tooOld : dedup;
    }
    case 'tiktok':
      return dedup;
    case 'google': {
      // orderId deduplicates with no stated window; the limit is the 90-day click window (platforms.md §3.6).
      const from = (input.clickTime ?? input.eventTime).getTime();
      return {
        at: from + 90 * DAY_MS,
        reason: 'click_window_passed',
        message: 'The next try would be more than 90 days after the click; Google would reject it.',
      };
    }
  }
}
