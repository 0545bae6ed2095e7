/**
 * The keys of the daily roll-ups, for both engines: what one admitted event adds
 * to `daily_events`, and what a send commit's audit records add to `daily_sends`.
 * The migrations' backfills (sqlite 008, postgres 003) count existing rows by the
 * same rules.
 *
 * An event is counted by the identifiers it carries (its click IDs and cookie
 * IDs, as names), not by platform: which platform an identifier serves is the
 * sender's registry's business (`clickIds`, `cookieIds`), applied when the
 * figures are read. So a platform added to the registry, or an identifier moved
 * from one to another, needs no schema change and counts the past correctly.
 */
import { CLICK_ID_NAMES, COOKIE_ID_NAMES, type ClickIdName, type CookieIdName, type OutcomeStatus, type Platform, type SendRecord } from '@pruuv/sender';
import type { StoredEvent } from './types.js';

/** Identifier names an event's roll-up key may hold, sorted (the order of the key). */
export const ROLLUP_IDS: readonly string[] = [...CLICK_ID_NAMES, ...COOKIE_ID_NAMES].sort();

/** {@link ROLLUP_IDS}, each with where an event holds it: in `clicks`, or a field of its own (on the admission's hot path). */
const LOOKUPS = ROLLUP_IDS.map((name) => ({ name, click: (CLICK_ID_NAMES as readonly string[]).includes(name) }));

/** Separator of the names in a key: `fbc,fbclid,fbp`. */
export const IDS_SEPARATOR = ',';

/** The UTC day of an ISO 8601 time, `YYYY-MM-DD`. */
export function utcDay(iso: string | Date): string {
  return (typeof iso === 'string' ? new Date(iso) : iso).toISOString().slice(0, 10);
}

/** What one stored event adds to the roll-up row of its (client, day, stage, ids). */
export interface EventCount {
  client_id: string;
  day: string;
  stage_id: string;
  /** The names of the identifiers it carries, sorted, joined by {@link IDS_SEPARATOR}; `''` for none. */
  ids: string;
  email: 0 | 1;
  phone: 0 | 1;
}

/**
 * The roll-up key and increments of a stored event (after the attribution join: what it will be
 * sent with). Its `received_at` is the store's `toISOString()`, so its UTC day is its first ten characters.
 */
export function eventCount(event: StoredEvent): EventCount {
  let ids = '';
  for (const { name, click } of LOOKUPS) {
    const value = click ? event.clicks[name as ClickIdName] : event[name as CookieIdName];
    if (value !== undefined) ids = ids === '' ? name : `${ids}${IDS_SEPARATOR}${name}`;
  }
  return {
    client_id: event.client_id,
    day: event.received_at.slice(0, 10),
    stage_id: event.stage_id,
    ids,
    email: event.email_sha256 === undefined ? 0 : 1,
    phone: event.phone_sha256 === undefined ? 0 : 1,
  };
}

/** The names of a stored key. */
export function idsOfKey(key: string): string[] {
  return key === '' ? [] : key.split(IDS_SEPARATOR);
}

/** What a batch's audit records add to one roll-up row of (client, day, platform, status). */
export interface SendCount {
  client_id: string;
  day: string;
  platform: Platform;
  status: OutcomeStatus;
  count: number;
}

/**
 * The audit records of a commit, counted per roll-up row, in key order: one upsert per row,
 * and concurrent commits (PostgreSQL) lock the rows they share in the same order.
 */
export function sendCounts(records: readonly Pick<SendRecord, 'client_id' | 'attempted_at' | 'platform' | 'status'>[]): SendCount[] {
  const rows = new Map<string, SendCount>();
  for (const r of records) {
    const day = utcDay(r.attempted_at);
    const key = `${r.client_id}\u0000${day}\u0000${r.platform}\u0000${r.status}`;
    const row = rows.get(key);
    if (row === undefined) rows.set(key, { client_id: r.client_id, day, platform: r.platform, status: r.status, count: 1 });
    else row.count++;
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}
