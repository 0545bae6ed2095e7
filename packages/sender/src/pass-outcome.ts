/**
 * From one event's outcome to what a send pass writes: the outbox row's new
 * state and the audit record. Pure, so the mapping is tested with tables.
 */
import type { ClaimedSend, RowUpdate, SendRecord } from './outbox-store.js';
import { clip, type EventOutcome } from './outcomes.js';
import { platformAdapter } from './platforms/index.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';

/** What is the same for every event of one `sendBatch` call. */
export interface AttemptContext {
  /** When the batch was attempted. */
  attemptedAt: Date;
  /** Events in the `sendBatch` call. */
  batchSize: number;
  passId: string;
  dryRun: boolean;
  connectionId?: string;
  stageId?: string;
  /**
   * A `retrying` row is never due before this instant: the pass only claims
   * rows due at or before its start, so a zero-delay retry cannot be claimed
   * again by the same pass. Defaults to no floor.
   */
  notBefore?: Date;
}

/** The row update and audit record of one outcome. */
export interface AppliedOutcome {
  update: RowUpdate;
  record: SendRecord;
}

/** `reason: code message`, cut for the outbox's `last_error` column. */
function lastError(o: EventOutcome): string | undefined {
  if (o.status === 'sent' || o.status === 'skipped') return undefined;
  const detail = [o.error_code, o.error_message ?? o.message].filter((s) => s !== undefined && s !== '').join(' ');
  const text = [o.reason, detail].filter((s) => s !== undefined && s !== '').join(': ');
  return text === '' ? undefined : clip(text, 500);
}

/** Maps an outcome onto the claimed row: the update and the audit record. */
export function applyOutcome(claim: ClaimedSend, given: EventOutcome, ctx: AttemptContext): AppliedOutcome {
  const attemptedAt = ctx.attemptedAt.toISOString();
  // An auth or permission error pauses the connection (retry table, verdict
  // `pause`). The conversion itself did nothing wrong: it is held, due again
  // as soon as `pruuv connections set` un-pauses the connection (claims skip
  // paused connections), never dropped. The platform refused it whole, so this
  // attempt cannot have been counted and does not start the dedup window.
  const held = given.status === 'failed' && given.pause_connection === true;
  const outcome: EventOutcome = held
    ? { ...given, status: 'retrying', next_attempt_at: attemptedAt, message: 'Held until the connection is fixed (pruuv connections set); then sent.' }
    : given;
  let next = outcome.status === 'retrying' ? outcome.next_attempt_at : undefined;
  if (outcome.status === 'retrying' && !held) {
    const floor = ctx.notBefore !== undefined ? ctx.notBefore.getTime() + 1 : Number.NEGATIVE_INFINITY;
    const at = next !== undefined ? Date.parse(next) : Number.NaN;
    // A retry without a time would never be due again; treat it as due at the floor.
    next = new Date(Number.isNaN(at) ? Math.max(floor, ctx.attemptedAt.getTime()) : Math.max(at, floor)).toISOString();
  }
  const update: RowUpdate = {
    id: claim.id,
    status: outcome.status,
    attempts: claim.attempts + 1,
  };
  const firstAttempt = held ? claim.first_attempt_at : (claim.first_attempt_at ?? attemptedAt);
  if (firstAttempt !== undefined) update.first_attempt_at = firstAttempt;
  if (next !== undefined) update.due_at = next;
  const error = lastError(outcome);
  if (error !== undefined) update.last_error = error;

  const record: SendRecord = {
    outbox_id: claim.id,
    event_id: claim.event_id,
    client_id: claim.client_id,
    platform: claim.platform,
    status: outcome.status,
    dedup_key: claim.event_id,
    batch_size: ctx.batchSize,
    retry_count: claim.attempts,
    attempted_at: attemptedAt,
    dry_run: ctx.dryRun,
    pass_id: ctx.passId,
  };
  if (ctx.stageId !== undefined) record.stage_id = ctx.stageId;
  if (ctx.connectionId !== undefined) record.connection_id = ctx.connectionId;
  if (outcome.reason !== undefined) record.reason = outcome.reason;
  if (outcome.message !== undefined) record.message = clip(outcome.message) as string;
  if (outcome.error_code !== undefined) record.error_code = outcome.error_code;
  if (outcome.error_message !== undefined) record.error_message = clip(outcome.error_message) as string;
  if (outcome.http_status !== undefined) record.http_status = outcome.http_status;
  if (outcome.request_id !== undefined) record.request_id = outcome.request_id;
  if (next !== undefined) record.next_attempt_at = next;
  return { update, record };
}

/**
 * `dead` before sending when a Meta or TikTok row comes back after the
 * platform's dedup window (48 h from the FIRST attempt, less the safety
 * margin, platforms.md §1.3, §4.2): that first attempt may have been counted,
 * so another send could count the conversion twice. A sender that was down for
 * days must not resend. Platforms without such a window (Google `orderId`,
 * `windowedDedup: false`) are never expired here.
 */
export function expiredBeforeSend(
  claim: ClaimedSend,
  now: Date,
  policy: Partial<RetryPolicy> = {},
): EventOutcome | undefined {
  if (!platformAdapter(claim.platform).windowedDedup || claim.first_attempt_at === undefined) return undefined;
  const p: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...policy };
  const first = Date.parse(claim.first_attempt_at);
  if (Number.isNaN(first) || now.getTime() < first + p.dedupWindowMs - p.safetyMarginMs) return undefined;
  return {
    event_id: claim.event_id,
    status: 'dead',
    reason: 'dedup_window_passed',
    message: `Not resent: the first attempt was more than ${(p.dedupWindowMs - p.safetyMarginMs) / 3_600_000} h ago, outside the platform's deduplication window, so a resend could be counted twice.`,
  };
}
