/**
 * The SQLite outbox: one row per (event, platform), written in the same
 * transaction as the event, so an event is never stored without its pending
 * sends (and never sent without being stored). Send passes lease due rows,
 * and each batch's row updates, audit rows (`send_attempts`), Data Manager
 * requests to check (`google_request_status`) and a connection pause are
 * written in ONE transaction.
 *
 * Every statement reads through an index: claims walk `outbox_due`
 * (status, due_at) and stop at the limit; the paused-connection check uses the
 * connections' unique key. A pass therefore costs what is due, not what the
 * table holds. The exception is the held-back count of a paused connection,
 * which reads every waiting row through `outbox_due` (migration 004 dropped the
 * per-connection index, which cost every admission three index entries): it runs
 * only while a connection is paused.
 */
import type { ClaimedSend, HeldConnection, Platform } from '@pruuv/sender';
import { FINAL_STATUSES, OUTBOX_PLATFORMS } from '../../domain/outbox.js';
import type { OutboxRow, OutboxStore } from '../types.js';
import type { Db } from './db.js';

/**
 * Adds the rows of an event, due at `dueAt`, `pending`, or `held` for a held event (no claim
 * takes those until a release makes them pending); runs inside the event's transaction.
 */
export type Enqueue = (eventId: string, dueAt: string, clientId: string, status: 'pending' | 'held') => void;

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
      WHERE c.client_id = o.client_id AND c.platform = o.platform AND c.status = 'paused'
    )
  LIMIT @limit
)
RETURNING id, event_id, client_id, platform, status, attempts, first_attempt_at, due_at`;

/** Rows each paused connection holds back. */
export const HELD_SQL = `SELECT c.id AS connection_id, c.client_id, c.platform, c.status_reason, c.paused_at,
  (SELECT COUNT(*) FROM outbox o
   WHERE o.client_id = c.client_id AND o.platform = c.platform AND o.status IN ('pending', 'retrying')) AS waiting
