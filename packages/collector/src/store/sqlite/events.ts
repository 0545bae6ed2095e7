/**
 * SQLite storage of funnel events, and their admission: idempotency, dedup,
 * the stage's hourly quota, the attribution join, the insert, the outbox
 * rows and the event's count in the daily roll-up, all in one `BEGIN IMMEDIATE` transaction, so two processes sharing the
 * file can never both take the last slot or both store a duplicate.
 */
import { asStorageUnavailable } from '../../errors.js';
import { dedupSinceMs } from '../../domain/dedup.js';
import { inheritAttribution, needsJoin } from '../../domain/join.js';
import { retryAfterSeconds, STAGE_EVENTS_PER_HOUR, STAGE_WINDOW_MS } from '../../domain/rate-limit.js';
import { EVENT_COLUMNS as COLUMNS, eventFromRow, eventSelectSql, eventToRow, storedHash, type EventRow } from '../event-row.js';
import { REFRESH_MS } from '../user-agents.js';
import { eventMatches, eventShape, type EventShape } from '../event-search.js';
import { pageLimits, readPage, type Direction, type Position } from '../keyset.js';
import type { Admission, EventSearch, EventStore, HeldCount, NewEvent, StoredEvent } from '../types.js';

/** SQLite keeps JSON columns as text. */
const parseJson = (value: unknown): unknown => JSON.parse(value as string);
import type { Db } from './db.js';
import { createGroupCommit } from './group-commit.js';
import type { Enqueue } from './outbox.js';

/** Settings of {@link createEvents}. */
export interface EventsOptions {
  /** Accepted events per stage per sliding hour. Defaults to `1000` (webhook-api.md). */
  perHour?: number;
  /** How long an admission waits for another connection's write lock, from timers. Defaults to `5000` ms. */
  busyWaitMs?: number;
}

/** The events part of the SQLite store, with the single-transaction admission its tests and seeders use. */
export interface SqliteEvents extends EventStore {
  /**
   * {@link EventStore.admit} in a transaction of its own, synchronously (no group):
   * for seeding inside an enclosing transaction. Request handlers use `admit`.
   */
  admitNow(event: NewEvent, at: Date): Admission;
}

