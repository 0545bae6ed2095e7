/**
 * THE RETRY TABLE: what each failure means and when (or whether) to send
 * again. The shared rows (`retry-rules.ts`) come first, then each platform's
 * own (`platforms/<name>/retry-rules.ts`) in registry order; the platform
 * classifiers look their answers up there, the README prints this table, and
 * the tests walk every row.
 *
 * Retrying is safe only while the platform still deduplicates a resend:
 * Meta and TikTok by `event_id` for 48 hours (platforms.md §1.3, §4.2),
 * Google by `orderId`/`transactionId` with no stated window
 * (platforms.md §3.2, google-data-manager.md §6). A first attempt may have
 * been counted even if we saw a timeout, so the window starts at the FIRST
 * attempt, and retries stop before it closes: the event is then `dead`.
 */
import type { Deadline } from './platforms/adapter.js';
import { PLATFORMS, platformAdapter, type Platform } from './platforms/index.js';
import { SHARED_RETRY_RULES, type DeadReason, type RetryRule } from './retry-rules.js';

export type { DeadReason, RetryRule, Verdict, VerdictKind } from './retry-rules.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * Every row, in the order the README prints them. Retry-After (HTTP header)
 * and Google's `retryDelay` are honoured on top of any row: the next attempt
 * is never earlier than the platform asked.
 */
export const RETRY_TABLE: readonly RetryRule[] = [...SHARED_RETRY_RULES, ...PLATFORMS.flatMap((p) => p.retryRules)];

const BY_KEY = new Map(RETRY_TABLE.map((r) => [r.key, r]));

/** The rule for a key; `undefined` when the table has no such row. */
export function ruleFor(key: string): RetryRule | undefined {
  return BY_KEY.get(key);
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

/**
 * The earliest deadline of a retry: the dedup window from the first attempt
 * when the platform's dedup has one, and the platform's own deadline; on a
 * tie, the dedup window's reason.
 */
function deadlineFor(input: NextAttemptInput, p: RetryPolicy): Deadline | undefined {
  const adapter = platformAdapter(input.platform);
  const dedup: Deadline | undefined = adapter.windowedDedup
    ? {
        at: input.firstAttemptAt.getTime() + p.dedupWindowMs,
        reason: 'dedup_window_passed',
        message: `The next try would fall outside the platform's ${p.dedupWindowMs / HOUR_MS} h deduplication window, so a resend could be counted twice.`,
      }
    : undefined;
  const own = adapter.retryDeadline?.({ eventTime: input.eventTime, ...(input.clickTime ? { clickTime: input.clickTime } : {}) });
  if (dedup === undefined || own === undefined) return dedup ?? own;
  return own.at < dedup.at ? own : dedup;
}
