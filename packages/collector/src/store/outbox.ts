/**
 * The outbox: one row per (event, platform), written in the same transaction as
 * the event, so an event is never stored without its pending sends (and never
 * sent without being stored). The sender claims rows with a lease.
 */
import type { Db } from '../db.js';
import type { OutboxRow, Platform } from './types.js';

/** Every stored event gets one row per platform; the sender skips platforms the event cannot go to. */
export const PLATFORMS: readonly Platform[] = ['meta', 'google', 'tiktok'];

interface Row {
  id: number;
  event_id: string;
  platform: Platform;
  status: string;
  due_at: string;
  attempts: number;
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
}

/** The outbox of the SQLite store. */
export interface Outbox {
  /**
   * Adds the pending rows of an event, due at `dueAt`. Call inside the event's transaction.
   * `clientId` lets the sender find the row's connection without a join (without it, a
   * trigger of migration 002 copies it from the event).
   */
  enqueue(eventId: string, dueAt: string, clientId?: string): void;
  /** The rows of an event, in platform order. */
  forEvent(eventId: string): OutboxRow[];
}

/** Creates the outbox over `db`. */
export function createOutbox(db: Db): Outbox {
  // One statement for the event's rows: on the ingest hot path, three statement
  // executions cost measurably more than one (bench/ingest.mjs profile).
  const insert = db.prepare(
    `INSERT INTO outbox (event_id, client_id, platform, status, due_at, attempts, created_at, updated_at)
     VALUES ${PLATFORMS.map((p) => `(@event_id, @client_id, '${p}', 'pending', @due_at, 0, @due_at, @due_at)`).join(', ')}`,
  );
  const ofEvent = db.prepare<[string], Row>('SELECT * FROM outbox WHERE event_id = ? ORDER BY id');
  return {
    enqueue(eventId, dueAt, clientId) {
      insert.run({ event_id: eventId, client_id: clientId ?? null, due_at: dueAt });
    },
    forEvent(eventId) {
      return ofEvent.all(eventId).map((r) => {
        const row: OutboxRow = {
          id: r.id,
          event_id: r.event_id,
          platform: r.platform,
          status: r.status,
          due_at: r.due_at,
          attempts: r.attempts,
        };
        if (r.lease_owner !== null) row.lease_owner = r.lease_owner;
        if (r.lease_until !== null) row.lease_until = r.lease_until;
        if (r.last_error !== null) row.last_error = r.last_error;
        return row;
      });
    },
  };
}
