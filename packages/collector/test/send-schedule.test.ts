/**
 * The send schedule with an injected clock and timers: missed slots run at
 * start, a slot never runs twice, the next slot and follow-up retries are armed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { latestSlot, startSendSchedule, type SendSchedule, type Timers } from '@pruuv/sender';
import { outboxRow, sendEnv, type SendEnv } from './send-helpers.js';

const HOUR = 3_600_000;

/** Timers that never fire by themselves: the test fires the armed one. */
function manualTimers() {
  const armed: Array<{ fn: () => void; ms: number }> = [];
  let waiter: (() => void) | undefined;
  const timers: Timers = {
    setTimeout(fn, ms) {
      armed.push({ fn, ms });
      waiter?.();
      return armed.length;
    },
    clearTimeout() {},
  };
  return {
    timers,
    armed,
    /** Fires the last armed timer and resolves once the schedule armed the next one. */
    async fire(): Promise<void> {
      const last = armed.at(-1);
      if (last === undefined) throw new Error('no timer armed');
      const rearmed = new Promise<void>((resolve) => (waiter = resolve));
      last.fn();
      await rearmed;
    },
  };
}

function runs(env: SendEnv): Array<{ slot: string; trigger: string; finished: boolean }> {
  return (env.db.prepare('SELECT slot, trigger, finished_at FROM send_runs ORDER BY slot').all() as Array<{ slot: string; trigger: string; finished_at: string | null }>).map(
    (r) => ({ slot: r.slot, trigger: r.trigger, finished: r.finished_at !== null }),
  );
}

let env: SendEnv | undefined;
let schedule: SendSchedule | undefined;
afterEach(async () => {
  await schedule?.stop();
  schedule = undefined;
  await env?.close();
  env = undefined;
});

describe('slots', () => {
  it('reads the pattern in UTC whatever the process time zone', () => {
    expect(latestSlot('30 14 * * *', new Date('2026-07-01T15:00:00.000Z'))?.toISOString()).toBe('2026-07-01T14:30:00.000Z');
  });

  it('lets only one process claim a slot', async () => {
    env = await sendEnv();
    const slot = new Date('2026-11-20T03:00:00.000Z');
    expect(await env.store.runs.claimSlot({ slot, owner: 'a', trigger: 'schedule', now: env.clock.now() })).toBe(true);
    expect(await env.store.runs.claimSlot({ slot, owner: 'b', trigger: 'schedule', now: env.clock.now() })).toBe(false);
  });
});

describe('schedule', () => {
  it('runs the 03:00 pass missed while down at start, once per day, then at the next 03:00', async () => {
    // Meta only: a Google batch would arm a wake for its diagnostics (tested below).
    env = await sendEnv({ start: '2026-11-20T10:00:00.000Z', connect: ['meta'] }); // down since yesterday
    const missed = env.addEvent();
    const t1 = manualTimers();
    schedule = startSendSchedule({ store: env.store, cron: '0 3 * * *', sender: await env.sender(), now: env.clock.now, timers: t1.timers });
    await schedule.ready;
    expect(outboxRow(env.db, missed.id, 'meta').status).toBe('sent');
    expect(runs(env)).toEqual([{ slot: '2026-11-20T03:00:00.000Z', trigger: 'startup', finished: true }]);
    await schedule.stop();

    // Restarted the same day: the slot already ran, so nothing is sent before tomorrow 03:00.
    env.clock.set('2026-11-20T15:00:00.000Z');
    const fresh = env.addEvent();
    const t2 = manualTimers();
    schedule = startSendSchedule({ store: env.store, cron: '0 3 * * *', sender: await env.sender(), now: env.clock.now, timers: t2.timers });
    await schedule.ready;
    expect(outboxRow(env.db, fresh.id, 'meta').status).toBe('pending');
    expect(runs(env)).toHaveLength(1);
    expect(t2.armed.at(-1)?.ms).toBe(12 * HOUR);

    env.clock.set('2026-11-21T03:00:00.000Z');
    await t2.fire();
    expect(outboxRow(env.db, fresh.id, 'meta').status).toBe('sent');
    expect(runs(env)).toEqual([
      { slot: '2026-11-20T03:00:00.000Z', trigger: 'startup', finished: true },
      { slot: '2026-11-21T03:00:00.000Z', trigger: 'schedule', finished: true },
    ]);
  });

  it('calls afterSlot once after each slot this process ran, never after a slot another ran', async () => {
    env = await sendEnv({ start: '2026-11-20T10:00:00.000Z', connect: ['meta'] });
    const after: string[] = [];
    const t = manualTimers();
    const options = { store: env.store, cron: '0 3 * * *', now: env.clock.now, timers: t.timers, afterSlot: () => void after.push(env!.clock.now().toISOString()) };
    schedule = startSendSchedule({ ...options, sender: await env.sender() });
    await schedule.ready;
    expect(after).toEqual(['2026-11-20T10:00:00.000Z']);
    await schedule.stop();
    // Another process starting the same day finds the slot taken: no pass, no sweep.
    schedule = startSendSchedule({ ...options, sender: await env.sender() });
    await schedule.ready;
    expect(after).toHaveLength(1);
    env.clock.set('2026-11-21T03:00:00.000Z');
    await t.fire();
    expect(after).toEqual(['2026-11-20T10:00:00.000Z', '2026-11-21T03:00:00.000Z']);
  });

  it('wakes for a due Google diagnostics check 30 minutes after a Data Manager batch', async () => {
    const e = (env = await sendEnv({ start: '2026-11-20T03:00:00.000Z', connect: ['google'] }));
    e.addEvent();
    const timers = manualTimers();
    schedule = startSendSchedule({ store: e.store, cron: '0 3 * * *', sender: await e.sender(), now: e.clock.now, timers: timers.timers });
    await schedule.ready;
    expect(timers.armed.at(-1)?.ms).toBe(30 * 60_000);
    const checked = () => (e.db.prepare('SELECT checks FROM google_request_status').get() as { checks: number }).checks;
    expect(checked()).toBe(0);
    e.clock.set('2026-11-20T03:30:00.000Z');
    await timers.fire();
    expect(checked()).toBe(1);
  });

  it('wakes for a retry before the next slot and sends only retries then', async () => {
    env = await sendEnv({ start: '2026-11-20T03:00:00.000Z', connect: ['meta'] });
    const failing = env.addEvent();
    env.fakes.script('meta', [{ kind: 'status', status: 502 }]);
    const timers = manualTimers();
    schedule = startSendSchedule({ store: env.store, cron: '0 3 * * *', sender: await env.sender(), now: env.clock.now, timers: timers.timers });
    await schedule.ready;
    const due = outboxRow(env.db, failing.id, 'meta');
    expect(due.status).toBe('retrying');
    // Armed for the retry (30 s of jittered backoff), not for tomorrow.
    expect(timers.armed.at(-1)?.ms).toBe(Date.parse(due.due_at) - env.clock.now().getTime());

    env.clock.set(due.due_at);
    const fresh = env.addEvent();
    await timers.fire();
    expect(outboxRow(env.db, failing.id, 'meta').status).toBe('sent');
    expect(outboxRow(env.db, fresh.id, 'meta').status).toBe('pending'); // waits for the daily run
    expect(timers.armed.at(-1)?.ms).toBe(24 * HOUR - 30_000);
  });
});
