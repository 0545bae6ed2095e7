/**
 * SQLite retention (`domain/retention.ts`): old events leave in small batches, each one
 * `BEGIN IMMEDIATE` transaction holding the write lock for a few milliseconds, so admissions
 * wait at most one batch. Freed pages go back to the file system with `incremental_vacuum`
 * when the file is in `auto_vacuum = INCREMENTAL` mode (new files are, see `db.ts`; older ones
 * after `pruuv db vacuum`).
 */
import { FINAL_STATUSES } from '../../domain/outbox.js';
import type { PruneResult, RetentionStore } from '../types.js';
import type { Db } from './db.js';
import { outboxOfEventsSql } from './outbox.js';

/** `auto_vacuum` of a file: 0 none, 1 full, 2 incremental (sqlite.org/pragma.html#pragma_auto_vacuum). */
const INCREMENTAL = 2;

/** The final statuses as an SQL list; constants of the code, never input. */
const FINAL_SQL = FINAL_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * Events old enough to go: received before the cutoff, oldest first (through `events_time`), none of
 * whose outbox rows is unfinished or finished since the cutoff (through the (event_ms, event_id, platform) key;
 * a final row's finish is its last change, `finishedAt` in domain/outbox.ts).
 * A held row (a beacon without a browser's signals, never released) does not hold its event back:
 * a held event older than the retention goes, as any other.
 */
export const REMOVABLE = `FROM events e
  WHERE e.received_ms < @before_ms
    AND NOT EXISTS (
      SELECT 1 FROM outbox o WHERE o.event_ms = e.received_ms AND o.event_id = e.id AND o.status <> 'held'
        AND (o.status NOT IN (${FINAL_SQL}) OR COALESCE(o.finished_at, o.updated_at) >= @before)
    )`;

/** The ids of the outbox rows of the events listed in a JSON array (the statement's parameter). */
export const ROWS_OF_LISTED = outboxOfEventsSql('SELECT value FROM json_each(?)', 'o.id');

/**
 * Events removed per statement inside a batch: between two chunks the batch checks its time budget.
 * Measured at 100,000 stored events (bench/storage.mjs), the statements of 100 events cost about
 * 13 ms (the pick 1 ms, the audit records 4, the outbox rows 5.5, the events 2), and the commit
 * (now without an `fsync` of its own: `unsynced` below) comes on top; 5 a chunk keeps the overshoot
 * past the budget (2 ms by default) near half a millisecond.
 */
const CHUNK = 5;

/** User agents a batch removes at most (each an index probe of `events_user_agent`). */
export const USER_AGENTS_PER_BATCH = 100;

/** Creates the retention of the SQLite store. */
export function createRetention(db: Db): RetentionStore {
  const pick = db.prepare<[{ before_ms: number; before: string; limit: number }], { id: string }>(
    `SELECT e.id ${REMOVABLE} ORDER BY e.received_ms LIMIT @limit`,
  );
  const count = db.prepare<[{ before_ms: number; before: string }], { n: number }>(`SELECT COUNT(*) AS n ${REMOVABLE}`);
  // The ids travel as one JSON array: one statement per table, whatever the batch size.
  const unlink = db.prepare<[string]>('UPDATE events SET inherited_from = NULL WHERE inherited_from IN (SELECT value FROM json_each(?))');
  // Audit records by their outbox rows' keys (send_attempts_outbox; the log has no index on event ids, migration 017),
  // the rows through the outbox's key (event_ms, event_id, platform; migration 031), as the rows' removal below.
  const attempts = db.prepare<[string], { request_key: number | null }>(
    `DELETE FROM send_attempts WHERE outbox_id IN (${ROWS_OF_LISTED}) RETURNING request_key`,
  );
  // The requests those records named, once no record names them (send_attempts_request, migration 030).
  const requests = db.prepare<[string]>(
    `DELETE FROM send_requests WHERE id IN (SELECT value FROM json_each(?))
       AND NOT EXISTS (SELECT 1 FROM send_attempts a WHERE a.request_key = send_requests.id)`,
  );
  const outbox = db.prepare<[string]>(`DELETE FROM outbox WHERE id IN (${ROWS_OF_LISTED})`);
  const events = db.prepare<[string]>('DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))');
  // User agents (migration 025) no admission has used since the cutoff (through user_agents_last:
  // src/store/user-agents.ts) and no event names (through events_user_agent), a few a batch: those
  // whose last events a batch removed, and any an admission added for an event it then refused.
  const unusedUserAgents = db.prepare<[{ before_ms: number }]>(
    `DELETE FROM user_agents WHERE id IN (
       SELECT u.id FROM user_agents u INDEXED BY user_agents_last WHERE u.last_ms < @before_ms
         AND NOT EXISTS (SELECT 1 FROM events INDEXED BY events_user_agent WHERE user_agent_key = u.id)
       LIMIT ${USER_AGENTS_PER_BATCH})`,
  );

  // Removes the picked events a few at a time, each with its rows, until the batch has worked
  // `budgetMs`: the transaction, and so the process's event loop, is held that long and little more.
  const batch = db.transaction((before: Date, limit: number, budgetMs: number): PruneResult => {
    const started = performance.now();
    const ids = pick.all({ before_ms: before.getTime(), before: before.toISOString(), limit }).map((r) => r.id);
    const removed: PruneResult = { events: 0, outbox: 0, send_attempts: 0, user_agents: 0 };
    for (let i = 0; i < ids.length; i += CHUNK) {
      const list = JSON.stringify(ids.slice(i, i + CHUNK));
      // A later event's link to a removed one would break the foreign key (migration 001); its fields stay.
      unlink.run(list);
      const records = attempts.all(list);
      removed.send_attempts += records.length;
      const keys = new Set(records.flatMap((r) => (r.request_key === null ? [] : [r.request_key])));
      if (keys.size > 0) requests.run(JSON.stringify([...keys]));
      removed.outbox += outbox.run(list).changes;
      removed.events += events.run(list).changes;
      if (performance.now() - started >= budgetMs) break;
    }
    removed.user_agents = unusedUserAgents.run({ before_ms: before.getTime() }).changes;
    return removed;
  });

  /**
   * Runs a sweep's write without waiting for the disk: `synchronous = NORMAL` for that
   * transaction alone (the store's commits are `FULL`). In WAL mode a commit then appends to the
   * WAL without an `fsync`; the next admission's commit syncs the WAL with the sweep's frames in
   * it. A power cut can undo the last batches a sweep removed (the next sweep removes them
   * again), never leave one half done, and never undo an admission. An `fsync` of its own per
   * batch was the larger part of the admissions' wait behind a sweep on SQLite.
   */
  const unsynced = <T>(work: () => T): T => {
    const was = db.pragma('synchronous', { simple: true }) as number;
    db.pragma('synchronous = NORMAL');
    try {
      return work();
    } finally {
      db.pragma(`synchronous = ${was}`);
    }
  };

  return {
    async prune({ before, limit, budgetMs }) {
      return unsynced(() => batch.immediate(before, Math.max(1, Math.floor(limit)), budgetMs ?? Infinity));
    },
    async removable(before) {
      return count.get({ before_ms: before.getTime(), before: before.toISOString() })?.n ?? 0;
    },
    async reclaim(pages) {
      if (db.memory || db.pragma('auto_vacuum', { simple: true }) !== INCREMENTAL) return 0;
      const free = (): number => db.pragma('freelist_count', { simple: true }) as number;
      const before = free();
      unsynced(() => db.pragma(`incremental_vacuum(${Math.max(0, Math.floor(pages))})`));
      return before - free();
    },
  };
}