/** Creates the events part of the store; `count` adds a stored event to the daily roll-up (in its transaction). */
export function createEvents(db: Db, enqueue: Enqueue, count: (event: StoredEvent) => void, options: EventsOptions = {}): SqliteEvents {
  const perHour = options.perHour ?? STAGE_EVENTS_PER_HOUR;
  // Positional parameters: binding 46 named ones costs measurably more per insert.
  const insert = db.prepare(`INSERT INTO events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
  const byId = db.prepare<[string], EventRow>(`SELECT ${SELECT} FROM events WHERE id = ?`);
  const byIdOfClient = db.prepare<[string, string], EventRow>(`SELECT ${SELECT} FROM events WHERE id = ? AND client_id = ?`);
  const userAgentKey = createUserAgentKeys(db);
  const exists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM events WHERE id = ?');
  // Through events_client_reference (migration 003): a stage has one client, and the
  // client's events with this reference in the last minute are at most one per stage.
  // INDEXED BY: without statistics the planner would pick events_stage_time and read
  // every event of the stage in the last minute (up to the hourly quota).
  const lastSameReference = db.prepare<[string, string, number, string], { id: string }>(
    `SELECT id FROM events INDEXED BY events_client_reference
     WHERE client_id = ? AND reference = ? AND received_ms >= ? AND stage_id = ?
     ORDER BY received_ms LIMIT 1`,
  );
  const quota = createQuota(db, perHour);
  const findSource = createFindSource(db);
  const list = createList(db);
  const held = createHeld(db);
  // The quota's own count (webhook events only), through events_webhook_stage_time: at most an hour of one stage (its quota).
  const countOfStage = db.prepare<[string, number], number>(
    `SELECT COUNT(*) FROM events INDEXED BY events_webhook_stage_time WHERE stage_id = ? AND received_ms > ? AND source = 'webhook'`,
  ).pluck();

  const admitOne = (event: NewEvent, at: Date): Admission => {
    const nowMs = at.getTime();
    if (exists.get(event.id)) return { status: 'duplicate_event_id', event_id: event.id };
    // Dedup before the quota: a retry of an event we already hold is answered "done",
    // never 429, which would make the sender retry later and store a double.
    const previous = lastSameReference.get(event.client_id, event.reference, dedupSinceMs(nowMs), event.stage_id);
    if (previous) return { status: 'duplicate', of_event_id: previous.id };
    // The stage quota is the webhook's (webhook-api.md): beacons have their own limits (domain/beacon-limits.ts).
    const webhook = event.source === 'webhook';
    const retryAfter = webhook ? quota.full(event.stage_id, nowMs) : undefined;
    if (retryAfter !== undefined) return { status: 'rate_limited', retry_after_seconds: retryAfter };
    const join = needsJoin(event) ? inheritAttribution(event, findSource(event)) : { attribution: event };
    const stored: StoredEvent = { ...event, ...join.attribution, received_at: at.toISOString() };
    if (join.inherited) stored.inherited = join.inherited;
    const row: Record<string, unknown> = eventToRow(stored, nowMs, stored.user_agent === undefined ? undefined : userAgentKey(stored.user_agent, nowMs), 'binary');
    insert.run(COLUMNS.map((c) => row[c]));
    enqueue(stored.id, stored.received_at, nowMs, stored.client_id, stored.held_reason === undefined ? 'pending' : 'held');
    count(stored);
    if (webhook) quota.stored(event.stage_id);
    return { status: 'stored', event: stored };
  };
  const admitTx = db.transaction((event: NewEvent, at: Date) => {
    quota.refresh();
    return admitOne(event, at);
  });

  // In a group, items run without a savepoint of their own (see group-commit.ts).
  const admitGrouped = createGroupCommit(db, (item: { event: NewEvent; at: Date }) => admitOne(item.event, item.at), {
    onBegin: quota.refresh,
    busyWaitMs: options.busyWaitMs ?? 5000,
  });

  const byIds = (ids: readonly string[]): Map<string, StoredEvent> => {
    const out = new Map<string, StoredEvent>();
    for (const id of ids) {
      const row = byId.get(id);
      if (row !== undefined) out.set(id, eventFromRow(row, parseJson));
    }
    return out;
  };

  return {
    admitNow(event, at) {
      try {
        // IMMEDIATE takes the write lock up front: the checks and the insert see one state.
        return admitTx.immediate(event, at);
      } catch (error) {
        throw asStorageUnavailable(error) ?? error;
      }
    },
    admit(event, at) {
      return admitGrouped({ event, at });
    },
    async get(id) {
      const row = byId.get(id);
      return row && eventFromRow(row, parseJson);
    },
    async getMany(ids) {
      return byIds(ids);
    },
    async getOfClient(id, clientId) {
      const row = byIdOfClient.get(id, clientId);
      return row && eventFromRow(row, parseJson);
    },
    list,
    heldCounts: held.heldCounts,
    release: held.release,
    async stageCounts(stageIds, since) {
      return new Map(stageIds.map((id) => [id, countOfStage.get(id, since.getTime())!]));
    },
    search: createSearch(db),
  };
}

/** The columns an event is read with (its user agent's text by its key). */
const SELECT = eventSelectSql();

/**
 * The key of a user agent in `user_agents` (migration 025), found or added inside the admission's
 * transaction: one index read, and a write only for a new user agent or one whose `last_ms` is an
 * hour old (src/store/user-agents.ts). Nothing is remembered outside the database: a group that
 * rolls back takes its new user agents with it.
 */
function createUserAgentKeys(db: Db): (userAgent: string, nowMs: number) => number {
  const find = db.prepare<[string], { id: number; last_ms: number }>('SELECT id, last_ms FROM user_agents WHERE user_agent = ?');
  const upsert = db
    .prepare<[string, number], number>(
      `INSERT INTO user_agents (user_agent, last_ms) VALUES (?, ?)
       ON CONFLICT (user_agent) DO UPDATE SET last_ms = max(last_ms, excluded.last_ms) RETURNING id`,
    )
    .pluck();
  return (userAgent, nowMs) => {
    const known = find.get(userAgent);
    if (known !== undefined && nowMs - known.last_ms < REFRESH_MS) return known.id;
    return upsert.get(userAgent, nowMs)!;
  };
}

/**
 * A released event's rows become claimable: a send pass takes 'pending' rows due by its cutoff.
 * Through the outbox's key (event_ms, event_id, platform; migration 031): the event's receive
 * time, then its id.
 */
export const RELEASE_ROWS_SQL = `UPDATE outbox SET status = 'pending', due_at = ?, updated_at = ? WHERE event_ms = ? AND event_id = ? AND status = 'held'`;

/** Held events: their counts per client, and their release (`events_held`, migration 013). */
function createHeld(db: Db): Pick<EventStore, 'heldCounts' | 'release'> {
  // The oldest by `received_ms`: `received_at` is '' in the rows that store it once (event-row.ts).
  const counts = db.prepare<[], { client_id: string; held: number; oldest_ms: number }>(
    `SELECT client_id, COUNT(*) AS held, MIN(received_ms) AS oldest_ms FROM events INDEXED BY events_held
     WHERE held_reason IS NOT NULL AND released_at IS NULL GROUP BY client_id ORDER BY client_id`,
  );
  const heldOfClient = db.prepare<[string], { id: string }>(
    `SELECT id FROM events INDEXED BY events_held WHERE client_id = ? AND held_reason IS NOT NULL AND released_at IS NULL`,
  );
  const releaseEvent = db.prepare<[{ at: string; id: string; client_id: string | null }], { id: string; received_ms: number }>(
    `UPDATE events SET released_at = @at WHERE id = @id AND held_reason IS NOT NULL AND released_at IS NULL
       AND (@client_id IS NULL OR client_id = @client_id) RETURNING id, received_ms`,
  );
  const releaseRows = db.prepare<[string, string, number, string]>(RELEASE_ROWS_SQL);
  const releaseTx = db.transaction((ids: readonly string[], clientId: string | null, at: string): string[] => {
    const released: string[] = [];
    for (const id of ids) {
      const event = releaseEvent.get({ at, id, client_id: clientId });
      if (event === undefined) continue;
      releaseRows.run(at, at, event.received_ms, id);
      released.push(id);
    }
    return released;
  });
  return {
    async heldCounts(): Promise<HeldCount[]> {
      return counts.all().map((r) => ({ client_id: r.client_id, held: r.held, oldest: new Date(r.oldest_ms).toISOString() }));
    },
    async release(filter, at) {
      if (filter.ids === undefined && filter.client_id === undefined) return [];
      const clientId = filter.client_id ?? null;
      return releaseTx.immediate(filter.ids ?? heldOfClient.all(clientId!).map((r) => r.id), clientId, at.toISOString());
    },
  };
}

/**
 * The stage quota without a COUNT per event. Per stage, `count` is what the count found in
 * the window starting at `sinceMs`, plus the events this connection has stored since; a window
 * that starts later holds a subset of those, so `count` bounds it from above. Only when that
 * bound reaches the quota is the window counted again, exactly. Overcounts (a group rolled back,
 * events leaving the window) only bring the exact count forward. Another connection's inserts
 * would be missed: any commit by another connection changes `PRAGMA data_version`, read at the
 * start of each write transaction (`refresh`), and drops every bound.
 */
function createQuota(db: Db, perHour: number): {
  refresh: () => void;
  /** `undefined` when the stage may store one more event, else the seconds until it may. */
  full: (stageId: string, nowMs: number) => number | undefined;
  /** Counts an event this connection stored. */
  stored: (stageId: string) => void;
} {
  // Webhook events only, through their partial index (migration 013): beacons never use the quota up.
  const countInWindow = db.prepare<[string, number], { n: number }>(
    `SELECT COUNT(*) AS n FROM events INDEXED BY events_webhook_stage_time
     WHERE stage_id = ? AND received_ms > ? AND source = 'webhook'`,
  );
  // The event whose leaving the window frees a slot: the (n - perHour + 1)-th oldest in the window.
  const freeingEvent = db.prepare<[string, number, number], { received_ms: number }>(
    `SELECT received_ms FROM events INDEXED BY events_webhook_stage_time WHERE stage_id = ? AND received_ms > ? AND source = 'webhook'
     ORDER BY received_ms LIMIT 1 OFFSET ?`,
  );
  const bounds = new Map<string, { sinceMs: number; count: number }>();
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  let seenVersion = -1;
  return {
    refresh() {
      const version = dataVersion.get()!;
      if (version !== seenVersion) {
        bounds.clear();
        seenVersion = version;
      }
    },
    full(stageId, nowMs) {
      const since = nowMs - STAGE_WINDOW_MS;
      const bound = bounds.get(stageId);
      // A window starting earlier than the counted one may hold events the count left out.
      if (bound !== undefined && since >= bound.sinceMs && bound.count < perHour) return undefined;
      const { n } = countInWindow.get(stageId, since)!;
      bounds.set(stageId, { sinceMs: since, count: n });
      if (n < perHour) return undefined;
      const freeing = freeingEvent.get(stageId, since, n - perHour)!;
      return retryAfterSeconds(freeing.received_ms, nowMs);
    },
    stored(stageId) {
      const bound = bounds.get(stageId);
      if (bound !== undefined) bound.count++;
    },
  };
}

/** An event the attribution join may take its click IDs and UTM parameters from: it has some, and it is not held. */
const ATTRIBUTED = `(fbclid IS NOT NULL OR gclid IS NOT NULL OR wbraid IS NOT NULL OR gbraid IS NOT NULL
    OR ttclid IS NOT NULL OR msclkid IS NOT NULL OR fbc IS NOT NULL OR fbp IS NOT NULL OR ttp IS NOT NULL
    OR utm_source IS NOT NULL OR utm_medium IS NOT NULL OR utm_campaign IS NOT NULL
    OR utm_content IS NOT NULL OR utm_term IS NOT NULL)
    AND (held_reason IS NULL OR released_at IS NOT NULL)`;

/** The join's source by reference (client, reference), through events_client_reference. */
export const SOURCE_BY_REFERENCE_SQL = `SELECT ${SELECT} FROM events WHERE client_id = ? AND reference = ? AND ${ATTRIBUTED}
     ORDER BY received_ms DESC, rowid DESC LIMIT 1`;

/**
 * The join's source by email hash (client, hash in one form), through events_client_email: one
 * form per statement (an `IN` of both would walk events_client_time instead, to spare a sort).
 */
export const SOURCE_BY_EMAIL_SQL = `SELECT ${SELECT} FROM events WHERE client_id = ? AND email_sha256 = ? AND ${ATTRIBUTED}
     ORDER BY received_ms DESC, rowid DESC LIMIT 1`;

/** The attribution join's source of an event without click IDs: the client's latest attributed event by reference, then by email hash. */
function createFindSource(db: Db): (event: NewEvent) => StoredEvent | undefined {
  const sourceByReference = db.prepare<[string, string], EventRow>(SOURCE_BY_REFERENCE_SQL);
  const sourceByEmail = db.prepare<[string, Uint8Array | string], EventRow>(SOURCE_BY_EMAIL_SQL);
  // The hash as this version stores it (32 bytes), else as rows written before hold it (hex text),
  // all older than the first in bytes.
  const byEmail = (clientId: string, hash: string): EventRow | undefined =>
    sourceByEmail.get(clientId, storedHash(hash, 'binary')) ?? sourceByEmail.get(clientId, hash);
  return (event) => {
    const row =
      sourceByReference.get(event.client_id, event.reference) ??
      (event.email_sha256 === undefined ? undefined : byEmail(event.client_id, event.email_sha256));
    return row && eventFromRow(row, parseJson);
  };
}

/** {@link EventStore.list}. */
function createList(db: Db): EventStore['list'] {
  // Newest first, each filter with a plan that reads about `limit` rows however large the table
  // (one statement with `@x IS NULL OR …` filters could use no index: a full scan and a sort).
  // A stage's events walk events_stage_time backwards; without a stage filter the table is read
  // backwards in rowid order (the order events were stored in, which is their receive order but for
  // a clock set back), `+client_id` keeping the planner off an index that would need a sort.
  const listOfStage = db.prepare<[{ client_id: string | null; stage_id: string; limit: number }], EventRow>(
    `SELECT ${SELECT} FROM events INDEXED BY events_stage_time
     WHERE stage_id = @stage_id AND (@client_id IS NULL OR client_id = @client_id)
     ORDER BY received_ms DESC, rowid DESC LIMIT @limit`,
  );
  const listOfClient = db.prepare<[{ client_id: string; limit: number }], EventRow>(
    `SELECT ${SELECT} FROM events WHERE +client_id = @client_id ORDER BY rowid DESC LIMIT @limit`,
  );
  const listAll = db.prepare<[{ limit: number }], EventRow>(`SELECT ${SELECT} FROM events ORDER BY rowid DESC LIMIT @limit`);
  const listHeld = db.prepare<[{ client_id: string | null; stage_id: string | null; limit: number }], EventRow>(
    `SELECT ${SELECT} FROM events INDEXED BY events_held
     WHERE held_reason IS NOT NULL AND released_at IS NULL
       AND (@client_id IS NULL OR client_id = @client_id) AND (@stage_id IS NULL OR stage_id = @stage_id)
     ORDER BY received_ms DESC, rowid DESC LIMIT @limit`,
  );

  return async (filter) => {
    const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? 100)), 10_000);
    const rows = filter.held
      ? listHeld.all({ client_id: filter.client_id ?? null, stage_id: filter.stage_id ?? null, limit })
      : filter.stage_id !== undefined
        ? listOfStage.all({ stage_id: filter.stage_id, client_id: filter.client_id ?? null, limit })
        : filter.client_id !== undefined
          ? listOfClient.all({ client_id: filter.client_id, limit })
          : listAll.all({ limit });
    return rows.map((row) => eventFromRow(row, parseJson));
  };
}

/** The index each shape of {@link EventSearch} reads, pinned: its order is the list's. */
const SEARCH_INDEX: Record<EventShape, string> = {
  reference: 'events_client_reference',
  stage: 'events_stage_time',
  client: 'events_client_time',
  all: 'events_time',
};

/** A row with its keyset position. */
type PositionedRow = EventRow & { pos_id: number };

/**
 * The statement of one read of {@link EventStore.search} (exported for the plan tests): the
 * query's shape and bounds, `direction`, and a keyset bound `@t`, `@id` when `withCursor`;
 * `@n` rows. Its parameters but `t`, `id` and `n`.
 */
export function eventSearchSql(query: EventSearch, direction: Direction, withCursor: boolean): { sql: string; params: Record<string, unknown> } {
  const shape = eventShape(query);
  const terms: string[] = [];
  const params: Record<string, unknown> = {};
  if (shape === 'reference') {
    terms.push(query.client_id !== undefined ? 'client_id = @client_id' : 'client_id IN (SELECT id FROM clients)', 'reference = @reference');
    params['reference'] = query.reference;
    if (query.client_id !== undefined) params['client_id'] = query.client_id;
  } else if (shape === 'stage') {
    terms.push('stage_id = @stage_id');
    params['stage_id'] = query.stage_id;
  } else if (shape === 'client') {
    terms.push('client_id = @client_id');
    params['client_id'] = query.client_id;
  }
  if (query.received_from !== undefined) {
    terms.push('received_ms >= @from_ms');
    params['from_ms'] = Date.parse(query.received_from);
  }
  if (query.received_before !== undefined) {
    terms.push('received_ms < @before_ms');
    params['before_ms'] = Date.parse(query.received_before);
  }
  const [cmp, order] = direction === 'older' ? ['<', 'DESC'] : ['>', 'ASC'];
  if (withCursor) terms.push(`received_ms ${cmp}= @t AND (received_ms ${cmp} @t OR rowid ${cmp} @id)`);
  const sql = `SELECT rowid AS pos_id, ${SELECT} FROM events INDEXED BY ${SEARCH_INDEX[shape]}
    ${terms.length > 0 ? `WHERE ${terms.join(' AND ')}` : ''}
    ORDER BY received_ms ${order}, rowid ${order} LIMIT @n`;
  return { sql, params };
}

/**
 * {@link EventStore.search}: one statement per shape, direction and set of bounds, prepared
 * once. Every index used ends with the rowid, so `ORDER BY received_ms, rowid` is its order
 * and no sort happens; but for a reference without a client, read for every client (a few
 * rows) and sorted.
 */
function createSearch(db: Db): EventStore['search'] {
  const statements = new Map<string, { all(params: Record<string, unknown>): PositionedRow[] }>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare<[Record<string, unknown>], PositionedRow>(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  return async (query: EventSearch) => {
    const { limit, scanLimit } = pageLimits(query.limit, query.scan_limit);
    const fetch = async (from: Position | undefined, direction: Direction, n: number): Promise<PositionedRow[]> => {
      const { sql, params } = eventSearchSql(query, direction, from !== undefined);
      return prepared(sql).all({ ...params, ...(from !== undefined ? { t: from.t, id: from.id } : {}), n });
    };
    const matches = eventMatches(query, eventShape(query));
    const page = await readPage<PositionedRow>(
      {
        fetch,
        position: (row) => ({ t: Number(row.received_ms), id: row.pos_id }),
        ...(matches !== undefined ? { matches } : {}),
      },
      query.cursor,
      limit,
      scanLimit,
    );
    return { ...page, rows: page.rows.map((row) => eventFromRow(row, parseJson)) };
  };
}
