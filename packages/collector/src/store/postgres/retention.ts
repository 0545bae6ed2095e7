/**
 * PostgreSQL retention (`domain/retention.ts`): old events leave in small batches, one short
 * transaction each, so no admission waits on a long lock. The space of removed rows is made
 * reusable by autovacuum (migration 009 makes it come sooner on the three tables it empties).
 */
import { FINAL_STATUSES } from '../../domain/outbox.js';
import type { PruneResult, RetentionStore } from '../types.js';
import type { Queryable, StorePool } from './pool.js';

/**
 * Whether an outbox row `o` keeps its event: unfinished, or finished since the cutoff (`$2`; a final
 * row's finish is its last change, `finishedAt` in domain/outbox.ts). A held
 * row (a beacon without a browser's signals, never released) does not hold its event back: a held
 * event older than the retention goes, as any other.
 */
const KEEPS = `o.status <> 'held' AND (o.status <> ALL ($3::text[]) OR COALESCE(o.finished_at, o.updated_at) >= $2)`;

/**
 * Events old enough to go: received before the cutoff (`$1`), none of whose outbox rows keeps it
 * (through the (event_id, platform) key). For the count and the check of picked ids, where the
 * planner's anti-join is the right plan. A release committed meanwhile makes its rows pending,
 * which the check under the rows' locks sees.
 */
const REMOVABLE = `FROM events e
  WHERE e.received_ms < $1
    AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.id AND ${KEEPS})`;

/**
 * The pick of a batch: the oldest events before the cutoff (`$1`, through `events_time`), each
 * checked by looking its outbox rows up through the (event_id, platform) key, `$4` at most.
 * As `NOT EXISTS` the planner turned the check into an anti-join that read the whole outbox once
 * per batch (a sequential scan, materialised: it expects about one row that keeps an event, and
 * the `LIMIT` made that scan look cheap), so a batch cost time in proportion to the history. A
 * lateral subquery with a `LIMIT` is not pulled up: it runs per event read, through the key.
 */
export const PICK_SQL = `SELECT e.id FROM events e
  LEFT JOIN LATERAL (SELECT true AS keeps FROM outbox o WHERE o.event_id = e.id AND ${KEEPS} LIMIT 1) k ON true
  WHERE e.received_ms < $1 AND k.keeps IS NULL
  ORDER BY e.received_ms LIMIT $4 FOR UPDATE OF e SKIP LOCKED`;

/** User agents a batch removes at most (each an index probe of `events_user_agent`). */
export const USER_AGENTS_PER_BATCH = 100;

/**
 * User agents (migration 020) no admission has used since the cutoff (through user_agents_last:
 * src/store/user-agents.ts) and no event names (through events_user_agent), a few a batch: those
 * whose last events a batch removed, and any an admission added for an event it then refused.
 */
async function removeUnusedUserAgents(c: Queryable, before: Date): Promise<number> {
  const { rowCount } = await c.query(
    `DELETE FROM user_agents WHERE id IN (
       SELECT u.id FROM user_agents u WHERE u.last_ms < $1
         AND NOT EXISTS (SELECT 1 FROM events e WHERE e.user_agent_key = u.id)
       ORDER BY u.last_ms LIMIT ${USER_AGENTS_PER_BATCH})`,
    [before.getTime()],
  );
  return rowCount ?? 0;
}

/** Creates the retention of the PostgreSQL store. */
export function createRetention(db: StorePool): RetentionStore {
  const final = [...FINAL_STATUSES];
  return {
    async prune({ before, limit }): Promise<PruneResult> {
      return db.transaction(async (c) => {
        // The commit does not wait for its WAL to reach the disk: a crash can undo the last batches
        // a sweep removed (the next sweep removes them again), never one half, never an admission.
        await c.query('SET LOCAL synchronous_commit = off');
        const picked = await c.query<{ id: string }>(PICK_SQL, [before.getTime(), before, final, Math.max(1, Math.floor(limit))]);
        if (picked.rows.length === 0) return { events: 0, outbox: 0, send_attempts: 0, user_agents: await removeUnusedUserAgents(c, before) };
        // Lock their outbox rows, then check again: a "retry now" committed meanwhile made a row due,
        // and one that comes later waits for this transaction and finds the row gone.
        await c.query('SELECT id FROM outbox WHERE event_id = ANY($1::text[]) ORDER BY id FOR UPDATE', [picked.rows.map((r) => r.id)]);
        const checked = await c.query<{ id: string }>(`SELECT e.id ${REMOVABLE} AND e.id = ANY($4::text[])`, [
          before.getTime(),
          before,
          final,
          picked.rows.map((r) => r.id),
        ]);
        const ids = checked.rows.map((r) => r.id);
        if (ids.length === 0) return { events: 0, outbox: 0, send_attempts: 0, user_agents: await removeUnusedUserAgents(c, before) };
        // A later event keeps the fields it inherited from a removed one, not the link (the one engine with a foreign key there is SQLite).
        await c.query('UPDATE events SET inherited_from = NULL WHERE inherited_from = ANY($1::text[])', [ids]);
        // Audit records by their outbox rows' keys (send_attempts_outbox; the log has no index on event ids, migration 012).
        const attempts = await c.query<{ request_key: string | null }>(
          'DELETE FROM send_attempts WHERE outbox_id IN (SELECT o.id FROM outbox o WHERE o.event_id = ANY($1::text[])) RETURNING request_key',
          [ids],
        );
        // The requests those records named, once no record names them (send_attempts_request, migration 025).
        const keys = [...new Set(attempts.rows.flatMap((r) => (r.request_key === null ? [] : [r.request_key])))];
        if (keys.length > 0) {
          await c.query(
            `DELETE FROM send_requests q WHERE q.id = ANY($1::bigint[])
               AND NOT EXISTS (SELECT 1 FROM send_attempts a WHERE a.request_key = q.id)`,
            [keys],
          );
        }
        const outbox = await c.query('DELETE FROM outbox WHERE event_id = ANY($1::text[])', [ids]);
        const events = await c.query('DELETE FROM events WHERE id = ANY($1::text[])', [ids]);
        const userAgents = await removeUnusedUserAgents(c, before);
        return { events: events.rowCount ?? 0, outbox: outbox.rowCount ?? 0, send_attempts: attempts.rowCount ?? 0, user_agents: userAgents };
      });
    },
    async removable(before) {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n ${REMOVABLE}`, [before.getTime(), before, final]);
      return rows[0]?.n ?? 0;
    },
    async reclaim() {
      // Autovacuum makes the space reusable; giving it back to the file system would need VACUUM FULL (an exclusive lock).
      return 0;
    },
  };
}
