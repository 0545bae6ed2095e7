/**
 * The retention sweep (`PRUUV_RETENTION_DAYS`, `domain/retention.ts`): batch after batch of old
 * events removed (`Store.retention.prune`, one short transaction each, on SQLite also bounded in
 * time) with a pause between them that grows with the batch (the sweep works a tenth of the time at
 * most), so admissions never wait for more than one short batch, until none is left; then, on SQLite, the freed pages go back to the file system, a few at a time. Run once a day by
 * `pruuv serve` and `pruuv worker` after the scheduled send pass, and by `pruuv db prune`.
 */
import type { Logger } from 'pino';
import { DEFAULT_PRUNE_BATCH, DEFAULT_PRUNE_BUDGET_MS, DEFAULT_RECLAIM_PAGES, DEFAULT_SWEEP_DUTY, retentionCutoff } from '../domain/retention.js';
import type { Store } from '../store/types.js';

/** Options of {@link sweepRetention}. */
export interface SweepOptions {
  store: Pick<Store, 'retention'>;
  /** The retention in days. */
  days: number;
  /** The clock. Defaults to `() => new Date()`. */
  now?: () => Date;
  /** Events per transaction at most. Defaults to `100`. */
  batch?: number;
  /**
   * Work per transaction, in milliseconds, after which a batch commits what it removed (SQLite,
   * where a batch holds the process's event loop and so every admission of `pruuv serve`).
   * Defaults to {@link DEFAULT_PRUNE_BUDGET_MS}.
   */
  budgetMs?: number;
  /** Wait between batches at least, so writers between them take the lock. Defaults to `100` ms. */
  pauseMs?: number;
  /**
   * The share of the time the sweep works, at most, `(0, 1]`: after a batch that took `t` it waits
   * at least `t × (1 − duty) / duty`. `1`: only `pauseMs`. Defaults to {@link DEFAULT_SWEEP_DUTY}.
   */
  duty?: number;
  /**
   * Freed SQLite pages given back after each batch and then per step until none is left
   * (`incremental_vacuum`, moving pages from the end of the file: a transaction of its own, which
   * holds the event loop too). Defaults to {@link DEFAULT_RECLAIM_PAGES}.
   */
  reclaimPages?: number;
  /** Stops the sweep between two batches (what was removed stays removed). */
  signal?: AbortSignal;
}

/** What a sweep did: the counts its log line carries. */
export interface SweepReport {
  /** The cutoff, ISO 8601: events received (and sends finished) before it were removed. */
  before: string;
  events: number;
  outbox: number;
  send_attempts: number;
  /** User agents (stored once) that only the removed events named. */
  user_agents: number;
  /** Transactions that removed something. */
  batches: number;
  /** SQLite pages given back to the file system; `0` on PostgreSQL. */
  pages_reclaimed: number;
  duration_ms: number;
  /** `true` when the signal stopped it before none was left. */
  stopped: boolean;
}

const pause = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Removes every event past the retention, one batch at a time. Rejects with the store's error (a batch that failed removed nothing). */
export async function sweepRetention(options: SweepOptions): Promise<SweepReport> {
  const now = options.now ?? (() => new Date());
  const batch = options.batch ?? DEFAULT_PRUNE_BATCH;
  const pauseMs = options.pauseMs ?? 100;
  const reclaimPages = options.reclaimPages ?? DEFAULT_RECLAIM_PAGES;
  const duty = Math.min(1, Math.max(0.001, options.duty ?? DEFAULT_SWEEP_DUTY));
  // The wait after a step that took `ms`: its share of the time stays within `duty`.
  const waitAfter = (ms: number): number => Math.max(pauseMs, (ms * (1 - duty)) / duty);
  const started = Date.now();
  const before = retentionCutoff(now(), options.days);
  const report: SweepReport = {
    before: before.toISOString(),
    events: 0,
    outbox: 0,
    send_attempts: 0,
    user_agents: 0,
    batches: 0,
    pages_reclaimed: 0,
    duration_ms: 0,
    stopped: false,
  };
  for (;;) {
    if (options.signal?.aborted) {
      report.stopped = true;
      break;
    }
    const stepStarted = performance.now();
    const removed = await options.store.retention.prune({ before, limit: batch, budgetMs: options.budgetMs ?? DEFAULT_PRUNE_BUDGET_MS });
    // A batch cut short by its budget removed fewer than `batch` with more left: none removed is the end.
    if (removed.events === 0) break;
    report.batches += 1;
    report.events += removed.events;
    report.outbox += removed.outbox;
    report.send_attempts += removed.send_attempts;
    report.user_agents += removed.user_agents;
    report.pages_reclaimed += await options.store.retention.reclaim(reclaimPages);
    await pause(waitAfter(performance.now() - stepStarted), options.signal);
  }
  // The pages still free go back in steps as small, with the same pause between them.
  while (report.batches > 0 && !options.signal?.aborted) {
    const stepStarted = performance.now();
    const given = await options.store.retention.reclaim(reclaimPages);
    report.pages_reclaimed += given;
    if (given < reclaimPages) break;
    await pause(waitAfter(performance.now() - stepStarted), options.signal);
  }
  report.duration_ms = Date.now() - started;
  return report;
}

/** A process's daily sweeps, started after each scheduled pass. */
export interface RetentionSweeper {
  /** Starts a sweep unless one is running; never rejects (a failure is logged, the next day tries again). */
  kick(): void;
  /** Stops a sweep in progress between two batches and waits for it. */
  stop(): Promise<void>;
}

/** Creates the sweeper of `pruuv serve` and `pruuv worker`: one `info` line per sweep, counts only. */
export function createRetentionSweeper(options: Omit<SweepOptions, 'signal'> & { logger: Logger }): RetentionSweeper {
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  return {
    kick() {
      if (running !== undefined || abort.signal.aborted) return;
      running = sweepRetention({ ...options, signal: abort.signal })
        .then((report) => options.logger.info({ retention_days: options.days, ...report }, 'retention sweep'))
        .catch((error: unknown) => options.logger.error({ err: error }, 'retention sweep failed'))
        .finally(() => {
          running = undefined;
        });
    },
    async stop() {
      abort.abort();
      await running;
    },
  };
}