FROM connections c WHERE c.status = 'paused' ORDER BY c.client_id, c.platform`;

/** The earliest instant a follow-up pass has work: a retry falling due, or a lease running out. */
export const NEXT_RETRY_SQL = `SELECT MIN(due_at) AS at FROM outbox WHERE status = 'retrying'`;
export const NEXT_LEASE_SQL = `SELECT MIN(lease_until) AS at FROM outbox WHERE lease_until IS NOT NULL`;

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

interface ClaimRow {
  id: number;
  event_id: string;
  client_id: string | null;
  platform: Platform;
  status: 'pending' | 'retrying';
  attempts: number;
  first_attempt_at: string | null;
  due_at: string;
}

/** The outbox of the SQLite store, and the enqueue step of an admission. */
export function createOutbox(db: Db): { outbox: OutboxStore; enqueue: Enqueue } {
  // One statement for the event's rows: on the ingest hot path, three statement
  // executions cost measurably more than one (bench/ingest.mjs profile).
  const insert = db.prepare(
    `INSERT INTO outbox (event_id, client_id, platform, status, due_at, attempts, created_at, updated_at)
     VALUES ${OUTBOX_PLATFORMS.map((p) => `(@event_id, @client_id, '${p}', @status, @due_at, 0, @due_at, @due_at)`).join(', ')}`,
  );
  const ofEvent = db.prepare<[string], Row>('SELECT * FROM outbox WHERE event_id = ? ORDER BY id');
  const claimStmt = db.prepare<[Record<string, unknown>], ClaimRow>(CLAIM_SQL);
  const renewStmt = db.prepare('UPDATE outbox SET lease_until = ? WHERE id = ? AND lease_owner = ?');
  const releaseStmt = db.prepare(
    'UPDATE outbox SET lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?',
  );
  const clientOfEvent = db.prepare<[string], { client_id: string }>('SELECT client_id FROM events WHERE id = ?');
  const heldStmt = db.prepare<
    [],
    { connection_id: string; client_id: string; platform: Platform; status_reason: string | null; paused_at: string | null; waiting: number }
  >(HELD_SQL);
  const nextRetry = db.prepare<[], { at: string | null }>(NEXT_RETRY_SQL);
  const nextLease = db.prepare<[], { at: string | null }>(NEXT_LEASE_SQL);

  const claimTx = db.transaction((params: Record<string, unknown>) => claimStmt.all(params));
  const renewTx = db.transaction((ids: readonly number[], until: string, owner: string) =>
    ids.filter((id) => renewStmt.run(until, id, owner).changes === 1),
  );
  const releaseTx = db.transaction((ids: readonly number[], at: string, owner: string) => {
    for (const id of ids) releaseStmt.run(at, id, owner);
  });
  const commitTx = createCommit(db);

  const outbox: OutboxStore = {
    async forEvent(eventId) {
      return ofEvent.all(eventId).map(toOutboxRow);
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
        // Rows written before the client column existed get it from their event.
        .map((r) => toClaim(r, r.client_id ?? clientOfEvent.get(r.event_id)?.client_id ?? ''));
    },
    async renew(input) {
      return renewTx.immediate(input.ids, input.leaseUntil.toISOString(), input.owner);
    },
    async release(input) {
      releaseTx.immediate(input.ids, input.now.toISOString(), input.owner);
    },
    async commit(input) {
      commitTx(input);
    },
    async held() {
      return heldStmt.all().map((r) => {
        const h: HeldConnection = { connection_id: r.connection_id, client_id: r.client_id, platform: r.platform, waiting: r.waiting };
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
    enqueue(eventId, dueAt, clientId, status) {
      insert.run({ event_id: eventId, client_id: clientId, due_at: dueAt, status });
    },
  };
}

/**
 * A batch's commit, one transaction: the rows' outcomes (only rows this owner
 * still leases), their audit records, the Data Manager requests to check and a
 * connection pause.
 */
function createCommit(db: Db): (input: Parameters<OutboxStore['commit']>[0]) => void {
  const updateStmt = db.prepare(
    `UPDATE outbox SET status = @status, due_at = COALESCE(@due_at, due_at), attempts = @attempts,
       first_attempt_at = @first_attempt_at, last_error = @last_error, lease_owner = NULL, lease_until = NULL,
       updated_at = @now, finished_at = @finished_at
     WHERE id = @id AND lease_owner = @owner`,
  );
  const insertAttempt = db.prepare(
    `INSERT INTO send_attempts (outbox_id, event_id, client_id, stage_id, platform, connection_id, attempted_at, status,
       reason, message, error_code, error, http_status, request_id, dedup_key, batch_size, retry_count, next_attempt_at,
       dry_run, pass_id)
     VALUES (@outbox_id, @event_id, @client_id, @stage_id, @platform, @connection_id, @attempted_at, @status,
       @reason, @message, @error_code, @error, @http_status, @request_id, @dedup_key, @batch_size, @retry_count,
       @next_attempt_at, @dry_run, @pass_id)`,
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
  const final: ReadonlySet<string> = new Set(FINAL_STATUSES);
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
        finished_at: final.has(u.status) ? at : null,
      });
    }
    for (const r of input.records) {
      insertAttempt.run({
        outbox_id: r.outbox_id,
        event_id: r.event_id,
        client_id: r.client_id,
        stage_id: r.stage_id ?? null,
        platform: r.platform,
        connection_id: r.connection_id ?? null,
        attempted_at: r.attempted_at,
        status: r.status,
        reason: r.reason ?? null,
        message: r.message ?? null,
        error_code: r.error_code ?? null,
        error: r.error_message ?? null,
        http_status: r.http_status ?? null,
        request_id: r.request_id ?? null,
        dedup_key: r.dedup_key,
        batch_size: r.batch_size,
        retry_count: r.retry_count,
        next_attempt_at: r.next_attempt_at ?? null,
        dry_run: r.dry_run ? 1 : 0,
        pass_id: r.pass_id,
      });
    }
    for (const g of input.googleRequests ?? []) trackGoogleRequest.run(g);
    if (input.pause !== undefined) pauseStmt.run(input.pause.reason, at, at, input.pause.connection_id);
  });

  return (input) => commitTx.immediate(input);
}

function toOutboxRow(r: Row): OutboxRow {
  const row: OutboxRow = { id: r.id, event_id: r.event_id, platform: r.platform, status: r.status, due_at: r.due_at, attempts: r.attempts };
  if (r.lease_owner !== null) row.lease_owner = r.lease_owner;
  if (r.lease_until !== null) row.lease_until = r.lease_until;
  if (r.last_error !== null) row.last_error = r.last_error;
  return row;
}

function toClaim(r: ClaimRow, clientId: string): ClaimedSend {
  const claim: ClaimedSend = { id: r.id, event_id: r.event_id, client_id: clientId, platform: r.platform, status: r.status, attempts: r.attempts, due_at: r.due_at };
  if (r.first_attempt_at !== null) claim.first_attempt_at = r.first_attempt_at;
  return claim;
}
