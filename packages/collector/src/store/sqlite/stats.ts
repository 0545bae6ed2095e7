/**
 * SQLite daily roll-ups (migration 008): the upserts an admission and a send
 * commit run inside their own transactions, and the dashboard's reads. Each read
 * walks a primary key or index range: a client's 30 days are a few hundred rows
 * whatever `events` and `send_attempts` hold.
 */
import type { OutcomeStatus, Platform } from '@pruuv/sender';
import { eventCount, idsOfKey, sendCounts } from '../daily-counts.js';
import { STAGE_WINDOW_MS } from '../../domain/rate-limit.js';
import type { StatsStore, StoredEvent } from '../types.js';
import type { Db } from './db.js';

/** The roll-ups of the SQLite store. */
export interface SqliteStats {
  stats: StatsStore;
  /** Counts a stored event; runs inside its admission's transaction. */
  countEvent(event: StoredEvent): void;
  /** Counts a commit's audit records; runs inside the commit's transaction. */
  countSends(records: Parameters<typeof sendCounts>[0]): void;
}

export function createStats(db: Db): SqliteStats {
  // Positional parameters, as the event insert: the admission's hot path.
  const upsertEvent = db.prepare<[string, string, string, string, number, number]>(
    `INSERT INTO daily_events (client_id, day, stage_id, ids, events, email, phone) VALUES (?, ?, ?, ?, 1, ?, ?)
     ON CONFLICT (client_id, day, stage_id, ids) DO UPDATE
     SET events = events + 1, email = email + excluded.email, phone = phone + excluded.phone`,
  );
  const upsertSends = db.prepare<[string, string, string, string, number]>(
    `INSERT INTO daily_sends (client_id, day, platform, status, count) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (client_id, day, platform, status) DO UPDATE SET count = count + excluded.count`,
  );
  const eventDays = db.prepare<[string, string, string], { day: string; client_id: string; stage_id: string; ids: string; events: number; email: number; phone: number }>(
    `SELECT day, client_id, stage_id, ids, events, email, phone FROM daily_events
     WHERE client_id = ? AND day >= ? AND day <= ? ORDER BY day, stage_id, ids`,
  );
  const sendDays = db.prepare<[string, string, string], { day: string; client_id: string; platform: Platform; status: OutcomeStatus; count: number }>(
    `SELECT day, client_id, platform, status, count FROM daily_sends
     WHERE client_id = ? AND day >= ? AND day <= ? ORDER BY day, platform, status`,
  );
  // Through daily_sends_status: the rows of one status since `from`, of every client.
  const totalsAll = db.prepare<[string, string], { client_id: string; count: number }>(
    `SELECT client_id, SUM(count) AS count FROM daily_sends INDEXED BY daily_sends_status
     WHERE status = ? AND day >= ? GROUP BY client_id ORDER BY client_id`,
  );
  const totalsOne = db.prepare<[string, string, string], { client_id: string; count: number }>(
    `SELECT client_id, SUM(count) AS count FROM daily_sends
     WHERE client_id = ? AND day >= ? AND status = ? GROUP BY client_id`,
  );
  // Per stage, two index reads: its last entry (events_stage_time), and its webhook events of the last
  // hour (events_webhook_stage_time: what the hourly quota counts, at most 1,000; beacons have limits of their own).
  const activity = `SELECT s.id AS stage_id, s.client_id,
      (SELECT MAX(received_ms) FROM events WHERE stage_id = s.id) AS last_ms,
      (SELECT COUNT(*) FROM events INDEXED BY events_webhook_stage_time
       WHERE stage_id = s.id AND received_ms > @since AND source = 'webhook') AS last_hour
    FROM stages s`;
  const activityAll = db.prepare<[{ since: number }], { stage_id: string; client_id: string; last_ms: number | null; last_hour: number }>(
    `${activity} ORDER BY s.created_at, s.rowid`,
  );
  const activityOne = db.prepare<[{ since: number; client_id: string }], { stage_id: string; client_id: string; last_ms: number | null; last_hour: number }>(
    `${activity} WHERE s.client_id = @client_id ORDER BY s.created_at, s.rowid`,
  );

  return {
    countEvent(event) {
      const c = eventCount(event);
      upsertEvent.run(c.client_id, c.day, c.stage_id, c.ids, c.email, c.phone);
    },
    countSends(records) {
      for (const c of sendCounts(records)) upsertSends.run(c.client_id, c.day, c.platform, c.status, c.count);
    },
    stats: {
      async eventDays({ client_id, from, to }) {
        return eventDays.all(client_id, from, to).map((r) => ({ ...r, ids: idsOfKey(r.ids) }));
      },
      async sendDays({ client_id, from, to }) {
        return sendDays.all(client_id, from, to);
      },
      async sendTotals({ status, from, client_id }) {
        return client_id === undefined ? totalsAll.all(status, from) : totalsOne.all(client_id, from, status);
      },
      async stageActivity({ client_id, now }) {
        const since = now.getTime() - STAGE_WINDOW_MS;
        const rows = client_id === undefined ? activityAll.all({ since }) : activityOne.all({ since, client_id });
        return rows.map((r) => ({
          stage_id: r.stage_id,
          client_id: r.client_id,
          ...(r.last_ms !== null ? { last_event_at: new Date(r.last_ms).toISOString() } : {}),
          last_hour: r.last_hour,
        }));
      },
    },
  };
}
