/**
 * The SQLite outbox: one row per (event, platform), written in the same
 * transaction as the event, so an event is never stored without its pending
 * sends (and never sent without being stored). Send passes lease due rows,
 * and each batch's row updates, audit rows (`send_attempts`) with their daily
 * counts (`daily_sends`), Data Manager requests to check (`google_request_status`),
 * a connection pause and when the connection was last used are written in ONE
 * transaction.
 *
 * A row of a platform the client has no connection for is removed by the pass that finds none
 * (`discard`), with no audit record: nothing was sent.
 *
 * Every statement reads through an index: claims walk `outbox_due`
 * (status, due_at, over the waiting rows only: migration 023; a statement that reads it carries
 * its exact condition `status IN ('pending', 'retrying')`) and stop at the limit; the paused-connection check uses the
 * connections' unique key. A pass therefore costs what is due, not what the
 * table holds. The exception is the held-back count of a paused connection,
 * which reads every waiting row through `outbox_due` (migration 004 dropped the
 * per-connection index, which cost every admission three index entries): it runs
 * only while a connection is paused.
 */
import type { ClaimedSend, HeldConnection, Platform } from '@pruuv/sender';
import { finishedAt, FINAL_STATUSES, OUTBOX_PLATFORMS, usedConnections } from '../../domain/outbox.js';
import { storedAuditText } from '../audit-row.js';
import { outboxClientSql, outboxDueAt } from '../outbox-row.js';
import type { AuditRecord, OutboxRow, OutboxStore, RetryNowInput } from '../types.js';
import type { Db } from './db.js';

/**
 * Adds the rows of an event, due at its receipt (`receivedAt`; `receivedMs` the same instant, the
 * rows' `event_ms`), `pending`, or `held` for a held event (no claim takes those until a release
 * makes them pending); runs inside the event's transaction.
 */
export type Enqueue = (eventId: string, receivedAt: string, receivedMs: number, clientId: string, status: 'pending' | 'held') => void;

/**
 * An event's rows, through the outbox's unique key (event_ms, event_id, platform; migration 031):
 * the event by its primary key gives its receive time. `events` is the SQL of the event ids.
 */
export const outboxOfEventsSql = (events: string, columns: string): string =>
  `SELECT ${columns} FROM events e JOIN outbox o ON o.event_ms = e.received_ms AND o.event_id = e.id WHERE e.id IN (${events})`;


/**
 * The claim, one statement: the rows to lease are chosen and leased together,
 * so two senders can never both take a row. `lease_until < now` lets a row
 * whose sender crashed be taken again once its lease ran out. Rows of a held
 * event (status `held`, migration 013) are never taken until a release. `INDEXED BY`
 * pins the (status, due_at) index: statistics gathered while every row was
 * pending must never turn the claim into a scan of a table of sent rows.
 */
export const CLAIM_SQL = `UPDATE outbox SET lease_owner = @owner, lease_until = @lease_until, updated_at = @now
WHERE id IN (
  SELECT o.id FROM outbox o INDEXED BY outbox_due
  WHERE o.status IN ('pending', 'retrying') AND o.due_at <= @cutoff
    AND (o.lease_until IS NULL OR o.lease_until < @now)
    AND (@retries_only = 0 OR o.status = 'retrying' OR o.lease_until IS NOT NULL)
    AND NOT EXISTS (
      SELECT 1 FROM connections c
      WHERE c.client_id = ${outboxClientSql('o')} AND c.platform = o.platform AND c.status = 'paused'
    )
  LIMIT @limit
)
RETURNING id, event_id, ${outboxClientSql('outbox')} AS client_id, platform, status, attempts, first_attempt_at, due_at, frozen_fields`;

/** Paused connections (of one client, when `@client_id` is set). */
export const PAUSED_SQL = `SELECT c.id AS connection_id, c.client_id, c.platform, c.status_reason, c.paused_at
FROM connections c WHERE c.status = 'paused' AND (@client_id IS NULL OR c.client_id = @client_id) ORDER BY c.client_id, c.platform`;

/**
 * The rows a paused connection holds back, read through outbox_due (every waiting row, checked
 * for its client and platform), counting at most `@up_to` (`-1`: all). Runs only while a
 * connection is paused.
 */
export const WAITING_SQL = `SELECT COUNT(*) AS n FROM (
  SELECT 1 FROM outbox o INDEXED BY outbox_due
  WHERE o.status IN ('pending', 'retrying') AND ${outboxClientSql('o')} = @client_id AND o.platform = @platform
  LIMIT @up_to
)`;

