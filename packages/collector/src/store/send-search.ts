/**
 * What both engines' `SendLogStore.search` share: which index a query reads (its shape) and
 * the filters checked on the rows that index gives.
 */
import type { SendAttempt, SendSearch } from './types.js';

/**
 * The index a search reads: an event's few attempts, a client's attempts of one status, one
 * status, one client, or every attempt; each in attempt-time order.
 */
export type SendShape = 'event' | 'client_status' | 'status' | 'client' | 'all';

/**
 * The condition every status index carries (SQLite 023, PostgreSQL 018): `sent` records, most of
 * the log, are in no status index. A statement that reads one carries this exact term, so both
 * planners can prove it reads the index's rows.
 */
export const STATUS_INDEXED = "status <> 'sent'";

/** Whether a status is read through the status indexes (every status but `sent`). */
export const statusIndexed = (status: string | undefined): boolean => status !== undefined && status !== 'sent';

export function sendShape(query: SendSearch): SendShape {
  if (query.event_id !== undefined) return 'event';
  // `sent`: the time index of the shape, the status checked on its rows (most of them are `sent`).
  const byStatus = statusIndexed(query.status);
  if (query.client_id !== undefined && byStatus) return 'client_status';
  if (byStatus) return 'status';
  if (query.client_id !== undefined) return 'client';
  return 'all';
}

/**
 * The filters of `query` the shape's index does not narrow, as a test of a record;
 * `undefined` when there is none.
 */
export function sendMatches(query: SendSearch, shape: SendShape): ((row: Pick<SendAttempt, 'client_id' | 'status' | 'platform'>) => boolean) | undefined {
  const tests: Array<(row: Pick<SendAttempt, 'client_id' | 'status' | 'platform'>) => boolean> = [];
  const { client_id: client, status, platform } = query;
  if (shape === 'event' && client !== undefined) tests.push((row) => row.client_id === client);
  if (shape !== 'status' && shape !== 'client_status' && status !== undefined) tests.push((row) => row.status === status);
  if (platform !== undefined) tests.push((row) => row.platform === platform);
  if (tests.length === 0) return undefined;
  return (row) => tests.every((test) => test(row));
}
