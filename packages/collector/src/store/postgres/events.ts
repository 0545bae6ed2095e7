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
 * the event has no click ID, the insert of the event with its outbox rows and its
 * count in the daily roll-up (one statement); per group: BEGIN with the lock, COMMIT.
 * The roll-up row of an event is keyed by its stage, so the stage's lock also
 * orders its updates: admissions of different stages never wait on a roll-up row.
 */
import { createHash } from 'node:crypto';
import { dedupSinceMs } from '../../domain/dedup.js';
import { inheritAttribution, needsJoin } from '../../domain/join.js';
import { OUTBOX_PLATFORMS } from '../../domain/outbox.js';
import { retryAfterSeconds, STAGE_EVENTS_PER_HOUR, STAGE_WINDOW_MS } from '../../domain/rate-limit.js';
import { eventCount } from '../daily-counts.js';
import { EVENT_COLUMNS, eventFromRow, eventSelectSql, eventToRow, type EventRow } from '../event-row.js';
import { UserAgentKeys } from '../user-agents.js';
import { eventMatches, eventShape } from '../event-search.js';
import { pageLimits, readPage, type Direction, type Position } from '../keyset.js';
import { rowBounds, rowOrder, type TimeColumn } from './keyset-sql.js';
import type { Admission, EventSearch, EventStore, HeldCount, NewEvent, StoredEvent } from '../types.js';
import { asPostgresUnavailable } from './errors.js';
import type { Queryable, Statement, StorePool } from './pool.js';

/** The first key of the stage locks ("pruv"); the second is a hash of the stage id. */
const STAGE_LOCK_CLASS = 0x70727576;

/** A signed 32-bit key for a stage id: the first four bytes of its SHA-256. */
export function stageLockKey(stageId: string): number {
  return createHash('sha256').update(stageId).digest().readInt32BE(0);
}

const identity = (value: unknown): unknown => value;

/** PostgreSQL type of each event column, for the casts of parameters in `INSERT … SELECT`. */
const COLUMN_TYPES: Readonly<Record<string, string>> = {
  revenue_value: 'double precision',
  received_at: 'timestamptz',
  received_ms: 'bigint',
  first_touch: 'jsonb',
  last_touch: 'jsonb',
  demographics: 'jsonb',
  inherited_fields: 'jsonb',
};
const N = EVENT_COLUMNS.length;
/** The parameter of `received_ms` among the event's. */
const RECEIVED_MS = `$${EVENT_COLUMNS.indexOf('received_ms') + 1}::bigint`;
/** The parameter of `user_agent_key`: the key the process knows, or `0` for the one `u` finds or adds. */
const KEY = `$${EVENT_COLUMNS.indexOf('user_agent_key') + 1}::integer`;
const eventValues = EVENT_COLUMNS.map((c, i) =>
  c === 'user_agent_key' ? `COALESCE(NULLIF(${KEY}, 0), (SELECT id FROM u))` : `$${i + 1}::${COLUMN_TYPES[c] ?? 'text'}`,
).join(', ');

/** The columns an event is read with (its user agent's text by its key). */
const SELECT = eventSelectSql();

/**
 * The user agent of the event, found or added (`user_agents`, migration 020) when the process does
 * not know its key (`KEY` is 0): `$text` the user agent (NULL for none), `$when` a condition. Its
 * `last_ms` becomes the event's receive time if later: the refresh src/store/user-agents.ts needs.
 */
const userAgentOf = (text: string, when: string): string => `u AS (
  INSERT INTO user_agents (user_agent, last_ms)
  SELECT ${text}::text, ${RECEIVED_MS} ${when} ${when === '' ? 'WHERE' : 'AND'} ${text}::text IS NOT NULL AND ${KEY} = 0
  ON CONFLICT (user_agent) DO UPDATE SET last_ms = GREATEST(user_agents.last_ms, excluded.last_ms)
  RETURNING id
)`;

