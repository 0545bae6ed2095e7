/**
 * PostgreSQL daily roll-ups (migration 003), the dashboard's reads. The writes
 * are part of the admission's statement (`events.ts`) and of the send commit
 * (`outbox.ts`). Each read walks a primary key or index range.
 */
import type { OutcomeStatus, Platform } from '@pruuv/sender';
import { idsOfKey } from '../daily-counts.js';
import { STAGE_WINDOW_MS } from '../../domain/rate-limit.js';
import type { StatsStore } from '../types.js';
import type { StorePool } from './pool.js';

export function createStats(db: StorePool): StatsStore {
  return {
    async eventDays({ client_id, from, to }) {
      // `day::text`: node-postgres would turn a date into a local-midnight Date.
      const { rows } = await db.query<{ day: string; client_id: string; stage_id: string; ids: string; events: string; email: string; phone: string }>(
        `SELECT day::text AS day, client_id, stage_id, ids, events, email, phone FROM daily_events
         WHERE client_id = $1 AND day BETWEEN $2::date AND $3::date ORDER BY day, stage_id, ids`,
        [client_id, from, to],
      );
      return rows.map((r) => ({
        day: r.day,
        client_id: r.client_id,
        stage_id: r.stage_id,
        ids: idsOfKey(r.ids),
        events: Number(r.events),
        email: Number(r.email),
        phone: Number(r.phone),
      }));
    },
    async sendDays({ client_id, from, to }) {
      const { rows } = await db.query<{ day: string; client_id: string; platform: Platform; status: OutcomeStatus; count: string }>(
        `SELECT day::text AS day, client_id, platform, status, count FROM daily_sends
         WHERE client_id = $1 AND day BETWEEN $2::date AND $3::date ORDER BY day, platform, status`,
        [client_id, from, to],
      );
      return rows.map((r) => ({ ...r, count: Number(r.count) }));
    },
    async sendTotals({ status, from, client_id }) {
      const { rows } = await db.query<{ client_id: string; count: string }>(
        `SELECT client_id, sum(count) AS count FROM daily_sends
         WHERE status = $1 AND day >= $2::date AND ($3::text IS NULL OR client_id = $3)
         GROUP BY client_id ORDER BY client_id`,
        [status, from, client_id ?? null],
      );
      return rows.map((r) => ({ client_id: r.client_id, count: Number(r.count) }));
    },
    async stageActivity({ client_id, now }) {
      // Per stage, two index reads: its last entry, and its webhook events of the last hour
      // (events_webhook_stage_time: what the quota counts, at most 1,000; beacons have limits of their own).
      const { rows } = await db.query<{ stage_id: string; client_id: string; last_ms: string | null; last_hour: string }>(
        `SELECT s.id AS stage_id, s.client_id,
           (SELECT max(received_ms) FROM events WHERE stage_id = s.id) AS last_ms,
           (SELECT count(*) FROM events WHERE stage_id = s.id AND received_ms > $1::bigint AND source = 'webhook') AS last_hour
         FROM stages s WHERE ($2::text IS NULL OR s.client_id = $2) ORDER BY s.created_at, s.seq`,
        [now.getTime() - STAGE_WINDOW_MS, client_id ?? null],
      );
      return rows.map((r) => ({
        stage_id: r.stage_id,
        client_id: r.client_id,
        ...(r.last_ms !== null ? { last_event_at: new Date(Number(r.last_ms)).toISOString() } : {}),
        last_hour: Number(r.last_hour),
      }));
    },
  };
}