/**
 * The rows a full claim at `@now` would lease, without leasing them (the dashboard's preview
 * of the next pass): {@link CLAIM_SQL}'s choice, of one client when `@client_id` is set. The
 * client is checked on the due rows `outbox_due` gives: due rows are the day's events at most.
 */
export const DUE_SQL = `SELECT o.id, o.event_id, ${outboxClientSql('o')} AS client_id, o.platform, o.status, o.attempts, o.first_attempt_at, o.due_at, o.frozen_fields
FROM outbox o INDEXED BY outbox_due
WHERE o.status IN ('pending', 'retrying') AND o.due_at <= @now
  AND (o.lease_until IS NULL OR o.lease_until < @now)
  AND (@client_id IS NULL OR ${outboxClientSql('o')} = @client_id)
  AND NOT EXISTS (
    SELECT 1 FROM connections c
    WHERE c.client_id = ${outboxClientSql('o')} AND c.platform = o.platform AND c.status = 'paused'
  )
LIMIT @limit`;

/**
 * "Retry now" of a final row: due again now, as a retry (follow-up passes take it), its lease
 * and end cleared; `attempts` and `first_attempt_at` stay, so the dedup window still counts
 * from the first attempt. Only a `failed` or `dead` row without a live lease changes.
 */
export const RETRY_NOW_SQL = `UPDATE outbox SET status = 'retrying', due_at = @now, lease_owner = NULL, lease_until = NULL,
  finished_at = NULL, updated_at = @now
WHERE id = @id AND status IN ('failed', 'dead') AND (lease_until IS NULL OR lease_until < @now)`;

/**
 * The fields frozen at a row's first attempt, written before it is sent, on a row this sender
 * leases; a row that has some keeps them (`COALESCE`). Answers what the row holds.
 */
export const FREEZE_SQL = `UPDATE outbox SET frozen_fields = COALESCE(frozen_fields, @fields)
WHERE id = @id AND lease_owner = @owner
RETURNING id, frozen_fields`;

/** The earliest instant a follow-up pass has work: a retry falling due, or a lease running out. */
export const NEXT_RETRY_SQL = `SELECT MIN(due_at) AS at FROM outbox WHERE status IN ('pending', 'retrying') AND status = 'retrying'`;
export const NEXT_LEASE_SQL = `SELECT MIN(lease_until) AS at FROM outbox WHERE lease_until IS NOT NULL`;

/** The columns of {@link Row}, for a statement over `outbox o`: the client through the event when not stored, and the receipt (the row's `event_ms`) for a due time not stored. */
const ROW_COLUMNS = `o.id, o.event_id, o.platform, o.status, o.due_at, CASE WHEN o.due_at = '' THEN o.event_ms END AS receipt_ms,
  o.attempts, o.lease_owner, o.lease_until, o.last_error, ${outboxClientSql('o')} AS client_id, o.first_attempt_at, o.updated_at, o.finished_at`;

interface Row {
  id: number;
  event_id: string;
  platform: Platform;
  status: string;
  due_at: string;
  receipt_ms: number | null;
  attempts: number;
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
  client_id: string | null;
  first_attempt_at: string | null;
  updated_at: string;
  finished_at: string | null;
}

interface ClaimRow {
  id: number;
  event_id: string;
  client_id: string;
  platform: Platform;
  status: 'pending' | 'retrying';
  attempts: number;
  first_attempt_at: string | null;
  due_at: string;
  frozen_fields: string | null;
}