/**
 * The outbox rows of the inserted event `e`, due at the receive time: `pending`, or `held` for a
 * held event (no claim takes those until a release makes them pending). Their client and creation time
 * are the event's, not stored (outbox-row.ts).
 */
const OUTBOX_OF_E = `INSERT INTO outbox (event_id, platform, status, due_at, attempts, updated_at)
  SELECT e.id, p, CASE WHEN e.held_reason IS NULL THEN 'pending' ELSE 'held' END,
    $${N + 1}::timestamptz, 0, $${N + 1}::timestamptz
  FROM e, unnest($${N + 2}::text[]) AS p`;

/**
 * The daily roll-up's count of the inserted event `e` (nothing when `e` is empty): its
 * key's day, identifiers, email and phone flags are the parameters from `$first` on.
 */
const dailyOfE = (first: number): string => `INSERT INTO daily_events (client_id, day, stage_id, ids, events, email, phone)
  SELECT e.client_id, $${first}::date, e.stage_id, $${first + 1}::text, 1, $${first + 2}::bigint, $${first + 3}::bigint FROM e
  ON CONFLICT (client_id, day, stage_id, ids) DO UPDATE
  SET events = daily_events.events + 1, email = daily_events.email + excluded.email, phone = daily_events.phone + excluded.phone`;

/** The parameters of {@link dailyOfE}. */
function dailyValues(stored: StoredEvent): unknown[] {
  const c = eventCount(stored);
  return [c.day, c.ids, c.email, c.phone];
}

/**
 * The checks of one admission, parameters after the event's columns and the outbox's. The stage
 * quota counts webhook events only (`events_webhook_stage_time`, migration 008); a beacon has no
 * stage quota (its limits are `domain/beacon-limits.ts`): its window bound is NULL, which no row passes.
 */
const CHECKS = `SELECT EXISTS (SELECT 1 FROM events WHERE id = $${N + 3}) AS known,
    (SELECT id FROM events WHERE client_id = $${N + 4} AND reference = $${N + 5} AND received_ms >= $${N + 6}::bigint
       AND stage_id = $${N + 7} ORDER BY received_ms LIMIT 1) AS duplicate_of,
    (SELECT count(*) FROM events WHERE stage_id = $${N + 7} AND received_ms > $${N + 8}::bigint AND source = 'webhook') AS in_window`;

/**
 * An admission whose event has a click ID of its own (no join), in ONE statement:
 * the checks, and the event with its outbox rows inserted only when they pass.
 * Data-modifying CTEs see one snapshot, taken after the stage's lock.
 */
const CHECKED_INSERT_SQL = {
  name: 'pruuv_admit',
  text: `WITH c AS (${CHECKS}),
${userAgentOf(`$${N + 14}`, `FROM c WHERE NOT c.known AND c.duplicate_of IS NULL AND c.in_window < $${N + 9}::bigint`)},
e AS (
  INSERT INTO events (${EVENT_COLUMNS.join(', ')})
  SELECT ${eventValues} FROM c WHERE NOT c.known AND c.duplicate_of IS NULL AND c.in_window < $${N + 9}::bigint
  ON CONFLICT (id) DO NOTHING
  RETURNING id, client_id, stage_id, held_reason
),
o AS (${OUTBOX_OF_E}),
d AS (${dailyOfE(N + 10)})
SELECT c.known, c.duplicate_of, c.in_window, (SELECT count(*) FROM e) AS inserted, (SELECT id FROM u) AS user_agent_key FROM c`,
};

/** The checks alone, for an event that may inherit attribution (its insert follows the join). */
const CHECKS_SQL = {
  name: 'pruuv_admit_checks',
  text: CHECKS.replace(/\$(\d+)/g, (_, k: string) => `$${Number(k) - N - 2}`),
};

