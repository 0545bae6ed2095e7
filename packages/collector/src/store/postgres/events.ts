/**
 * PostgreSQL storage of funnel events, and their admission: idempotency, the
 * 60-second dedup, the stage's hourly quota, the attribution join, the insert
 * and the outbox rows, in one transaction.
 *
 * Exact across collectors: every transaction that admits events of a stage
 * first takes a transaction-scoped advisory lock on the stage
 * (`pg_advisory_xact_lock`), so admissions of one stage run one after the other
 * on every process and each sees the ones before it committed; the lock is
 * released by the COMMIT. The reads come after the lock, each in its own
 * statement, so their snapshot includes every admission that held it before.
 * Admissions of different stages do not wait for each other. The event id is
 * unique (a constraint), so a resent pixel event is stored once whatever the stage.
 *
 * Group commit per stage: within a process, the admissions of one stage that
 * arrive while a transaction of that stage is running wait in memory (not on a
 * pool connection) and go together in the next transaction, one lock and one
 * commit for all of them; each is still answered only after that commit. So a
 * burst on one stage takes one connection per process, and never starves the
 * pool the other stages need. An item that fails for a reason of its own (a
 * bug) rolls back its group, which is then run again one item per transaction.
 *
 * Round trips per admission: the checks (one statement), the join lookups when
 * the event has no click ID, the insert of the event with its outbox rows (one
 * statement); per group: BEGIN with the lock, COMMIT.
 */
import { createHash } from 'node:crypto';
import { dedupSinceMs } from '../../domain/dedup.js';
import { inheritAttribution, needsJoin } from '../../domain/join.js';
import { OUTBOX_PLATFORMS } from '../../domain/outbox.js';
import { retryAfterSeconds, STAGE_EVENTS_PER_HOUR, STAGE_WINDOW_MS } from '../../domain/rate-limit.js';
import { EVENT_COLUMNS, eventFromRow, eventToRow, type EventRow } from '../event-row.js';
import type { Admission, EventStore, NewEvent, StoredEvent } from '../types.js';
import { asPostgresUnavailable } from './errors.js';
import type { Queryable, StorePool } from './pool.js';

/** The first key of the stage locks ("pruv"); the second is a hash of the stage id. */
const STAGE_LOCK_CLASS = 0x70727576;

/** A signed 32-bit key for a stage id: the first four bytes of its SHA-256. */
export function stageLockKey(stageId: string): number {
  return createHash('sha256').update(stageId).digest().readInt32BE(0);
}

const identity = (value: unknown): unknown => value;

const INSERT_SQL = `WITH e AS (
  INSERT INTO events (${EVENT_COLUMNS.join(', ')})
  VALUES (${EVENT_COLUMNS.map((c, i) => `$${i + 1}${c === 'received_at' ? '::timestamptz' : ''}`).join(', ')})
  ON CONFLICT (id) DO NOTHING
  RETURNING id, client_id
)
INSERT INTO outbox (event_id, client_id, platform, status, due_at, attempts, created_at, updated_at)
SELECT e.id, e.client_id, p, 'pending', $${EVENT_COLUMNS.length + 1}, 0, $${EVENT_COLUMNS.length + 1}, $${EVENT_COLUMNS.length + 1}
FROM e, unnest($${EVENT_COLUMNS.length + 2}::text[]) AS p
RETURNING event_id`;

/** The attribution an event without click IDs may inherit: the latest of the client with any. */
const ATTRIBUTED = `(fbclid IS NOT NULL OR gclid IS NOT NULL OR wbraid IS NOT NULL OR gbraid IS NOT NULL
  OR ttclid IS NOT NULL OR msclkid IS NOT NULL OR fbc IS NOT NULL OR fbp IS NOT NULL OR ttp IS NOT NULL
  OR utm_source IS NOT NULL OR utm_medium IS NOT NULL OR utm_campaign IS NOT NULL
  OR utm_content IS NOT NULL OR utm_term IS NOT NULL)`;

/** At most this many admissions share a transaction. */
export const MAX_STAGE_GROUP = 100;

interface Pending {
  event: NewEvent;
  at: Date;
  resolve: (admission: Admission) => void;
  reject: (error: unknown) => void;
}

/** Settings of {@link createEvents}. */
export interface EventsOptions {
  /** Accepted events per stage per sliding hour. Defaults to `1000` (webhook-api.md). */
  perHour?: number;
}

interface Checks {
  known: boolean;
  duplicate_of: string | null;
  in_window: string;
}