/** The outbox of the SQLite store, and the enqueue step of an admission; `countSends` adds a commit's audit records to the daily roll-up. */
export function createOutbox(db: Db, countSends: (records: readonly AuditRecord[]) => void): { outbox: OutboxStore; enqueue: Enqueue } {
  // One statement for the event's rows: on the ingest hot path, three statement
  // executions cost measurably more than one (bench/ingest.mjs profile). The client and the
  // creation time are the event's, not stored (outbox-row.ts); its receive time leads the key (migration 031).
  const insert = db.prepare(
    `INSERT INTO outbox (event_ms, event_id, platform, status, due_at, attempts, created_at, updated_at)
     VALUES ${OUTBOX_PLATFORMS.map((p) => `(@event_ms, @event_id, '${p}', @status, @due_at, 0, '', @due_at)`).join(', ')}`,
  );
  const ofEvent = db.prepare<[string], Row>(`${outboxOfEventsSql('?', ROW_COLUMNS)} ORDER BY o.id`);
  const byId = db.prepare<[number], Row>(`SELECT ${ROW_COLUMNS} FROM outbox o WHERE o.id = ?`);
  const dueStmt = db.prepare<[{ now: string; client_id: string | null; limit: number }], ClaimRow>(DUE_SQL);
  const retryStmt = db.prepare(RETRY_NOW_SQL);
  const claimStmt = db.prepare<[Record<string, unknown>], ClaimRow>(CLAIM_SQL);
  const renewStmt = db.prepare('UPDATE outbox SET lease_until = ? WHERE id = ? AND lease_owner = ?');
  const releaseStmt = db.prepare(
    'UPDATE outbox SET lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?',
  );
  const pausedStmt = db.prepare<
    [{ client_id: string | null }],
    { connection_id: string; client_id: string; platform: Platform; status_reason: string | null; paused_at: string | null }
  >(PAUSED_SQL);
  const waitingStmt = db.prepare<[{ client_id: string; platform: string; up_to: number }], { n: number }>(WAITING_SQL);
  const nextRetry = db.prepare<[], { at: string | null }>(NEXT_RETRY_SQL);
  const nextLease = db.prepare<[], { at: string | null }>(NEXT_LEASE_SQL);

  const claimTx = db.transaction((params: Record<string, unknown>) => claimStmt.all(params));
  const renewTx = db.transaction((ids: readonly number[], until: string, owner: string) =>
    ids.filter((id) => renewStmt.run(until, id, owner).changes === 1),
  );
  const freezeStmt = db.prepare<[{ id: number; owner: string; fields: string }], { id: number; frozen_fields: string }>(FREEZE_SQL);
  const freezeTx = db.transaction((rows: ReadonlyArray<{ id: number; fields: string }>, owner: string) =>
    rows.flatMap((r) => {
      const row = freezeStmt.get({ id: r.id, owner, fields: r.fields });
      return row === undefined ? [] : [{ id: row.id, fields: row.frozen_fields }];
    }),
  );
  const releaseTx = db.transaction((ids: readonly number[], at: string, owner: string) => {
    for (const id of ids) releaseStmt.run(at, id, owner);
  });
  const insertAttempt = createAttemptInsert(db);
  const commitTx = createCommit(db, insertAttempt, countSends);
  // The retry's audit record counts in the daily roll-up like every other record.
  const retryTx = db.transaction((input: RetryNowInput): boolean => {
    if (retryStmt.run({ id: input.id, now: input.now.toISOString() }).changes !== 1) return false;
    insertAttempt(input.record);
    countSends([input.record]);
    return true;
  });

  const outbox: OutboxStore = {
    async forEvent(eventId) {
      return ofEvent.all(eventId).map(toOutboxRow);
    },
    async forEvents(eventIds) {
      const unique = [...new Set(eventIds)];
      const rows: Row[] = [];
      // Through the (event_ms, event_id, platform) key; 500 ids per statement stays far below SQLite's 32,766 parameters.
      for (let i = 0; i < unique.length; i += 500) {
        const ids = unique.slice(i, i + 500);
        rows.push(...db.prepare<string[], Row>(`${outboxOfEventsSql(ids.map(() => '?').join(', '), ROW_COLUMNS)} ORDER BY o.id`).all(...ids));
      }
      return rows.map(toOutboxRow);
    },
    async get(id) {
      const row = byId.get(id);
      return row && toOutboxRow(row);
    },
    async due(query) {
      return dueStmt
        .all({ now: query.now.toISOString(), client_id: query.client_id ?? null, limit: query.limit })
        .map(toClaim);
    },
    async retryNow(input) {
      return retryTx.immediate(input);
    },
    async claim(input) {
      const rows = claimTx.immediate({
        owner: input.owner,
        lease_until: input.leaseUntil.toISOString(),
        now: input.now.toISOString(),
        cutoff: input.cutoff.toISOString(),
        retries_only: input.retriesOnly ? 1 : 0,
        limit: input.limit,
      });
      return rows
        .sort((a, b) => a.id - b.id)
        .map(toClaim);
    },
    async renew(input) {
      return renewTx.immediate(input.ids, input.leaseUntil.toISOString(), input.owner);
    },
    async release(input) {
      releaseTx.immediate(input.ids, input.now.toISOString(), input.owner);
    },
    async freeze(input) {
      return input.rows.length === 0 ? [] : freezeTx.immediate(input.rows, input.owner);
    },
    async commit(input) {
      commitTx(input);
    },
    async held(filter = {}) {
      return pausedStmt.all({ client_id: filter.client_id ?? null }).map((r) => {
        const waiting = waitingStmt.get({ client_id: r.client_id, platform: r.platform, up_to: filter.upTo ?? -1 })!.n;
        const h: HeldConnection = { connection_id: r.connection_id, client_id: r.client_id, platform: r.platform, waiting };
        if (r.status_reason !== null) h.reason = r.status_reason;
        if (r.paused_at !== null) h.paused_at = r.paused_at;
        return h;
      });
    },
    async nextFollowUp() {
      const times = [nextRetry.get()?.at ?? null, nextLease.get()?.at ?? null]
        .filter((t): t is string => t !== null)
        .map((t) => Date.parse(t));
      return times.length > 0 ? new Date(Math.min(...times)) : undefined;
    },
  };
  return {
    outbox,
    enqueue(eventId, receivedAt, receivedMs, _clientId, status) {
      insert.run({ event_ms: receivedMs, event_id: eventId, due_at: receivedAt, status });
    },
  };
}