/** The insert of an event with its outbox rows and its roll-up count. */
const INSERT_SQL = {
  name: 'pruuv_admit_insert',
  text: `WITH ${userAgentOf(`$${N + 7}`, '')},
e AS (
  INSERT INTO events (${EVENT_COLUMNS.join(', ')}) SELECT ${eventValues}
  ON CONFLICT (id) DO NOTHING
  RETURNING id, client_id, stage_id, held_reason
),
d AS (${dailyOfE(N + 3)})
${OUTBOX_OF_E}
RETURNING event_id, (SELECT id FROM u) AS user_agent_key`,
};

/** The attribution an event without click IDs may inherit: the latest of the client with any. */
const ATTRIBUTED = `(fbclid IS NOT NULL OR gclid IS NOT NULL OR wbraid IS NOT NULL OR gbraid IS NOT NULL
  OR ttclid IS NOT NULL OR msclkid IS NOT NULL OR fbc IS NOT NULL OR fbp IS NOT NULL OR ttp IS NOT NULL
  OR utm_source IS NOT NULL OR utm_medium IS NOT NULL OR utm_campaign IS NOT NULL
  OR utm_content IS NOT NULL OR utm_term IS NOT NULL)
  AND (held_reason IS NULL OR released_at IS NOT NULL)`;

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
  inserted?: string;
  /** The key `u` found or added for the event's user agent (NULL when the process knew it). */
  user_agent_key?: number | null;
}

/** The event an event without click IDs of its own inherits them from: by reference, then by email hash. */
async function findSource(q: Queryable, event: NewEvent): Promise<StoredEvent | undefined> {
  const byReference = await q.query<EventRow>(
    `SELECT ${SELECT} FROM events WHERE client_id = $1 AND reference = $2 AND ${ATTRIBUTED} ORDER BY received_ms DESC, seq DESC LIMIT 1`,
    [event.client_id, event.reference],
  );
  let row = byReference.rows[0];
  if (row === undefined && event.email_sha256 !== undefined) {
    const byEmail = await q.query<EventRow>(
      `SELECT ${SELECT} FROM events WHERE client_id = $1 AND email_sha256 = $2 AND ${ATTRIBUTED} ORDER BY received_ms DESC, seq DESC LIMIT 1`,
      [event.client_id, event.email_sha256],
    );
    row = byEmail.rows[0];
  }
  return row && eventFromRow(row, identity);
}

/** Why an admission that did not pass its checks was refused. */
async function refusal(q: Queryable, event: NewEvent, checks: Checks, nowMs: number, perHour: number): Promise<Admission | undefined> {
  if (checks.known) return { status: 'duplicate_event_id', event_id: event.id };
  // Dedup before the quota: a retry of an event we already hold is answered "done", never 429.
  if (checks.duplicate_of !== null) return { status: 'duplicate', of_event_id: checks.duplicate_of };
  const n = Number(checks.in_window);
  if (event.source !== 'webhook' || n < perHour) return undefined;
  // The event whose leaving the window frees a slot: the (n - perHour + 1)-th oldest in it.
  const freeing = await q.query<{ received_ms: string }>(
    `SELECT received_ms FROM events WHERE stage_id = $1 AND received_ms > $2 AND source = 'webhook' ORDER BY received_ms LIMIT 1 OFFSET $3`,
    [event.stage_id, nowMs - STAGE_WINDOW_MS, n - perHour],
  );
  return { status: 'rate_limited', retry_after_seconds: retryAfterSeconds(Number(freeing.rows[0]!.received_ms), nowMs) };
}

/** The parameters of the admission checks: event id, dedup key and window, the stage's hour. */
function checkValues(event: NewEvent, nowMs: number): unknown[] {
  return [
    event.id,
    event.client_id,
    event.reference,
    dedupSinceMs(nowMs),
    event.stage_id,
    event.source === 'webhook' ? nowMs - STAGE_WINDOW_MS : null,
  ];
}

