/**
 * "Retry now" of a failed or dead send: whether the platform would still take a resend under
 * the same dedup key (the event id), and the audit record of the request. The numbers are the
 * sender's: its pass marks a row `dead` before sending once `expiredBeforeSend` says the dedup
 * window is over (Meta and TikTok: 48 h from the first attempt, less the 1 h safety margin,
 * platforms.md §1.3, §4.2), and stops retrying at the platform's own deadline
 * (`retryDeadline`: Meta 7 days after the conversion, Google 90 days after the click), less
 * the same margin. A retry offered here is one the next pass will actually send.
 */
import type { ClaimedSend } from '@pruuv/sender';
import { platformAdapter } from '@pruuv/sender';
import { DEFAULT_RETRY_POLICY, expiredBeforeSend } from '@pruuv/sender/platforms';
import { toConversionEvent } from '../domain/conversion-event.js';
import type { AuditRecord, OutboxRow, StoredEvent, User } from '../store/types.js';

/** The statuses a person may send again. */
export const RETRYABLE_STATUSES: readonly string[] = ['failed', 'dead'];

/** The audit log's reason of a retry requested by a person. */
export const RETRY_REQUESTED = 'retry_requested';

/** Whether a row may be sent again now, and if not, why (one sentence for a person). */
export type RetryVerdict = { ok: true } | { ok: false; reason: string };

/** The outbox row as the pass would claim it. */
function asClaim(row: OutboxRow, clientId: string): ClaimedSend {
  const claim: ClaimedSend = { id: row.id, event_id: row.event_id, client_id: clientId, platform: row.platform, status: 'retrying', attempts: row.attempts, due_at: row.due_at };
  if (row.first_attempt_at !== undefined) claim.first_attempt_at = row.first_attempt_at;
  return claim;
}

/** Whether `row` may be made due again at `now`. `event` is the row's event (`undefined`: no longer stored). */
export function retryVerdict(row: OutboxRow, event: StoredEvent | undefined, now: Date): RetryVerdict {
  if (!RETRYABLE_STATUSES.includes(row.status)) return { ok: false, reason: `Only failed and dead sends can be retried; this one is ${row.status}.` };
  if (row.lease_until !== undefined && Date.parse(row.lease_until) > now.getTime()) return { ok: false, reason: 'A send pass holds it right now.' };
  if (event === undefined) return { ok: false, reason: 'The event is no longer stored.' };
  const expired = expiredBeforeSend(asClaim(row, event.client_id), now);
  if (expired !== undefined) return { ok: false, reason: expired.message ?? 'Outside the platform’s deduplication window.' };
  const adapter = platformAdapter(row.platform);
  const conversion = toConversionEvent(event);
  // The click the platform uploads with: the latest first-seen of its click IDs (Google's choice, chooseGoogleClick).
  const clickTimes = adapter.clickIds.map((k) => Date.parse(conversion.clicks[k]?.ts ?? '')).filter((t) => !Number.isNaN(t));
  const deadline = adapter.retryDeadline?.({
    eventTime: new Date(conversion.event_time),
    ...(clickTimes.length > 0 ? { clickTime: new Date(Math.max(...clickTimes)) } : {}),
  });
  if (deadline !== undefined && now.getTime() > deadline.at - DEFAULT_RETRY_POLICY.safetyMarginMs) return { ok: false, reason: deadline.message };
  return { ok: true };
}

/** The audit record of a retry requested by `user`: who and when, kept with the row's attempts. */
export function retryRecord(row: OutboxRow, event: StoredEvent, user: Pick<User, 'email' | 'role'>, connectionId: string | undefined, now: Date): AuditRecord {
  const at = now.toISOString();
  const record: AuditRecord = {
    outbox_id: row.id,
    event_id: row.event_id,
    client_id: event.client_id,
    stage_id: event.stage_id,
    platform: row.platform,
    status: 'retrying',
    reason: RETRY_REQUESTED,
    message: `Retry requested in the dashboard by ${user.email} (${user.role}); due again now, sent by the next pass.`,
    dedup_key: row.event_id,
    retry_count: row.attempts,
    attempted_at: at,
    next_attempt_at: at,
    dry_run: false,
  };
  if (connectionId !== undefined) record.connection_id = connectionId;
  return record;
}