/**
 * Appends one record to the audit log; runs inside the caller's transaction. What every record
 * would repeat is stored once (`audit-row.ts`): the event as '' when the outbox row names it, the
 * stage as NULL when it is the event's (one lookup of the event just sent, by its key), the pass and
 * the platform's request id in the request's row of `send_requests`.
 */
function createAttemptInsert(db: Db): (r: AuditRecord) => void {
  const insertAttempt = db.prepare(
    // The client by its key (audit-row.ts, migration 032), by its id only for a client not stored.
    `INSERT INTO send_attempts (outbox_id, event_id, client_id, client_key, stage_id, platform, connection_id, attempted_at, status,
       reason, message, error_code, error, http_status, request_id, dedup_key, batch_size, retry_count, next_attempt_at,
       dry_run, pass_id, request_key)
     VALUES (@outbox_id, CASE WHEN @event_id = (SELECT o.event_id FROM outbox o WHERE o.id = @outbox_id) THEN '' ELSE @event_id END,
       CASE WHEN NOT EXISTS (SELECT 1 FROM clients c WHERE c.id = @client_id) THEN @client_id END, (SELECT c.key FROM clients c WHERE c.id = @client_id),
       CASE WHEN @stage_id = (SELECT e.stage_id FROM events e WHERE e.id = @event_id) THEN NULL ELSE @stage_id END,
       @platform, @connection_id, @attempted_at, @status,
       @reason, @message, @error_code, @error, @http_status, @request_id, @dedup_key, @batch_size, @retry_count,
       @next_attempt_at, @dry_run, @pass_id, @request_key)`,
  );
  // The request a record of a pass belongs to, found or added (migration 024).
  const addRequest = db.prepare('INSERT INTO send_requests (pass_id, request_id) VALUES (?, ?) ON CONFLICT (pass_id, request_id) DO NOTHING');
  const requestKey = db.prepare<[string, string], { id: number }>('SELECT id FROM send_requests WHERE pass_id = ? AND request_id = ?');
  const keyOf = (passId: string, requestId: string): number => {
    addRequest.run(passId, requestId);
    return requestKey.get(passId, requestId)!.id;
  };
  return (r) => {
    const request_key = r.pass_id === undefined ? null : keyOf(r.pass_id, r.request_id ?? '');
    insertAttempt.run({
      request_key,
      ...storedAuditText(r),
      outbox_id: r.outbox_id,
      event_id: r.event_id,
      client_id: r.client_id,
      stage_id: r.stage_id ?? null,
      platform: r.platform,
      connection_id: r.connection_id ?? null,
      attempted_at: r.attempted_at,
      status: r.status,
      reason: r.reason ?? null,
      error_code: r.error_code ?? null,
      error: r.error_message ?? null,
      http_status: r.http_status ?? null,
      request_id: request_key === null ? (r.request_id ?? null) : null,
      batch_size: r.batch_size ?? null,
      retry_count: r.retry_count,
      next_attempt_at: r.next_attempt_at ?? null,
      dry_run: r.dry_run ? 1 : 0,
      pass_id: request_key === null ? (r.pass_id ?? null) : null,
    });
  };
}

/**
 * A batch's commit, one transaction: the rows' outcomes and the rows removed unsent (only rows
 * this owner still leases), their audit records and their counts in the daily roll-up, the
 * Data Manager requests to check, a connection pause and the connection's `last_used_at`.
 */
