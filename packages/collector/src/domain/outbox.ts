/**
 * Rules of the outbox, whatever the engine: which platforms an event gets a
 * row for, and which statuses are final.
 */
import { PLATFORM_IDS, type OutcomeStatus, type Platform } from '@pruuv/sender';

/** Every stored event gets one row per platform of the sender's registry; the sender skips platforms the event cannot go to. */
export const OUTBOX_PLATFORMS: readonly Platform[] = PLATFORM_IDS;

/** Outbox statuses that are final: the row is never claimed again. */
export const FINAL_STATUSES: readonly OutcomeStatus[] = ['sent', 'skipped', 'failed', 'dead'];

const FINAL: ReadonlySet<string> = new Set(FINAL_STATUSES);

/**
 * When a row reached its final status: `finished_at` as stored by rows written before, else the
 * row's last change, for a final row. A commit that finishes a row sets `updated_at` to that
 * instant, and nothing changes a final row after (claims take waiting rows, "retry now" makes it
 * waiting again), so both engines store `finished_at` as NULL (25 bytes a row on SQLite).
 */
export function finishedAt<T>(status: string, finished: T | null, updated: T): T | undefined {
  if (!FINAL.has(status)) return undefined;
  return finished ?? updated;
}

/**
 * The connections whose credentials a batch used, and when last: every record
 * of a connection except a pre-flight skip (`skipped` without an answer, so no
 * request went out). A Google validate-only dry run is `skipped` WITH the
 * platform's answer: it used the credentials. A timeout or a refused token did
 * too. Normally one connection per batch; the commit writes them in one UPDATE.
 */
export function usedConnections(
  records: ReadonlyArray<{ connection_id?: string; status: OutcomeStatus; http_status?: number; attempted_at: string }>,
): { ids: string[]; at: string } | undefined {
  const ids = new Set<string>();
  let at = '';
  for (const r of records) {
    if (r.connection_id === undefined || (r.status === 'skipped' && r.http_status === undefined)) continue;
    ids.add(r.connection_id);
    if (r.attempted_at > at) at = r.attempted_at;
  }
  return ids.size === 0 ? undefined : { ids: [...ids], at };
}
