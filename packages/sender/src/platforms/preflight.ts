/**
 * The shared vocabulary of the pre-flight checks: skip reasons, the result
 * type, and the checks more than one platform makes. Each platform's own
 * checks live in `platforms/<name>/eligibility.ts`. Sending what the platform
 * is certain to reject would only fail the whole batch (Meta and TikTok
 * reject a batch for one bad event, platforms.md §1.2, §4.3).
 */
import { formatIssues } from '../schema.js';
import type { ClickRef, ConversionEvent } from '../types.js';
import type { ConnectionBase, ConnectionSpec, PlanBase } from './adapter.js';

/** Why an event is not sent to a platform. */
export type SkipReason =
  | 'consent_denied'
  | 'no_connection'
  | 'missing_click_id'
  | 'invalid_email'
  | 'invalid_phone'
  | 'gbraid_and_wbraid'
  | 'fbc_malformed'
  | 'event_too_old'
  | 'conversion_before_click'
  | 'click_too_old'
  | 'missing_value_currency'
  | 'invalid_event'
  | 'duplicate_in_batch';

/** Not sent, and why. */
export interface Skip {
  send: false;
  reason: SkipReason;
  /** One sentence for the audit log. */
  message: string;
}

/** Send with a plan, or skip with a reason. */
export type Eligibility<P extends PlanBase> = { send: true; plan: P } | Skip;

/**
 * A conversion may look a little earlier than its click when the click's
 * first-seen time came from a browser clock; 5 minutes of slack keeps such
 * events. Defaults to `300_000` ms.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 5 * 60_000;

/** A skip. */
export function skip(reason: SkipReason, message: string): Skip {
  return { send: false, reason, message };
}

/** Milliseconds since the epoch of an ISO time; `undefined` when absent or unreadable. */
export function time(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** The conversion happened before the click was first seen, beyond the clock-skew slack. */
export function precedesClick(event: ConversionEvent, click: ClickRef | undefined): boolean {
  const clickAt = time(click?.ts);
  return clickAt !== undefined && Date.parse(event.event_time) < clickAt - CLOCK_SKEW_TOLERANCE_MS;
}

/** The skip message of a platform the client has no connection for (the same on every such record). */
export function noConnectionMessage(platform: string): string {
  return `No ${platform} connection for this client; add one in Connections.`;
}

/** Why a platform cannot send with this connection, or `undefined` when it can. */
export function connectionProblem<C extends ConnectionBase>(
  platform: string,
  spec: ConnectionSpec<C>,
  connection: C | undefined,
): string | undefined {
  if (connection === undefined) return noConnectionMessage(platform);
  if (connection.platform !== platform) return `The connection is for ${connection.platform}, not ${platform}.`;
  const parsed = spec.schema.safeParse(connection);
  return parsed.success ? undefined : `The ${platform} connection is incomplete: ${formatIssues(parsed.error)}.`;
}