/**
 * The user agents a group finds or adds, all at once and in the database's order, first in its
 * transaction, when it has two or more whose keys the process does not know. Each event's `u` then
 * finds its row already locked by this transaction: two groups (of two stages, or two processes)
 * that need the same user agents in opposite orders would otherwise each hold one row the other
 * waits for (a deadlock, which fails both groups). With one, two groups wait on a user agent only
 * one way: what else they lock after it is their own stage's (the stage lock orders those), but for
 * the id of one event resent to two stages at once, which a group waits for (then refuses).
 */
const LOCK_USER_AGENTS_SQL = {
  name: 'pruuv_admit_user_agents',
  text: `INSERT INTO user_agents (user_agent, last_ms)
  SELECT t.ua, t.ms FROM unnest($1::text[], $2::bigint[]) AS t(ua, ms) ORDER BY t.ua
  ON CONFLICT (user_agent) DO UPDATE SET last_ms = GREATEST(user_agents.last_ms, excluded.last_ms)`,
};

function lockUserAgents(items: readonly { event: NewEvent; at: Date }[], keys: UserAgentKeys): Statement | undefined {
  const unknown = new Map<string, number>();
  for (const { event, at } of items) {
    const ua = event.user_agent;
    if (ua !== undefined && keys.get(ua, at.getTime()) === undefined) unknown.set(ua, Math.max(unknown.get(ua) ?? 0, at.getTime()));
  }
  if (unknown.size < 2) return undefined;
  return { ...LOCK_USER_AGENTS_SQL, values: [[...unknown.keys()], [...unknown.values()]] };
}

/** A user agent's key an admission learned, remembered once its transaction commits. */
type Learned = Array<{ userAgent: string; key: number; atMs: number }>;

/**
 * The row of a stored event and the user agent parameter of its statement: the key the process
 * knows for its user agent, else `0` and the text for `u` to find or add (src/store/user-agents.ts).
 * `received_at` is the instant itself (`timestamptz`).
 */
function rowOf(stored: StoredEvent, at: Date, keys: UserAgentKeys): { values: unknown[]; userAgent: string | null } {
  const ua = stored.user_agent;
  const known = ua === undefined ? undefined : keys.get(ua, at.getTime());
  const row = eventToRow(stored, at.getTime(), ua === undefined ? undefined : (known ?? 0)) as unknown as Record<string, unknown>;
  row['received_at'] = at;
  return { values: EVENT_COLUMNS.map((c) => row[c]), userAgent: ua !== undefined && known === undefined ? ua : null };
}

/** Notes the key a statement found or added for the event's user agent. */
function learn(learned: Learned, stored: StoredEvent, at: Date, key: number | null | undefined): void {
  if (stored.user_agent !== undefined && key !== null && key !== undefined) learned.push({ userAgent: stored.user_agent, key: Number(key), atMs: at.getTime() });
}

/** The one-statement admission of an event with a click ID of its own, and the event it stores. */
function checkedInsert(event: NewEvent, at: Date, perHour: number, keys: UserAgentKeys): { statement: Statement; stored: StoredEvent } {
  const nowMs = at.getTime();
  const stored: StoredEvent = { ...event, received_at: at.toISOString() };
  const { values, userAgent } = rowOf(stored, at, keys);
  return {
    stored,
    statement: {
      ...CHECKED_INSERT_SQL,
      values: [...values, at, OUTBOX_PLATFORMS, ...checkValues(event, nowMs), perHour, ...dailyValues(stored), userAgent],
    },
  };
}

/** What a one-statement admission did, from its answer. */
async function checkedOutcome(q: Queryable, event: NewEvent, at: Date, stored: StoredEvent, checks: Checks, perHour: number, learned: Learned): Promise<Admission> {
  if (Number(checks.inserted) === 1) {
    learn(learned, stored, at, checks.user_agent_key);
    return { status: 'stored', event: stored };
  }
  // Another stage admitted the same id meanwhile (a pixel resend to two stages): the constraint kept one.
  return (await refusal(q, event, checks, at.getTime(), perHour)) ?? { status: 'duplicate_event_id', event_id: event.id };
}