/** Creates the events part of the store. */
export function createEvents(db: StorePool, options: EventsOptions = {}): EventStore {
  const perHour = options.perHour ?? STAGE_EVENTS_PER_HOUR;

  const findSource = async (q: Queryable, event: NewEvent): Promise<StoredEvent | undefined> => {
    const byReference = await q.query<EventRow>(
      `SELECT * FROM events WHERE client_id = $1 AND reference = $2 AND ${ATTRIBUTED} ORDER BY received_ms DESC, seq DESC LIMIT 1`,
      [event.client_id, event.reference],
    );
    let row = byReference.rows[0];
    if (row === undefined && event.email_sha256 !== undefined) {
      const byEmail = await q.query<EventRow>(
        `SELECT * FROM events WHERE client_id = $1 AND email_sha256 = $2 AND ${ATTRIBUTED} ORDER BY received_ms DESC, seq DESC LIMIT 1`,
        [event.client_id, event.email_sha256],
      );
      row = byEmail.rows[0];
    }
    return row && eventFromRow(row, identity);
  };

  /** One admission inside a transaction that holds its stage's lock. */
  const admitIn = async (q: Queryable, event: NewEvent, at: Date): Promise<Admission> => {
    const nowMs = at.getTime();
    const since = nowMs - STAGE_WINDOW_MS;
    const { rows } = await q.query<Checks>(
      `SELECT EXISTS (SELECT 1 FROM events WHERE id = $1) AS known,
         (SELECT id FROM events WHERE client_id = $2 AND reference = $3 AND received_ms >= $4 AND stage_id = $5
          ORDER BY received_ms LIMIT 1) AS duplicate_of,
         (SELECT count(*) FROM events WHERE stage_id = $5 AND received_ms > $6) AS in_window`,
      [event.id, event.client_id, event.reference, dedupSinceMs(nowMs), event.stage_id, since],
    );
    const checks = rows[0]!;
    if (checks.known) return { status: 'duplicate_event_id', event_id: event.id };
    // Dedup before the quota: a retry of an event we already hold is answered "done", never 429.
    if (checks.duplicate_of !== null) return { status: 'duplicate', of_event_id: checks.duplicate_of };
    const n = Number(checks.in_window);
    if (n >= perHour) {
      // The event whose leaving the window frees a slot: the (n - perHour + 1)-th oldest in it.
      const freeing = await q.query<{ received_ms: string }>(
        'SELECT received_ms FROM events WHERE stage_id = $1 AND received_ms > $2 ORDER BY received_ms LIMIT 1 OFFSET $3',
        [event.stage_id, since, n - perHour],
      );
      return { status: 'rate_limited', retry_after_seconds: retryAfterSeconds(Number(freeing.rows[0]!.received_ms), nowMs) };
    }
    const join = needsJoin(event) ? inheritAttribution(event, await findSource(q, event)) : { attribution: event };
    const stored: StoredEvent = { ...event, ...join.attribution, received_at: at.toISOString() };
    if (join.inherited) stored.inherited = join.inherited;
    const row = eventToRow(stored, nowMs) as unknown as Record<string, unknown>;
    const inserted = await q.query(INSERT_SQL, [...EVENT_COLUMNS.map((c) => row[c]), at, OUTBOX_PLATFORMS]);
    // Another stage admitted the same id meanwhile (a pixel resend to two stages): the constraint kept one.
    if (inserted.rowCount === 0) return { status: 'duplicate_event_id', event_id: event.id };
    return { status: 'stored', event: stored };
  };

  /** The items of one stage in one transaction, in arrival order, under the stage's lock. */
  const admitGroup = (stageId: string, items: readonly Pending[]): Promise<Admission[]> =>
    db.transaction(async (q) => {
      // The stage's admissions, on every process, one after the other from here to COMMIT.
      await q.query(`SELECT pg_advisory_xact_lock(${STAGE_LOCK_CLASS}, ${stageLockKey(stageId)})`);
      const results: Admission[] = [];
      for (const item of items) results.push(await admitIn(q, item.event, item.at));
      return results;
    });

  const queues = new Map<string, Pending[]>();
  const drain = async (stageId: string): Promise<void> => {
    for (let queue = queues.get(stageId); queue !== undefined && queue.length > 0; queue = queues.get(stageId)) {
      const items = queue.splice(0, MAX_STAGE_GROUP);
      try {
        const results = await admitGroup(stageId, items);
        items.forEach((p, i) => p.resolve(results[i]!));
      } catch (error) {
        // The database's state (unreachable, full, the pool's wait ran out) fails the group as it is.
        if (items.length === 1 || asPostgresUnavailable(error) !== undefined) {
          for (const p of items) p.reject(error);
          continue;
        }
        for (const p of items) {
          try {
            p.resolve((await admitGroup(stageId, [p]))[0]!);
          } catch (alone) {
            p.reject(alone);
          }
        }
      }
    }
    queues.delete(stageId);
  };

  return {
    admit(event, at) {
      return new Promise<Admission>((resolve, reject) => {
        const queue = queues.get(event.stage_id);
        if (queue !== undefined) {
          queue.push({ event, at, resolve, reject });
          return;
        }
        queues.set(event.stage_id, [{ event, at, resolve, reject }]);
        void drain(event.stage_id);
      });
    },
    async get(id) {
      const { rows } = await db.query<EventRow>('SELECT * FROM events WHERE id = $1', [id]);
      return rows[0] && eventFromRow(rows[0], identity);
    },
    async getMany(ids) {
      const out = new Map<string, StoredEvent>();
      if (ids.length === 0) return out;
      const { rows } = await db.query<EventRow>('SELECT * FROM events WHERE id = ANY($1::text[])', [ids]);
      for (const row of rows) out.set(row.id, eventFromRow(row, identity));
      return out;
    },
    async list(filter) {
      const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? 100)), 10_000);
      // Newest first, each filter through an index that reads about `limit` rows.
      const { rows } =
        filter.stage_id !== undefined
          ? await db.query<EventRow>(
              `SELECT * FROM events WHERE stage_id = $1 AND ($2::text IS NULL OR client_id = $2)
               ORDER BY received_ms DESC, seq DESC LIMIT $3`,
              [filter.stage_id, filter.client_id ?? null, limit],
            )
          : filter.client_id !== undefined
            ? await db.query<EventRow>('SELECT * FROM events WHERE client_id = $1 ORDER BY seq DESC LIMIT $2', [filter.client_id, limit])
            : await db.query<EventRow>('SELECT * FROM events ORDER BY seq DESC LIMIT $1', [limit]);
      return rows.map((row) => eventFromRow(row, identity));
    },
  };
}
