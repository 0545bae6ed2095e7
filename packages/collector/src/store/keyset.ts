/**
 * Keyset pagination for both engines: a list's position is its sort key (a time in
 * milliseconds and an integer tie-break: the rowid or `seq` of an event, the id of an audit
 * record), and a page is "the next `limit` rows past a position" read through an index in
 * that order, never OFFSET: page 1,000 costs what page 1 costs, and rows stored meanwhile
 * shift nothing (no duplicate, no gap).
 *
 * A filter the index does not narrow (an event's source or click IDs, a send's platform) is
 * checked here on the rows the index gives, and a page stops reading after `scanLimit` rows
 * even when it is not full: a rare value then costs a bounded read per page, not a scan of
 * the whole table, and the next page goes on from the last row read.
 */
import { InvalidInputError } from '../errors.js';
import type { KeysetPage, PageCursor } from './types.js';

/** A position in a list: its time (ms since the epoch) and tie-break id. */
export interface Position {
  t: number;
  id: number;
}

/** Which way a read goes: `older` is the list's order (newest first), `newer` its reverse. */
export type Direction = 'older' | 'newer';

/** A position as a cursor: `<ms>.<id>`. */
export function encodePosition(p: Position): string {
  return `${p.t}.${p.id}`;
}

/** A cursor's position. @throws {InvalidInputError} when it is not one this module made. */
export function decodePosition(cursor: string): Position {
  const match = /^(\d{1,15})\.(\d{1,17})$/.exec(cursor);
  const t = Number(match?.[1]);
  const id = Number(match?.[2]);
  if (match === null || !Number.isSafeInteger(t) || !Number.isSafeInteger(id)) {
    throw new InvalidInputError('The page link is not valid (a cursor is `<ms>.<id>`); start again from the first page.');
  }
  return { t, id };
}

/** Rows per page and rows read per page: limits both engines apply. */
export function pageLimits(limit: number, scanLimit: number | undefined): { limit: number; scanLimit: number } {
  const l = Math.min(Math.max(1, Math.floor(limit)), 1000);
  return { limit: l, scanLimit: Math.max(l + 1, Math.floor(scanLimit ?? Math.max(2000, 20 * l))) };
}

/** How one engine reads one list. */
export interface KeysetSource<R> {
  /**
   * Up to `n` rows strictly past `from` (from the start when `undefined`) in `direction`:
   * `older`, by (t, id) descending; `newer`, ascending. Through an index in that order.
   */
  fetch(from: Position | undefined, direction: Direction, n: number): Promise<R[]>;
  position(row: R): Position;
  /** The filters the index does not narrow; `undefined` when every row read matches. */
  matches?: (row: R) => boolean;
}

/**
 * One page. Without a residual filter, one read of `limit + 1` rows (the extra one says
 * whether a next page exists). With one, reads in growing chunks until `limit + 1` rows
 * match, the rows run out, or `scanLimit` rows were read.
 */
export async function readPage<R>(
  source: KeysetSource<R>,
  cursor: PageCursor | undefined,
  limit: number,
  scanLimit: number,
): Promise<KeysetPage<R>> {
  const direction: Direction = cursor !== undefined && 'before' in cursor ? 'newer' : 'older';
  const start = cursor === undefined ? undefined : decodePosition('before' in cursor ? cursor.before : cursor.after);
  const filtered = source.matches !== undefined;
  const matched: R[] = [];
  let scanned = 0;
  let last = start;
  let exhausted = false;
  let chunk = limit + 1;
  while (matched.length <= limit) {
    const want = filtered ? Math.min(chunk, scanLimit - scanned) : limit + 1 - matched.length;
    if (want <= 0) break;
    const rows = await source.fetch(last, direction, want);
    for (const row of rows) {
      scanned += 1;
      last = source.position(row);
      if (source.matches?.(row) ?? true) {
        matched.push(row);
        if (matched.length > limit) break;
      }
    }
    if (matched.length > limit) break;
    if (rows.length < want) {
      exhausted = true;
      break;
    }
    chunk *= 4;
  }

  const full = matched.length > limit;
  const shown = matched.slice(0, limit);
  // Stopped at the scan limit: more rows may match past the last one read.
  const stopped = !full && !exhausted && last !== undefined;
  const onward = full ? encodePosition(source.position(shown[limit - 1] as R)) : stopped ? encodePosition(last as Position) : undefined;
  // Back to where this page started: the first row shown, or (an empty page) the start itself,
  // included: positions are integers, so "past (t, id ± 1)" is "from (t, id)".
  const back =
    start === undefined
      ? undefined
      : shown.length > 0
        ? encodePosition(source.position(shown[0] as R))
        : encodePosition({ t: start.t, id: direction === 'older' ? start.id - 1 : start.id + 1 });

  const page: KeysetPage<R> = { rows: direction === 'older' ? shown : [...shown].reverse() };
  const next = direction === 'older' ? onward : back;
  const prev = direction === 'older' ? back : onward;
  if (next !== undefined) page.next = next;
  if (prev !== undefined) page.prev = prev;
  if (stopped && last !== undefined) page.scan = { scanned, scanned_to: new Date(last.t).toISOString() };
  return page;
}
