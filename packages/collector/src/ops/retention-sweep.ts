/**
 * The retention sweep (`PRUUV_RETENTION_DAYS`, `domain/retention.ts`): batch after batch of old
 * events removed (`Store.retention.prune`, one short transaction each) with a pause between
 * them, so admissions never wait for more than one batch, until none is left. Run once a day by
 * `pruuv serve` and `pruuv worker` after the scheduled send pass, and by `pruuv db prune`.
 */
import type { Logger } from 'pino';
import { DEFAULT_PRUNE_BATCH, retentionCutoff } from '../domain/retention.js';
import type { Store } from '../store/types.js';

/** Options of {@link sweepRetention}. */
export interface SweepOptions {
  store: Pick<Store, 'retention'>;
  /** The retention in days. */
  days: number;
  /** The clock. Defaults to `() => new Date()`. */
  now?: () => Date;
  /** Events per transaction. Defaults to `100`. */
  batch?: number;
  /** Wait between batches, so writers between them take the lock. Defaults to `100` ms. */
  pauseMs?: number;
  /** Freed SQLite pages given back after each batch (`incremental_vacuum`). Defaults to `2000` (8 MB at 4 kB pages). */
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
  const started = Date.now();
  const before = retentionCutoff(now(), options.days);
  const report: SweepReport = {
    before: before.toISOString(),
    events: 0,
    outbox: 0,
    send_attempts: 0,
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
    const removed = await options.store.retention.prune({ before, limit: batch });
    if (removed.events > 0) {
      report.batches += 1;
      report.events += removed.events;
      report.outbox += removed.outbox;
      report.send_attempts += removed.send_attempts;
      report.pages_reclaimed += await options.store.retention.reclaim(options.reclaimPages ?? 2000);
    }
    if (removed.events < batch) break;
    await pause(options.pauseMs ?? 100, options.signal);
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
