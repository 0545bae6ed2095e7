/**
 * The query strings of the dashboard's lists (Events, Conversion sends and its CSV export):
 * reading each filter (a wrong value is a 400 page that says which and how), the UTC day range,
 * the keyset cursor, and writing a list's link back with its filters. Pure but for the scope
 * checks, which read the store with the user's scope.
 */
import type { Request } from 'express';
import { InvalidInputError } from '../errors.js';
import type { PageCursor, Store } from '../store/types.js';
import { DashboardHttpError, type Scope, visibleClient } from './scope.js';

/** Rows per page unless `limit` says otherwise (1 to {@link MAX_PAGE_ROWS}). */
export const DEFAULT_PAGE_ROWS = 50;
export const MAX_PAGE_ROWS = 200;

/** A query string's value as one trimmed string; absent, empty or repeated parameters are `undefined`. */
export function param(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** A value that must be one of `choices`, or a 400 naming them. */
export function oneOf<T extends string>(req: Request, name: string, choices: readonly T[]): T | undefined {
  const value = param(req, name);
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new DashboardHttpError(400, `${name} must be one of ${choices.join(', ')}.`);
  return value as T;
}

/** A free-text filter (an exact reference, an event id), at most `max` characters. */
export function text(req: Request, name: string, max = 500): string | undefined {
  const value = param(req, name);
  if (value !== undefined && value.length > max) throw new DashboardHttpError(400, `${name} is longer than ${max} characters.`);
  return value;
}

/** The `limit` parameter, 1 to {@link MAX_PAGE_ROWS}, {@link DEFAULT_PAGE_ROWS} when absent. */
export function pageRows(req: Request): number {
  const value = param(req, 'limit');
  if (value === undefined) return DEFAULT_PAGE_ROWS;
  const n = Number(value);
  if (!/^\d{1,4}$/.test(value) || n < 1 || n > MAX_PAGE_ROWS) throw new DashboardHttpError(400, `limit must be a whole number from 1 to ${MAX_PAGE_ROWS}.`);
  return n;
}

/** A UTC day, `YYYY-MM-DD`, as the ISO instant of its start. */
function day(req: Request, name: string): number | undefined {
  const value = param(req, name);
  if (value === undefined) return undefined;
  const t = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00.000Z`) : Number.NaN;
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== value) throw new DashboardHttpError(400, `${name} must be a date, YYYY-MM-DD (UTC).`);
  return t;
}

/** The `from` and `to` days (UTC, both included) as an instant range: from the start of `from` to the end of `to`. */
export function dayRange(req: Request): { from?: string; before?: string; fromDay?: string; toDay?: string } {
  const from = day(req, 'from');
  const to = day(req, 'to');
  if (from !== undefined && to !== undefined && to < from) throw new DashboardHttpError(400, 'to is before from: pick a range that ends after it starts.');
  const out: { from?: string; before?: string; fromDay?: string; toDay?: string } = {};
  if (from !== undefined) {
    out.from = new Date(from).toISOString();
    out.fromDay = out.from.slice(0, 10);
  }
  if (to !== undefined) {
    out.before = new Date(to + 86_400_000).toISOString();
    out.toDay = new Date(to).toISOString().slice(0, 10);
  }
  return out;
}

/** The keyset cursor of the request: `after` (older) or `before` (newer). */
export function cursorOf(req: Request): PageCursor | undefined {
  const after = param(req, 'after');
  const before = param(req, 'before');
  if (after !== undefined && before !== undefined) throw new DashboardHttpError(400, 'A page link has either after or before, not both.');
  if (after !== undefined) return { after };
  if (before !== undefined) return { before };
  return undefined;
}

/** The store's refusal of a malformed cursor, as a 400 page. */
export async function readList<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof InvalidInputError) throw new DashboardHttpError(400, error.message);
    throw error;
  }
}

/**
 * The client a list is filtered by: a client user's own, always (asking for another is a 404,
 * as if it did not exist); for staff, the one asked for (404 when unknown) or none.
 */
export async function listClient(store: Store, scope: Scope, requested: string | undefined): Promise<string | undefined> {
  if (requested !== undefined) return (await visibleClient(store, scope, requested)).id;
  return scope.all ? undefined : scope.clientId;
}

/** A list's URL with its filters (empty ones left out) and, optionally, a cursor. */
export function listHref(path: string, filters: Readonly<Record<string, string | undefined>>, cursor?: PageCursor): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value !== undefined && value !== '') params.set(name, value);
  if (cursor !== undefined && 'after' in cursor) params.set('after', cursor.after);
  if (cursor !== undefined && 'before' in cursor) params.set('before', cursor.before);
  const query = params.toString();
  return query === '' ? path : `${path}?${query}`;
}
