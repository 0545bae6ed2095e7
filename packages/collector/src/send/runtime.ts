/**
 * Starting conversion sending in a process: the sender (one per process) and
 * what drives it, the cron schedule or, for the demo, a fixed interval. Used
 * by `pruuv serve` (unless `--no-worker`) and `pruuv worker`.
 */
import type { Logger } from 'pino';
import { createRetentionSweeper } from '../ops/retention-sweep.js';
import type { Store } from '../store/types.js';
import { startSendInterval, startSendSchedule } from '@pruuv/sender';
import type { SendConfig } from './send-config.js';
import { createSender, type Sender, type SenderOptions } from './sender.js';

/**
 * How a process sends. `schedule`: a full pass at each slot of the cron (UTC;
 * daily at 03:00 by default), a missed slot at start, follow-up passes for
 * retries; `interval`: a full pass every `everyMs` (the `npm start` demo);
 * `off`: none (`pruuv serve --no-worker`).
 */
export type SendMode = { mode: 'schedule' } | { mode: 'interval'; everyMs: number } | { mode: 'off' };

/** Sending as started in a process. */
export interface Sending {
  /** `undefined` when the mode is `off`. */
  sender?: Sender;
  /** Stops the timers and waits for a pass in progress. */
  stop(): Promise<void>;
}

/** Options of {@link startSending}. */
export interface StartSendingOptions {
  store: Store;
  config: SendConfig;
  mode: SendMode;
  logger: Logger;
  /** Sender seams (a test `fetch` or clock, timeouts). */
  sender?: Partial<Omit<SenderOptions, 'store' | 'config' | 'logger'>>;
  /**
   * `PRUUV_RETENTION_DAYS`: in `schedule` mode, a retention sweep starts after each slot's pass this
   * process ran (daily by default); in `interval` mode, every `sweepEveryMs`. Sweeps run where
   * passes run: `pruuv serve --no-worker` leaves them to its `pruuv worker`. Defaults to
   * `undefined`: no sweeps.
   */
  retentionDays?: number;
  /** In `interval` mode, the time between two retention sweeps. Defaults to a day. */
  sweepEveryMs?: number;
}

const DAY_MS = 86_400_000;

/**
 * Creates the sender (refusing stored credentials it cannot decrypt: a
 * misconfigured process fails at start, not at 03:00) and starts what drives it.
 */
export async function startSending(options: StartSendingOptions): Promise<Sending> {
  const { store, config, mode, logger } = options;
  if (mode.mode === 'off') return { stop: async () => {} };
  const sender = await createSender({ store, config, logger, ...options.sender });
  const days = options.retentionDays;
  const sweeper = days === undefined ? undefined : createRetentionSweeper({ store, days, logger });
  if (mode.mode === 'interval') {
    const interval = startSendInterval({ sender, everyMs: mode.everyMs, logger });
    const sweeps = sweeper ? setInterval(() => sweeper.kick(), options.sweepEveryMs ?? DAY_MS) : undefined;
    sweeps?.unref();
    return {
      sender,
      async stop() {
        clearInterval(sweeps);
        await interval.stop();
        await sweeper?.stop();
      },
    };
  }
  const schedule = startSendSchedule({
    store: { runs: store.runs },
    cron: config.cron,
    sender,
    logger,
    ...(sweeper ? { afterSlot: () => sweeper.kick() } : {}),
  });
  logger.info({ cron: config.cron, next: schedule.nextSlot()?.toISOString() }, 'send schedule started (UTC)');
  return {
    sender,
    async stop() {
      await schedule.stop();
      await sweeper?.stop();
    },
  };
}

/** Resolves when `promise` settles or after `ms`, whichever comes first; never rejects. */
export function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    promise.then(done, done);
  });
}
