/**
 * The keyset and range conditions of the dashboard's list reads on PostgreSQL, written so the
 * planner can only answer them with the index meant for them.
 *
 * PostgreSQL has no index hints. With `client_id = $1 ORDER BY received_ms DESC LIMIT 50`, the
 * planner may walk the all-clients time index backwards and filter the client's rows, expecting
 * them spread evenly in time; for a client whose rows are all old, that reads the whole table.
 * Written instead as bounds on a row, `(client_id, received_ms, seq) > ($1, from, 0)` and
 * `< ($1, t, id)`, ordered by that row, the equality is gone (no column is fixed, so no other
 * index has that order) and the bounds are the start and end of the one index scan that has it.
 */
import type { Direction, Position } from '../keyset.js';

/** How a list's time column is bound: its SQL type, and a value of it from milliseconds (±Infinity for the open ends). */
export interface TimeColumn {
  name: string;
  cast: 'bigint' | 'timestamptz';
}

/** One end of a list read: a time (ms, ±Infinity when open) and an id. */
interface Bound {
  t: number;
  id: number;
}

const sqlTime = (column: TimeColumn, t: number): unknown =>
  column.cast === 'bigint' ? (t === -Infinity ? -1 : t === Infinity ? Number.MAX_SAFE_INTEGER : t) : t === -Infinity ? '-infinity' : t === Infinity ? 'infinity' : new Date(t);

/**
 * At most two row comparisons on `(prefix columns, time, id)`: rows after the lower bound and
 * before the upper one, each the tightest of the range's end and the cursor. The prefix's values
 * are the same in both, so only rows with those values lie between them. Ids are at least 1, so
 * `(time, 0)` stands for "from that time on". Without a prefix, an open end is left out. A prefix
 * column's `sql`, when given, makes its value's SQL from the value's parameter (a key looked up by
 * a subquery, which the planner runs once, before the index scan).
 */
export function rowBounds(
  prefix: ReadonlyArray<readonly [column: string, value: unknown, sql?: (param: string) => string]>,
  time: TimeColumn,
  idColumn: string,
  range: { from?: number; before?: number },
  direction: Direction,
  cursor: Position | undefined,
  param: (value: unknown) => string,
): string[] {
  let lower: Bound = { t: range.from ?? -Infinity, id: 0 };
  let upper: Bound = { t: range.before ?? Infinity, id: 0 };
  const precedes = (x: Bound, y: Bound): boolean => x.t < y.t || (x.t === y.t && x.id < y.id);
  if (cursor !== undefined) {
    if (direction === 'older' && precedes(cursor, upper)) upper = cursor;
    if (direction === 'newer' && precedes(lower, cursor)) lower = cursor;
  }
  const columns = `(${[...prefix.map(([column]) => column), time.name, idColumn].join(', ')})`;
  const row = (b: Bound): string =>
    `(${[...prefix.map(([, value, sql]) => (sql === undefined ? param(value) : sql(param(value)))), `${param(sqlTime(time, b.t))}::${time.cast}`, `${param(b.id)}::bigint`].join(', ')})`;
  const out: string[] = [];
  if (prefix.length > 0 || lower.t !== -Infinity) out.push(`${columns} > ${row(lower)}`);
  if (prefix.length > 0 || upper.t !== Infinity) out.push(`${columns} < ${row(upper)}`);
  return out;
}

/** `ORDER BY` of a list read: the prefix, the time and the id, all one way. */
export function rowOrder(prefix: ReadonlyArray<readonly [string, unknown, unknown?]>, time: TimeColumn, idColumn: string, direction: Direction): string {
  const order = direction === 'older' ? 'DESC' : 'ASC';
  return [...prefix.map(([column]) => column), time.name, idColumn].map((column) => `${column} ${order}`).join(', ');
}