/** One admission inside a transaction that holds its stage's lock. */
async function admitIn(q: Queryable, event: NewEvent, at: Date, perHour: number, keys: UserAgentKeys, learned: Learned): Promise<Admission> {
  const nowMs = at.getTime();
  if (!needsJoin(event)) {
    const { statement, stored } = checkedInsert(event, at, perHour, keys);
    const { rows } = await q.query<Checks>(statement);
    return checkedOutcome(q, event, at, stored, rows[0]!, perHour, learned);
  }
  const { rows } = await q.query<Checks>({ ...CHECKS_SQL, values: checkValues(event, nowMs) });
  const refused = await refusal(q, event, rows[0]!, nowMs, perHour);
  if (refused !== undefined) return refused;
  const join = inheritAttribution(event, await findSource(q, event));
  const stored: StoredEvent = { ...event, ...join.attribution, received_at: at.toISOString() };
  if (join.inherited) stored.inherited = join.inherited;
  const { values, userAgent } = rowOf(stored, at, keys);
  const inserted = await q.query<{ user_agent_key: number | null }>({ ...INSERT_SQL, values: [...values, at, OUTBOX_PLATFORMS, ...dailyValues(stored), userAgent] });
  if (inserted.rowCount === 0) return { status: 'duplicate_event_id', event_id: event.id };
  learn(learned, stored, at, inserted.rows[0]?.user_agent_key);
  return { status: 'stored', event: stored };
}

/**
 * The admission: per stage, the events that arrive together are admitted in one
 * transaction under the stage's advisory lock (group commit), in arrival order.
 */
function createAdmission(db: StorePool, perHour: number): EventStore['admit'] {
  // The user agents' keys this process learned from committed admissions (src/store/user-agents.ts).
  const keys = new UserAgentKeys();
  /** The items of one stage in one transaction, in arrival order, under the stage's lock. */
  const admitGroup = async (stageId: string, items: readonly Pending[]): Promise<Admission[]> => {
    const learned: Learned = [];
    const results = await admitGroupIn(stageId, items, learned);
    // Committed: the keys name rows that exist, refreshed at their events' receive times.
    for (const l of learned) keys.set(l.userAgent, l.key, l.atMs);
    return results;
  };
  const admitGroupIn = async (stageId: string, items: readonly Pending[], learned: Learned): Promise<Admission[]> => {
    // The stage's admissions, on every process, one after the other from here to COMMIT. Two
    // numbers only, so the lock rides with BEGIN in one message (simple query protocol).
    const begin = `BEGIN; SELECT pg_advisory_xact_lock(${STAGE_LOCK_CLASS}, ${stageLockKey(stageId)})`;
    const first = lockUserAgents(items, keys);
    if (items.every((item) => !needsJoin(item.event))) {
      // No answer is needed before the next statement: the whole transaction in one round trip.
      const prepared = items.map((item) => checkedInsert(item.event, item.at, perHour, keys));
      const answers = await db.pipelined(
        [...(first === undefined ? [] : [first]), ...prepared.map((p) => p.statement)],
        begin,
      );
      const skip = first === undefined ? 0 : 1;
      return Promise.all(items.map((item, k) => checkedOutcome(db, item.event, item.at, prepared[k]!.stored, answers[k + skip]!.rows[0] as Checks, perHour, learned)));
    }
    return db.transaction(async (q) => {
      if (first !== undefined) await q.query(first);
      const results: Admission[] = [];
      for (const item of items) results.push(await admitIn(q, item.event, item.at, perHour, keys, learned));
      return results;
    }, { begin });
  };

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

  return (event, at) =>
    new Promise<Admission>((resolve, reject) => {
      const queue = queues.get(event.stage_id);
      if (queue !== undefined) {
        queue.push({ event, at, resolve, reject });
        return;
      }
      queues.set(event.stage_id, [{ event, at, resolve, reject }]);
      void drain(event.stage_id);
    });
}

