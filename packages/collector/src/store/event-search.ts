/**
 * What both engines' `EventStore.search` share: which index a query reads (its shape)
 * and the filters checked on the rows that index gives.
 */
import { CLICK_IDS } from '../domain/join.js';
import type { EventRow } from './event-row.js';
import type { EventSearch } from './types.js';

/**
 * The index a search reads, most selective first: a reference (a CRM record's few events),
 * a stage, a client, or every event; each in received-time order.
 */
export type EventShape = 'reference' | 'stage' | 'client' | 'all';

export function eventShape(query: EventSearch): EventShape {
  if (query.reference !== undefined) return 'reference';
  if (query.stage_id !== undefined) return 'stage';
  if (query.client_id !== undefined) return 'client';
  return 'all';
}

/** Whether a row carries a click ID of any platform, or Meta's `fbc` (which wraps an fbclid): `hasClickIds` of `domain/join.ts` on a row. */
export function rowHasClickId(row: EventRow): boolean {
  return CLICK_IDS.some((k) => row[k] !== null) || row.fbc !== null;
}

/**
 * The filters of `query` the shape's index does not narrow, as a test of a row;
 * `undefined` when there is none (every row the index gives matches).
 */
export function eventMatches(query: EventSearch, shape: EventShape): ((row: EventRow) => boolean) | undefined {
  const tests: Array<(row: EventRow) => boolean> = [];
  const { client_id: client, stage_id: stage, source, has_click_id: click } = query;
  if (client !== undefined && shape === 'stage') tests.push((row) => row.client_id === client);
  if (stage !== undefined && shape === 'reference') tests.push((row) => row.stage_id === stage);
  if (source !== undefined) tests.push((row) => row.source === source);
  if (click !== undefined) tests.push((row) => rowHasClickId(row) === click);
  if (tests.length === 0) return undefined;
  return (row) => tests.every((test) => test(row));
}
