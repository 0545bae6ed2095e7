/**
 * Group commit. With `synchronous = FULL` every commit waits for an fsync
 * (about 0.8 ms on the disk this was measured on, against about 0.25 ms for all
 * of an admission's SQL), so one transaction per request caps a collector at a
 * few hundred events per second however fast the rest is. Requests that arrive
 * together are instead written in ONE `BEGIN IMMEDIATE … COMMIT`: with ten
 * concurrent senders, one fsync covers about ten events, and each caller is
 * still answered only after its event is on disk.
 *
 * A bug that throws on one event rolls back that event alone: the group first runs
 * its items plainly, and only when one throws is the transaction rolled back and
 * the group run again with each item in its own savepoint (a better-sqlite3
 * transaction function called inside another becomes a SAVEPOINT). Savepoints on
 * every item cost measurably on the ingest path (each page an item touches is first
 * copied to the savepoint journal), and an item that throws is a bug, not a load.
 * A full, busy or locked database fails the whole group, and every caller answers
 * 503 with nothing stored. Items run in arrival order, so the dedup and rate checks
 * of a later item see the earlier items of the same group. `run` must therefore
 * have no effect outside the database: it may be run twice for one item.
 */
import { isBusy } from './busy.js';
import type { Db } from './db.js';
import { asStorageUnavailable } from '../../errors.js';

/**
 * At most this many items share a transaction: a burst is split so that the
 * write lock is never held for long (100 admissions ≈ 25 ms of SQL).
 */
export const MAX_GROUP = 100;

/** Thrown inside the fast transaction to roll it back when an item fails. */
class ItemFailed extends Error {}

type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Wraps `run` (one item's writes, synchronous, with no effect outside the database)
 * into an async function whose calls in one turn of the event loop are committed
 * together, at `setImmediate`, after the current I/O callbacks have queued theirs.
 */
export function createGroupCommit<I, O>(
  db: Db,
  run: (item: I) => O,
  options: {
    /** Called after each committed group with its size (for tests and metrics). */
    onCommit?: (size: number) => void;
    /** Called first inside each transaction, before the items (with the write lock held). */
    onBegin?: () => void;
    /**
     * How long a group waits for another connection's write lock, tried again from timers
     * (never blocking the event loop: busy.ts). Defaults to `0`: fail at once.
     */
    busyWaitMs?: number;
  } = {},
): (item: I) => Promise<O> {
  const begin = options.onBegin ?? ((): void => {});
  const queue: Pending<I, O>[] = [];
  let scheduled = false;

  // Fast path: the items without savepoints; any failure rolls the whole group back.
  const plain = db.transaction((items: Pending<I, O>[]): Settled<O>[] => {
    begin();
    return items.map((p) => {
      try {
        return { ok: true, value: run(p.item) };
      } catch (error) {
        if (asStorageUnavailable(error) || !db.inTransaction) throw error;
        throw new ItemFailed();
      }
    });
  });
  // Slow path, after an item failed: each item in its own savepoint.
  const isolated = db.transaction(run);
  const withSavepoints = db.transaction((items: Pending<I, O>[]): Settled<O>[] => {
    begin();
    return items.map((p) => {
      try {
        return { ok: true, value: isolated(p.item) };
      } catch (error) {
        // Busy, locked or full is the database's state, not this item's fault, and SQLite
        // may already have rolled the whole transaction back (SQLITE_FULL): fail the group.
        if (asStorageUnavailable(error) || !db.inTransaction) throw error;
        return { ok: false, error };
      }
    });
  });
  const group = (items: Pending<I, O>[]): Settled<O>[] => {
    try {
      return plain.immediate(items);
    } catch (error) {
      if (!(error instanceof ItemFailed)) throw error;
      return withSavepoints.immediate(items);
    }
  };

  const busyWaitMs = options.busyWaitMs ?? 0;
  // Items waiting for another connection's lock, with when they first found it held.
  let waiting: { items: Pending<I, O>[]; since: number; delay: number } | undefined;

  const flush = (): void => {
    scheduled = false;
    const retry = waiting;
    waiting = undefined;
    const items = retry?.items ?? queue.splice(0, MAX_GROUP);
    let settled: Settled<O>[];
    try {
      settled = group(items);
    } catch (error) {
      // BEGIN or COMMIT failed (busy, locked, disk full): nothing of the group was stored.
      const since = retry?.since ?? Date.now();
      if (isBusy(error) && Date.now() - since < busyWaitMs) {
        // Another connection holds the lock: try again from a timer, the event loop serving meanwhile.
        const delay = Math.min((retry?.delay ?? 2) * 2, 100);
        waiting = { items, since, delay };
        setTimeout(flush, delay);
        return;
      }
      const failure = asStorageUnavailable(error) ?? error;
      for (const p of items) p.reject(failure);
      if (queue.length > 0) schedule();
      return;
    }
    if (queue.length > 0) schedule();
    options.onCommit?.(items.length);
    settled.forEach((s, i) => {
      const p = items[i]!;
      if (s.ok) p.resolve(s.value);
      else p.reject(asStorageUnavailable(s.error) ?? s.error);
    });
  };

  const schedule = (): void => {
    // While a group waits for the lock, new items queue behind it: one writer at a time, in order.
    if (waiting !== undefined) return;
    scheduled = true;
    setImmediate(flush);
  };

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!scheduled) schedule();
    });
}