/** Creates the events part of the store. */
export function createEvents(db: StorePool, options: EventsOptions = {}): EventStore {
  const admit = createAdmission(db, options.perHour ?? STAGE_EVENTS_PER_HOUR);
  return {
    admit,
    async get(id) {
      const { rows } = await db.query<EventRow>(`SELECT ${SELECT} FROM events WHERE id = $1`, [id]);
      return rows[0] && eventFromRow(rows[0], identity);
    },
    async getOfClient(id, clientId) {
      const { rows } = await db.query<EventRow>(`SELECT ${SELECT} FROM events WHERE id = $1 AND client_id = $2`, [id, clientId]);
      return rows[0] && eventFromRow(rows[0], identity);
    },
    search: (query) => search(db, query),
    async getMany(ids) {
      const out = new Map<string, StoredEvent>();
      if (ids.length === 0) return out;
      const { rows } = await db.query<EventRow>(`SELECT ${SELECT} FROM events WHERE id = ANY($1::text[])`, [ids]);
      for (const row of rows) out.set(row.id, eventFromRow(row, identity));
      return out;
    },
    async list(filter) {
      const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? 100)), 10_000);
      // Newest first, each filter through an index that reads about `limit` rows.
      const { rows } = filter.held
        ? await db.query<EventRow>(
            `SELECT ${SELECT} FROM events WHERE held_reason IS NOT NULL AND released_at IS NULL
               AND ($1::text IS NULL OR client_id = $1) AND ($2::text IS NULL OR stage_id = $2)
             ORDER BY received_ms DESC, seq DESC LIMIT $3`,
            [filter.client_id ?? null, filter.stage_id ?? null, limit],
          )
        : filter.stage_id !== undefined
          ? await db.query<EventRow>(
              `SELECT ${SELECT} FROM events WHERE stage_id = $1 AND ($2::text IS NULL OR client_id = $2)
               ORDER BY received_ms DESC, seq DESC LIMIT $3`,
              [filter.stage_id, filter.client_id ?? null, limit],
            )
          : filter.client_id !== undefined
            ? await db.query<EventRow>(`SELECT ${SELECT} FROM events WHERE client_id = $1 ORDER BY seq DESC LIMIT $2`, [filter.client_id, limit])
            : await db.query<EventRow>(`SELECT ${SELECT} FROM events ORDER BY seq DESC LIMIT $1`, [limit]);
      return rows.map((row) => eventFromRow(row, identity));
    },
    async heldCounts() {
      const { rows } = await db.query<{ client_id: string; held: string; oldest: Date }>(
        `SELECT client_id, count(*) AS held, min(received_at) AS oldest FROM events
         WHERE held_reason IS NOT NULL AND released_at IS NULL GROUP BY client_id ORDER BY client_id`,
      );
      return rows.map((r): HeldCount => ({ client_id: r.client_id, held: Number(r.held), oldest: r.oldest.toISOString() }));
    },
    async release(filter, at) {
      if (filter.ids === undefined && filter.client_id === undefined) return [];
      // One statement: the events released, and their rows made claimable (a send pass takes 'pending' rows).
      const { rows } = await db.query<{ id: string }>(
        `WITH r AS (
           UPDATE events SET released_at = $1 WHERE held_reason IS NOT NULL AND released_at IS NULL
             AND ($2::text[] IS NULL OR id = ANY($2::text[])) AND ($3::text IS NULL OR client_id = $3)
           RETURNING id
         ), o AS (
           UPDATE outbox SET status = 'pending', due_at = $1, updated_at = $1 WHERE status = 'held' AND event_id IN (SELECT id FROM r)
         )
         SELECT id FROM r`,
        [at, filter.ids === undefined ? null : [...filter.ids], filter.client_id ?? null],
      );
      return rows.map((r) => r.id);
    },
    async stageCounts(stageIds, since) {
      const counts = new Map(stageIds.map((id) => [id, 0]));
      if (stageIds.length === 0) return counts;
      // The quota's events (webhook only), through events_webhook_stage_time: at most an hour of each stage (its quota).
      const { rows } = await db.query<{ stage_id: string; n: string }>(
        `SELECT stage_id, count(*) AS n FROM events WHERE stage_id = ANY($1::text[]) AND received_ms > $2::bigint AND source = 'webhook' GROUP BY stage_id`,
        [stageIds, since.getTime()],
      );
      for (const row of rows) counts.set(row.stage_id, Number(row.n));
      return counts;
    },
  };
}

