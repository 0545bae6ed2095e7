/**
 * The shapes that flow from a platform's answer to the audit log: what one
 * request said about its events (`Classified`) and the final per-event
 * outcome (`EventOutcome`).
 */
import type { Verdict } from './retry-policy.js';

/** What happened to one event on one platform. */
export type OutcomeStatus = 'sent' | 'failed' | 'retrying' | 'dead' | 'skipped';

/** The per-event result of {@link sendBatch}: one audit-log row. */
export interface EventOutcome {
  event_id: string;
  status: OutcomeStatus;
  /**
   * Machine reason: the skip reason, the failure kind (`invalid_event`, `auth`,
   * `rate_limited`…), `already_delivered` for a duplicate the platform already
   * counted, `dry_run`, or the reason retries stopped (`dedup_window_passed`…).
   */
  reason?: string;
  /** One sentence for a person (skips, dry runs, dead events). */
  message?: string;
  /** Platform error code: `190`, `100/2804003`, `CLICK_NOT_FOUND`, `40002`, `HTTP 502`, `TIMEOUT`… */
  error_code?: string;
  /** The platform's error message (never a token). */
  error_message?: string;
  http_status?: number;
  /** Meta `fbtrace_id`, TikTok `request_id`, Google `requestId` / `request-id`. */
  request_id?: string;
  /** ISO 8601: when to retry (status `retrying`). */
  next_attempt_at?: string;
  /** The credentials or account are unusable: stop sending on this connection until fixed. */
  pause_connection?: boolean;
}

/** The outcome of one event inside one platform answer. */
export type EventResult =
  | Verdict
  /** `message`: what the platform's acceptance does and does not mean, for the audit log (Microsoft, microsoft-ads.md §4.4). */
  | { kind: 'sent'; message?: string }
  | { kind: 'validated' };

/** What one platform answer says about the events of its request. */
export type BatchVerdict =
  /** One result per event, in request order. */
  | { type: 'each'; results: EventResult[] }
  /** The same result for every event. */
  | { type: 'all'; result: EventResult }
  /**
   * The platform rejected the whole request because of some event(s); `indices`
   * names them when the platform says which (Data Manager `fieldViolations`).
   */
  | { type: 'split'; verdict: Verdict; indices?: number[] };

/** A classified answer. */
export interface Classified {
  verdict: BatchVerdict;
  http_status?: number;
  request_id?: string;
}

/** Cuts platform messages to a size fit for a log row. */
export function clip(message: string | undefined, max = 500): string | undefined {
  if (message === undefined) return undefined;
  return message.length > max ? `${message.slice(0, max - 1)}…` : message;
}