function createCommit(
  db: Db,
  insertAttempt: (r: AuditRecord) => void,
  countSends: (records: readonly AuditRecord[]) => void,
): (input: Parameters<OutboxStore['commit']>[0]) => void {
  // A finished row whose due time is its event's receipt stores '' (outbox-row.ts).
  const updateStmt = db.prepare(
    `UPDATE outbox SET status = @status,
       due_at = CASE WHEN @status IN (${FINAL_STATUSES.map((s) => `'${s}'`).join(', ')})
           AND CAST(round(unixepoch(COALESCE(@due_at, due_at), 'subsec') * 1000) AS INTEGER) = event_ms
         THEN '' ELSE COALESCE(@due_at, due_at) END,
       attempts = @attempts,
       first_attempt_at = @first_attempt_at, last_error = @last_error, lease_owner = NULL, lease_until = NULL,
       updated_at = @now, finished_at = NULL
     WHERE id = @id AND lease_owner = @owner`,
  );
  // One row per delivered Data Manager request, counting its events.
  const trackGoogleRequest = db.prepare(
    `INSERT INTO google_request_status (request_id, connection_id, client_id, events, sent_at, next_check_at)
     VALUES (@request_id, @connection_id, @client_id, @events, @sent_at, @next_check_at)
     ON CONFLICT (request_id) DO UPDATE SET events = events + excluded.events`,
  );
  const pauseStmt = db.prepare(
    `UPDATE connections SET status = 'paused', status_reason = ?, paused_at = ?, updated_at = ? WHERE id = ?`,
  );
  // One statement per batch, whatever its size; the later time wins (ISO 8601 text compares as time).
  // A row never attempted of a platform the client has no connection for leaves unrecorded; only
  // while this owner leases it, and never a row with attempts (its audit records name their event through it).
  const discardStmt = db.prepare('DELETE FROM outbox WHERE id = ? AND lease_owner = ? AND attempts = 0');
  const usedStmt = db.prepare(
    `UPDATE connections SET last_used_at = @at
     WHERE id IN (SELECT value FROM json_each(@ids)) AND (last_used_at IS NULL OR last_used_at < @at)`,
  );
  const commitTx = db.transaction((input: Parameters<OutboxStore['commit']>[0]) => {
    const at = input.now.toISOString();
    for (const u of input.updates) {
      updateStmt.run({
        id: u.id,
        owner: input.owner,
        status: u.status,
        due_at: u.due_at ?? null,
        attempts: u.attempts,
        first_attempt_at: u.first_attempt_at ?? null,
        last_error: u.last_error ?? null,
        now: at,
      });
    }
    for (const id of input.discard ?? []) discardStmt.run(id, input.owner);
    for (const r of input.records) insertAttempt(r);
    countSends(input.records);
    for (const g of input.googleRequests ?? []) trackGoogleRequest.run(g);
    if (input.pause !== undefined) pauseStmt.run(input.pause.reason, at, at, input.pause.connection_id);
    const used = usedConnections(input.records);
    if (used !== undefined) usedStmt.run({ ids: JSON.stringify(used.ids), at: used.at });
  });

  return (input) => commitTx.immediate(input);
}

function toOutboxRow(r: Row): OutboxRow {
  const row: OutboxRow = { id: r.id, event_id: r.event_id, platform: r.platform, status: r.status, due_at: outboxDueAt(r.due_at, r.receipt_ms), attempts: r.attempts };
  if (r.lease_owner !== null) row.lease_owner = r.lease_owner;
  if (r.lease_until !== null) row.lease_until = r.lease_until;
  if (r.last_error !== null) row.last_error = r.last_error;
  if (r.client_id !== null) row.client_id = r.client_id;
  if (r.first_attempt_at !== null) row.first_attempt_at = r.first_attempt_at;
  row.updated_at = r.updated_at;
  const finished = finishedAt(r.status, r.finished_at, r.updated_at);
  if (finished !== undefined) row.finished_at = finished;
  return row;
}

function toClaim(r: ClaimRow): ClaimedSend {
  const claim: ClaimedSend = { id: r.id, event_id: r.event_id, client_id: r.client_id, platform: r.platform, status: r.status, attempts: r.attempts, due_at: r.due_at };
  if (r.first_attempt_at !== null) claim.first_attempt_at = r.first_attempt_at;
  if (r.frozen_fields !== null) claim.frozen = r.frozen_fields;
  return claim;
}