/** A row with its keyset tie-break. */
type PositionedRow = EventRow & { seq: string };

/**
 * The statement of one read of {@link EventStore.search} (exported for the plan tests): the
 * query's shape and bounds, `direction`, and the keyset bound (t, id) when `cursor` is given;
 * `n` rows; newest first by (received_ms, seq). A client's or a stage's events are bounds on
 * `(client_id | stage_id, received_ms, seq)` (see `keyset-sql.ts`: only events_client_time or
 * events_stage_time has that order); every client's, on `(received_ms, seq)` (events_time). A
 * reference (a CRM record's few events) is an equality, which only events_client_reference
 * narrows; without a client, each client's few rows for it are read and sorted.
 */
export function eventSearchSql(query: EventSearch, direction: Direction, cursor: Position | undefined, n: number): { text: string; values: unknown[] } {
  const shape = eventShape(query);
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const terms: string[] = [];
  const prefix: Array<[string, unknown]> = [];
  if (shape === 'reference') {
    terms.push(`client_id = ${query.client_id !== undefined ? param(query.client_id) : 'c.id'}`, `reference = ${param(query.reference)}`);
  } else if (shape === 'stage') {
    prefix.push(['stage_id', query.stage_id]);
  } else if (shape === 'client') {
    prefix.push(['client_id', query.client_id]);
  }
  const range: { from?: number; before?: number } = {};
  if (query.received_from !== undefined) range.from = Date.parse(query.received_from);
  if (query.received_before !== undefined) range.before = Date.parse(query.received_before);
  terms.push(...rowBounds(prefix, RECEIVED, 'seq', range, direction, cursor, param));
  const limit = param(n);
  const read = `SELECT ${SELECT} FROM events ${terms.length > 0 ? `WHERE ${terms.join(' AND ')}` : ''}
       ORDER BY ${rowOrder(prefix, RECEIVED, 'seq', direction)} LIMIT ${limit}`;
  // A reference of any client: its rows of each client (a lateral join can only probe the
  // index per client, whatever the statistics say), merged.
  const text =
    shape === 'reference' && query.client_id === undefined
      ? `SELECT e.* FROM clients c CROSS JOIN LATERAL (${read}) e ORDER BY ${rowOrder([], { ...RECEIVED, name: 'e.received_ms' }, 'e.seq', direction)} LIMIT ${limit}`
      : read;
  return { text, values };
}

const RECEIVED: TimeColumn = { name: 'received_ms', cast: 'bigint' };

/** {@link EventStore.search}. */
async function search(db: StorePool, query: EventSearch) {
  const { limit, scanLimit } = pageLimits(query.limit, query.scan_limit);
  const fetch = async (from: Position | undefined, direction: Direction, n: number): Promise<PositionedRow[]> => {
    const { text, values } = eventSearchSql(query, direction, from, n);
    return (await db.query<PositionedRow>(text, values)).rows;
  };
  const matches = eventMatches(query, eventShape(query));
  const page = await readPage<PositionedRow>(
    { fetch, position: (row) => ({ t: Number(row.received_ms), id: Number(row.seq) }), ...(matches !== undefined ? { matches } : {}) },
    query.cursor,
    limit,
    scanLimit,
  );
  return { ...page, rows: page.rows.map((row) => eventFromRow(row, identity)) };
}
