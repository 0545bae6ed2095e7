/**
 * How long events are kept (`PRUUV_RETENTION_DAYS`), whatever the engine. An event goes, with
 * its outbox rows and its records in the conversion audit log, once it was received more than
 * the retention ago AND every outbox row of it is final (`FINAL_STATUSES`) since more than the
 * retention: a row still due (`pending`, `retrying`, `held`) keeps its event, and so does a
 * send that ended recently, so the audit log explains every send for the whole retention after
 * it ended. The daily roll-ups (`daily_events`, `daily_sends`) are aggregates and stay.
 */

const DAY_MS = 86_400_000;

/**
 * Default retention, in days. The longest platform window is Google's: a click can be uploaded
 * up to 90 days after it (platforms.md §3.6), so a lead holding a `gclid` matters for 90 days;
 * Meta refuses events older than 7 days (platforms.md §1.3) and attributes clicks over at most
 * 28 days; TikTok attributes clicks over at most 28 days; Meta and TikTok deduplicate a resend
 * within 48 h of the first attempt (`DEFAULT_RETRY_POLICY.dedupWindowMs`). 180 days is Google's
 * 90 days plus one more quarter, so the audit log can still explain, at a quarter's review, a
 * send made at the very end of a Google click window.
 */
export const DEFAULT_RETENTION_DAYS = 180;

/**
 * Shortest retention accepted, in days: one day more than Google's 90-day click window, the
 * longest window in which a stored event can still be sent or lend its click IDs to a later one.
 */
export const MIN_RETENTION_DAYS = 91;

/** Longest retention accepted, in days (100 years: in effect, keep everything). */
export const MAX_RETENTION_DAYS = 36_500;

/**
 * Events removed per transaction at most, by default. A PostgreSQL batch's commit writes the WAL
 * of its rows (an event, three or four outbox rows and audit records, their index entries), which
 * the admissions' commits then flush with theirs: bench/storage.mjs measured batches of 20 at about
 * 5 ms each and ingest p99 1.7 times the baseline or less during a sweep, against 12 ms and up to
 * 2.4 times for batches of 100. On SQLite a batch also holds the process's event loop
 * (better-sqlite3 is synchronous, and the sweep runs in `pruuv serve` beside the admissions), so
 * there a batch is bounded in time as well ({@link DEFAULT_PRUNE_BUDGET_MS}), which comes first.
 */
export const DEFAULT_PRUNE_BATCH = 20;

/**
 * Work per batch, in milliseconds, after which a SQLite batch commits what it removed. A batch holds
 * the event loop that admits (better-sqlite3 is synchronous): an admission that arrives during one
 * waits for it, so a batch is kept to about a fifth of an admission's own p99 (8 to 15 ms on the
 * 2-core VM, bench/storage.mjs). Removing an event with its three sends costs about 0.1 ms at
 * 100,000 stored: some twenty events a batch.
 */
export const DEFAULT_PRUNE_BUDGET_MS = 2;

/**
 * Freed SQLite pages given back after each batch (`incremental_vacuum`, a transaction of its own
 * that holds the event loop as a batch does), 128 kB at 4 kB pages: more than a batch of
 * {@link DEFAULT_PRUNE_BUDGET_MS} frees, so the file shrinks as the sweep goes, in steps as short.
 */
export const DEFAULT_RECLAIM_PAGES = 32;

/**
 * The share of the time a sweep works, at most: after a batch (with its page reclaim) that took
 * `t`, the sweep waits at least `t × (1 − duty) / duty` (and at least its `pauseMs`). A batch that
 * gets slower (a loaded machine, a PostgreSQL server busy with admissions) makes the sweep wait
 * longer, instead of taking a larger share of the CPU and the disk from the admissions.
 */
export const DEFAULT_SWEEP_DUTY = 0.1;

/** The instant before which events (and sends finished) are old enough to go, `days` before `now`. */
export function retentionCutoff(now: Date, days: number): Date {
  return new Date(now.getTime() - days * DAY_MS);
}
