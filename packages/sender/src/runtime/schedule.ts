/**
 * The send schedule of a process (`pruuv serve`, `pruuv worker`): a full pass at each cron slot
 * (daily at 03:00 UTC by default, conversion-sending.md "How it works"),
 * always read in UTC. Each slot runs once across restarts and processes: a
 * row keyed by the slot is inserted in the run ledger (`SendStore.runs`) before the
 * pass, and only the process whose insert landed runs it. A slot missed while
 * the collector was down runs at start.
 *
 * Between slots, follow-up passes run when a retry falls due (the retry
 * table's backoff is minutes to hours, far shorter than a day) or when a
 * crashed sender's lease runs out; they take only those rows, never fresh ones.
 */
import { Cron } from 'croner';
import type { PassReport } from '../send-pass.js';
import type { Sender } from './sender.js';
import type { SendLogger, SendStore } from './store.js';

/** Timer functions, injectable for tests. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of {@link startSendSchedule}. */
export interface SendScheduleOptions {
  store: Pick<SendStore, 'runs'>;
  /** Cron expression, read in UTC. */
  cron: string;
  sender: Pick<Sender, 'owner' | 'runPass' | 'nextFollowUp'>;
  /** Defaults to `() => new Date()`. */
  now?: () => Date;
  logger?: SendLogger;
  /** Defaults to the global timers, unref'ed so they never keep a process alive. */
  timers?: Timers;
  /** Run follow-up passes for retries between slots. Defaults to `true`. */
  followUps?: boolean;
  /** Shortest wait before a follow-up pass, so a stream of tiny retries cannot spin. Defaults to `5000` ms. */
  minFollowUpDelayMs?: number;
  /**
   * Called, not awaited, once this process finished a slot's pass (the collector's retention sweep):
   * follow-up passes never wait for it. Defaults to none.
   */
  afterSlot?: () => void;
}

/** A running schedule. */
export interface SendSchedule {
  /** Settles when the start-up check (and its catch-up pass, if a slot was missed) is done. */
  readonly ready: Promise<void>;
  /** The next cron slot after now. */
  nextSlot(): Date | undefined;
  /** Stops the timers and waits for a pass in progress. */
  stop(): Promise<void>;
}

/** Longest `setTimeout` delay Node accepts (2^31 − 1 ms, about 24.8 days). */
const MAX_DELAY_MS = 2_147_483_647;

function cronOf(expr: string): Cron {
  return new Cron(expr, { paused: true, timezone: 'UTC' });
}

/** The most recent slot at or before `now`, `undefined` when the pattern has none. */
export function latestSlot(cron: string, now: Date): Date | undefined {
  // croner's previousRuns excludes a run exactly at the reference, so look from one second later.
  const runs = cronOf(cron).previousRuns(2, new Date(now.getTime() + 1000));
  return runs.find((d) => d.getTime() <= now.getTime());
}

/** The first slot after `now`. */
export function nextSlotAfter(cron: string, now: Date): Date | undefined {
  return cronOf(cron).nextRun(now) ?? undefined;
}

/** What a finished slot records of its pass (`runs.finishSlot`): its counts, the rows it removed unsent included. */
function summaryOf(report: PassReport): Record<string, unknown> {
  return { pass_id: report.pass_id, claimed: report.claimed, discarded: report.discarded, ...report.counts, duration_ms: report.duration_ms };
}

/** Node's timers, not keeping the process alive for a schedule. */
const UNREF_TIMERS: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Starts the schedule: checks for a missed slot now, then waits for the next slot or follow-up. */
export function startSendSchedule(options: SendScheduleOptions): SendSchedule {
  const { store, cron, sender, logger } = options;
  const now = options.now ?? (() => new Date());
  const followUps = options.followUps ?? true;
  const minDelay = options.minFollowUpDelayMs ?? 5000;
  const timers: Timers = options.timers ?? UNREF_TIMERS;
  cronOf(cron); // throws early for a bad pattern
  let stopped = false;
  let handle: unknown;
  let running: Promise<void> = Promise.resolve();

  const tick = async (trigger: 'schedule' | 'startup'): Promise<void> => {
    const at = now();
    const slot = latestSlot(cron, at);
    try {
      if (slot !== undefined && (await store.runs.claimSlot({ slot, owner: sender.owner, trigger, now: at }))) {
        logger?.info({ slot: slot.toISOString(), trigger }, 'scheduled send pass starting');
        const report = await sender.runPass();
        await store.runs.finishSlot({ slot, now: now(), summary: summaryOf(report) });
        options.afterSlot?.();
        return;
      }
      const due = followUps ? await sender.nextFollowUp() : undefined;
      if (due !== undefined && due.getTime() <= at.getTime()) await sender.runPass({ retriesOnly: true });
    } catch (error) {
      // A failed pass must not stop the schedule; its rows stay due for the next one.
      logger?.error({ err: error }, 'send pass failed');
    }
  };

  const arm = async (): Promise<void> => {
    if (stopped) return;
    let due: Date | undefined;
    try {
      due = followUps ? await sender.nextFollowUp() : undefined;
    } catch (error) {
      // The database is away: the next slot still wakes us, and the follow-ups are found then.
      logger?.error({ err: error }, 'send schedule: could not read the next retry');
    }
    if (stopped) return;
    const t = now().getTime();
    const slot = nextSlotAfter(cron, now());
    let wake = slot?.getTime();
    if (due !== undefined) {
      const followUp = Math.max(due.getTime(), t + minDelay);
      wake = wake === undefined ? followUp : Math.min(wake, followUp);
    }
    if (wake === undefined) return;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, wake - t));
    handle = timers.setTimeout(() => {
      handle = undefined;
      running = tick('schedule').then(arm);
    }, delay);
  };

  const ready = tick('startup').then(arm);
  running = ready;

  return {
    ready,
    nextSlot: () => nextSlotAfter(cron, now()),
    async stop() {
      stopped = true;
      if (handle !== undefined) timers.clearTimeout(handle);
      handle = undefined;
      await running;
    },
  };
}

/** Options of {@link startSendInterval}. */
export interface SendIntervalOptions {
  sender: Pick<Sender, 'runPass'>;
  /** Wait between the end of one pass and the start of the next. */
  everyMs: number;
  logger?: SendLogger;
  /** Defaults to the global timers, unref'ed. */
  timers?: Timers;
}

/**
 * Full passes every `everyMs` (the `npm start` demo, so a conversion is seen
 * going out within seconds). Not for production: it ignores the schedule.
 */
export function startSendInterval(options: SendIntervalOptions): { stop(): Promise<void> } {
  const timers: Timers = options.timers ?? UNREF_TIMERS;
  let stopped = false;
  let handle: unknown;
  let running: Promise<void> = Promise.resolve();
  const loop = (): void => {
    if (stopped) return;
    handle = timers.setTimeout(() => {
      running = options.sender
        .runPass()
        .then(
          () => undefined,
          (error: unknown) => options.logger?.error({ err: error }, 'send pass failed'),
        )
        .then(loop);
    }, options.everyMs);
  };
  loop();
  return {
    async stop() {
      stopped = true;
      if (handle !== undefined) timers.clearTimeout(handle);
      await running;
    },
  };
}
