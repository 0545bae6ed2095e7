/**
 * The overview's figures, from the daily roll-ups (`StatsStore`): pure
 * functions, so the page only renders. Which identifiers count for which
 * platform comes from the sender's registry (each adapter's `clickIds` and
 * `cookieIds`), read here and nowhere in the storage.
 */
import { PLATFORMS, type OutcomeStatus, type Platform } from '@pruuv/sender';
import type { EventDay, SendDay } from '../store/types.js';

const DAY_MS = 86_400_000;

/** The overview's window: this many UTC days, today included. */
export const OVERVIEW_DAYS = 30;

/** The UTC day of `at`, `YYYY-MM-DD`. */
export function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The `count` UTC days ending with the day of `now`, oldest first. */
export function lastDays(now: Date, count = OVERVIEW_DAYS): string[] {
  const today = Date.parse(`${dayOf(now)}T00:00:00.000Z`);
  return Array.from({ length: count }, (_, i) => dayOf(new Date(today - (count - 1 - i) * DAY_MS)));
}

/** The outcome statuses the overview shows, in its column order. */
export const SHOWN_STATUSES = ['sent', 'failed', 'skipped', 'dead'] as const satisfies readonly OutcomeStatus[];

/** Conversions per outcome status (attempts ending `retrying` under `retrying`). */
export type StatusCounts = Record<OutcomeStatus, number>;

const zero = (): StatusCounts => ({ sent: 0, failed: 0, skipped: 0, dead: 0, retrying: 0 });

/** One UTC day of a client: events received, and conversions by outcome. */
export interface DayFigures extends StatusCounts {
  day: string;
  events: number;
}

/** Per day of `days`, the events received and the conversions of `platform` (of every platform without it). */
export function dailyFigures(days: readonly string[], events: readonly EventDay[], sends: readonly SendDay[], platform?: Platform): DayFigures[] {
  const byDay = new Map(days.map((day) => [day, { day, events: 0, ...zero() }]));
  for (const e of events) {
    const d = byDay.get(e.day);
    if (d !== undefined) d.events += e.events;
  }
  for (const s of sends) {
    if (platform !== undefined && s.platform !== platform) continue;
    const d = byDay.get(s.day);
    if (d !== undefined) d[s.status] += s.count;
  }
  return [...byDay.values()];
}

/** The sum of each figure over the days. */
export function totals(days: readonly DayFigures[]): Omit<DayFigures, 'day'> {
  const sum = { events: 0, ...zero() };
  for (const d of days) for (const k of Object.keys(sum) as Array<keyof typeof sum>) sum[k] += d[k];
  return sum;
}

/** Conversions per platform and outcome over the window, in registry order. */
export function platformTotals(sends: readonly SendDay[]): Array<{ platform: Platform; name: string; counts: StatusCounts }> {
  return PLATFORMS.map((p) => {
    const counts = zero();
    for (const s of sends) if (s.platform === p.id) counts[s.status] += s.count;
    return { platform: p.id, name: p.name, counts };
  });
}

/** A share of the events received: how many carry something. */
export interface Share {
  count: number;
  /** Of {@link MatchQuality.events}. */
  of: number;
}

/** How well a platform can match a client's conversions. */
export interface MatchQuality {
  platform: Platform;
  name: string;
  /** Events received in the window: each is one conversion for each platform. */
  events: number;
  /** Carrying any of the platform's click IDs (`names`). */
  click: Share & { names: readonly string[] };
  /** Carrying each of the first-party cookie IDs the platform matches with. */
  cookies: Array<Share & { name: string }>;
  email: Share;
  phone: Share;
}

/** Per platform of the registry, the share of the events carrying its click IDs, its cookies, a hashed email and phone. */
export function matchQuality(events: readonly EventDay[]): MatchQuality[] {
  let all = 0;
  let email = 0;
  let phone = 0;
  for (const e of events) {
    all += e.events;
    email += e.email;
    phone += e.phone;
  }
  const carrying = (test: (ids: readonly string[]) => boolean): number => events.reduce((n, e) => (test(e.ids) ? n + e.events : n), 0);
  return PLATFORMS.map((p) => ({
    platform: p.id,
    name: p.name,
    events: all,
    click: { names: p.clickIds, count: carrying((ids) => p.clickIds.some((c) => ids.includes(c))), of: all },
    cookies: p.cookieIds.map((name) => ({ name, count: carrying((ids) => ids.includes(name)), of: all })),
    email: { count: email, of: all },
    phone: { count: phone, of: all },
  }));
}
