/**
 * The PostgreSQL outbox. Claims lock the rows they lease with
 * `FOR UPDATE SKIP LOCKED`: two workers claiming at once never wait for each
 * other and never get the same row; a dead worker's rows are claimed again
 * once their lease ran out. Each batch's row updates, audit records with their
 * daily counts, Data Manager requests and a connection pause are written in ONE
 * transaction.
 */
import type { ClaimedSend, HeldConnection, Platform } from '@pruuv/sender';
import { finishedAt, FINAL_STATUSES, usedConnections } from '../../domain/outbox.js';
import { sendCounts } from '../daily-counts.js';
import { storedAuditText } from '../audit-row.js';
import { outboxClientSql, outboxDueAt, outboxReceiptSql } from '../outbox-row.js';
import type { AuditRecord, OutboxCommit, OutboxRow, OutboxStore } from '../types.js';
import type { Queryable, StorePool } from './pool.js';

/** The claim, one statement: choose and lease together, skipping rows another claim holds. */
export const CLAIM_SQL = `UPDATE outbox o SET lease_owner = $1, lease_until = $2, updated_at = $3
FROM (
  SELECT d.id FROM outbox d
  WHERE d.status IN ('pending', 'retrying') AND d.due_at <= $4
    AND (d.lease_until IS NULL OR d.lease_until < $3)
    AND ($5::boolean = false OR d.status = 'retrying' OR d.lease_until IS NOT NULL)
    AND NOT EXISTS (
      SELECT 1 FROM connections c
      WHERE c.client_id = ${outboxClientSql('d')} AND c.platform = d.platform AND c.status = 'paused'
    )
  LIMIT $6
  FOR UPDATE SKIP LOCKED
) picked
WHERE o.id = picked.id
RETURNING o.id, o.event_id, ${outboxClientSql('o')} AS client_id, o.platform, o.status, o.attempts, o.first_attempt_at, o.due_at, o.frozen_fields`;

/**
 * The rows a full claim at `$1` would lease, without leasing or locking them (the dashboard's
 * preview of the next pass): {@link CLAIM_SQL}'s choice, of one client when `$2` is set. The
 * client is checked on the due rows `outbox_due` gives: due rows are the day's events at most.
 */
export const DUE_SQL = `SELECT d.id, d.event_id, ${outboxClientSql('d')} AS client_id, d.platform, d.status, d.attempts, d.first_attempt_at, d.due_at, d.frozen_fields
FROM outbox d
WHERE d.status IN ('pending', 'retrying') AND d.due_at <= $1
  AND (d.lease_until IS NULL OR d.lease_until < $1)
  AND ($2::text IS NULL OR ${outboxClientSql('d')} = $2)
  AND NOT EXISTS (
    SELECT 1 FROM connections c
    WHERE c.client_id = ${outboxClientSql('d')} AND c.platform = d.platform AND c.status = 'paused'
  )
LIMIT $3`;

/**
 * "Retry now" of a final row: due again now, as a retry (follow-up passes take it), its lease
 * and end cleared; `attempts` and `first_attempt_at` stay, so the dedup window still counts from
 * the first attempt. Only a `failed` or `dead` row without a live lease changes.
 */
export const RETRY_NOW_SQL = `UPDATE outbox SET status = 'retrying', due_at = $2, lease_owner = NULL, lease_until = NULL,
  finished_at = NULL, updated_at = $2
WHERE id = $1 AND status IN ('failed', 'dead') AND (lease_until IS NULL OR lease_until < $2)`;

/**
 * The fields frozen at rows' first attempt, written before it is sent, on rows this sender
 * leases; a row that has some keeps them (`COALESCE`). Answers what each row holds.
 */
export const FREEZE_SQL = `UPDATE outbox o SET frozen_fields = COALESCE(o.frozen_fields, v.fields)
FROM unnest($1::bigint[], $2::text[]) AS v(id, fields)
WHERE o.id = v.id AND o.id = ANY($1::bigint[]) AND o.lease_owner = $3
RETURNING o.id, o.frozen_fields`;

/**
 * The rows of a batch this sender still leases, locked until the commit: a row
 * whose lease ran out and was claimed by another sender meanwhile is not ours to
 * write.
 */
export const OWNED_ROWS_SQL = 'SELECT id FROM outbox WHERE id = ANY($1::bigint[]) AND lease_owner = $2 FOR UPDATE';

/**
 * A batch's outcomes, one statement, for rows {@link OWNED_ROWS_SQL} locked: each
 * gets its new status, schedule and error, and loses its lease. No `lease_owner`
 * test here: the statistics see that column as almost always NULL (leases are
 * brief), so with it the planner expects one row and joins by nested loop, batch
 * size squared (1.2 s for 2,000 rows next to 3,000,000 sent ones). `o.id = ANY($2)`
 * tells it how many rows there are; then it reads them by primary key. A finished row whose due
 * time is its event's receipt stores NULL there (outbox-row.ts).
 */
export const COMMIT_ROWS_SQL = `UPDATE outbox o SET status = v.status,
  due_at = CASE WHEN v.final AND (extract(epoch FROM COALESCE(v.due_at, o.due_at)) * 1000)::bigint = (SELECT e.received_ms FROM events e WHERE e.id = o.event_id)
    THEN NULL ELSE COALESCE(v.due_at, o.due_at) END,
  attempts = v.attempts,
  first_attempt_at = v.first_attempt_at, last_error = v.last_error, lease_owner = NULL, lease_until = NULL,
  updated_at = $1::timestamptz, finished_at = NULL
FROM unnest($2::bigint[], $3::text[], $4::timestamptz[], $5::int[], $6::timestamptz[], $7::text[], $8::boolean[])
  AS v(id, status, due_at, attempts, first_attempt_at, last_error, final)
WHERE o.id = v.id AND o.id = ANY($2::bigint[])`;

/**
 * The rows of a batch removed unsent (`discard`): never attempted (no audit record names its event
 * through them), of a platform the client has no connection for, and still leased by this sender.
 * Through the primary key.
 */
export const DISCARD_SQL = 'DELETE FROM outbox WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND attempts = 0';

interface ClaimRow {
  id: string;
  event_id: string;
  client_id: string;
  platform: Platform;
  status: 'pending' | 'retrying';
  attempts: number;
  first_attempt_at: Date | null;
  due_at: Date;
  frozen_fields: string | null;
}

/** The columns of {@link Row}, for a statement over `outbox o`: the client, and the receipt for a due time, through the event when not stored. */
const ROW_COLUMNS = `o.id, o.event_id, o.platform, o.status, o.due_at, ${outboxReceiptSql('o', 'o.due_at IS NULL')} AS receipt_ms,
  o.attempts, o.lease_owner, o.lease_until, o.last_error, ${outboxClientSql('o')} AS client_id, o.first_attempt_at, o.updated_at, o.finished_at`;

interface Row {
  id: string;
  event_id: string;
  platform: Platform;
  status: string;
  due_at: Date | null;
  receipt_ms: string | null;
  attempts: number;
  lease_owner: string | null;
  lease_until: Date | null;
  last_error: string | null;
  client_id: string;
  first_attempt_at: Date | null;
  updated_at: Date;
  finished_at: Date | null;
}

function toOutboxRow(r: Row): OutboxRow {
  const row: OutboxRow = {
    id: Number(r.id),
    event_id: r.event_id,
    platform: r.platform,
    status: r.status,
    due_at: outboxDueAt(r.due_at?.toISOString() ?? null, r.receipt_ms),
    attempts: r.attempts,
  };
  if (r.lease_owner !== null) row.lease_owner = r.lease_owner;
  if (r.lease_until !== null) row.lease_until = r.lease_until.toISOString();
  if (r.last_error !== null) row.last_error = r.last_error;
  row.client_id = r.client_id;
  if (r.first_attempt_at !== null) row.first_attempt_at = r.first_attempt_at.toISOString();
  row.updated_at = r.updated_at.toISOString();
  const finished = finishedAt(r.status, r.finished_at, r.updated_at);
  if (finished !== undefined) row.finished_at = finished.toISOString();
  return row;
}

function toClaim(r: ClaimRow): ClaimedSend {
  const claim: ClaimedSend = {
    id: Number(r.id),
    event_id: r.event_id,
    client_id: r.client_id,
    platform: r.platform,
    status: r.status,
    attempts: r.attempts,
    due_at: r.due_at.toISOString(),
  };
  if (r.first_attempt_at !== null) claim.first_attempt_at = r.first_attempt_at.toISOString();
  if (r.frozen_fields !== null) claim.frozen = r.frozen_fields;
  return claim;
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/** Creates the outbox part of the store. */
export function createOutbox(db: StorePool): OutboxStore {
  return {
    async forEvent(eventId) {
      const { rows } = await db.query<Row>(`SELECT ${ROW_COLUMNS} FROM outbox o WHERE o.event_id = $1 ORDER BY o.id`, [eventId]);
      return rows.map(toOutboxRow);
    },
    async forEvents(eventIds) {
      if (eventIds.length === 0) return [];
      const { rows } = await db.query<Row>(`SELECT ${ROW_COLUMNS} FROM outbox o WHERE o.event_id = ANY($1::text[]) ORDER BY o.id`, [[...new Set(eventIds)]]);
      return rows.map(toOutboxRow);
    },
    async get(id) {
      const { rows } = await db.query<Row>(`SELECT ${ROW_COLUMNS} FROM outbox o WHERE o.id = $1`, [id]);
      return rows[0] && toOutboxRow(rows[0]);
    },
    async due(query) {
      const { rows } = await db.query<ClaimRow>(DUE_SQL, [query.now, query.client_id ?? null, query.limit]);
      return rows.map(toClaim);
    },
    async retryNow(input) {
      return db.transaction(async (q) => {
        const changed = await q.query(RETRY_NOW_SQL, [input.id, input.now]);
        if (changed.rowCount !== 1) return false;
        await insertRecords(q, [input.record]);
        return true;
      });
    },
    async claim(input) {
      const { rows } = await db.query<ClaimRow>(CLAIM_SQL, [
        input.owner,
        input.leaseUntil,
        input.now,
        input.cutoff,
        input.retriesOnly,
        input.limit,
      ]);
      return rows.map(toClaim).sort((a, b) => a.id - b.id);
    },
    async renew(input) {
      const { rows } = await db.query<{ id: string }>(
        'UPDATE outbox SET lease_until = $1 WHERE id = ANY($2::bigint[]) AND lease_owner = $3 RETURNING id',
        [input.leaseUntil, input.ids, input.owner],
      );
      return rows.map((r) => Number(r.id));
    },
    async release(input) {
      await db.query(
        'UPDATE outbox SET lease_owner = NULL, lease_until = NULL, updated_at = $1 WHERE id = ANY($2::bigint[]) AND lease_owner = $3',
        [input.now, input.ids, input.owner],
      );
    },
    async freeze(input) {
      if (input.rows.length === 0) return [];
      const { rows } = await db.query<{ id: string; frozen_fields: string }>(FREEZE_SQL, [
        input.rows.map((r) => r.id),
        input.rows.map((r) => r.fields),
        input.owner,
      ]);
      return rows.map((r) => ({ id: Number(r.id), fields: r.frozen_fields }));
    },
    async commit(input) {
      await db.transaction((q) => commitBatch(q, input));
    },
    async held(filter = {}) {
      const { rows } = await db.query<{
        connection_id: string;
        client_id: string;
        platform: Platform;
        status_reason: string | null;
        paused_at: Date | null;
        waiting: string;
      }>(
        `SELECT c.id AS connection_id, c.client_id, c.platform, c.status_reason, c.paused_at,
           (SELECT count(*) FROM (
              SELECT 1 FROM outbox o
              WHERE ${outboxClientSql('o')} = c.client_id AND o.platform = c.platform AND o.status IN ('pending', 'retrying')
              LIMIT $2) w) AS waiting
         FROM connections c WHERE c.status = 'paused' AND ($1::text IS NULL OR c.client_id = $1) ORDER BY c.client_id, c.platform`,
        [filter.client_id ?? null, filter.upTo ?? null],
      );
      return rows.map((r) => {
        const h: HeldConnection = { connection_id: r.connection_id, client_id: r.client_id, platform: r.platform, waiting: Number(r.waiting) };
        if (r.status_reason !== null) h.reason = r.status_reason;
        if (r.paused_at !== null) h.paused_at = r.paused_at.toISOString();
        return h;
      });
    },
    async nextFollowUp() {
      const { rows } = await db.query<{ retry: Date | null; lease: Date | null }>(
        `SELECT (SELECT min(due_at) FROM outbox WHERE status = 'retrying') AS retry,
                (SELECT min(lease_until) FROM outbox WHERE lease_until IS NOT NULL) AS lease`,
      );
      const times = [iso(rows[0]?.retry), iso(rows[0]?.lease)].filter((t): t is string => t !== null).map((t) => Date.parse(t));
      return times.length > 0 ? new Date(Math.min(...times)) : undefined;
    },
  };
}

const FINAL: ReadonlySet<string> = new Set(FINAL_STATUSES);

/**
 * A batch's commit, inside one transaction: the rows' outcomes and the rows removed unsent (only
 * rows this owner still leases), their audit records and their daily counts, the Data
 * Manager requests to check, a connection pause and the connection's `last_used_at`.
 */
async function commitBatch(q: Queryable, input: OutboxCommit): Promise<void> {
  const at = input.now;
  if (input.updates.length > 0) {
    const { rows } = await q.query<{ id: string }>(OWNED_ROWS_SQL, [input.updates.map((x) => x.id), input.owner]);
    const owned = new Set(rows.map((r) => Number(r.id)));
    const u = input.updates.filter((x) => owned.has(x.id));
    if (u.length > 0) {
      await q.query(COMMIT_ROWS_SQL, [
        at,
        u.map((x) => x.id),
        u.map((x) => x.status),
        u.map((x) => x.due_at ?? null),
        u.map((x) => x.attempts),
        u.map((x) => x.first_attempt_at ?? null),
        u.map((x) => x.last_error ?? null),
        u.map((x) => FINAL.has(x.status)),
      ]);
    }
  }
  if (input.discard !== undefined && input.discard.length > 0) await q.query(DISCARD_SQL, [input.discard, input.owner]);
  await insertRecords(q, input.records);
  const g = input.googleRequests ?? [];
  if (g.length > 0) {
    await q.query(
      `INSERT INTO google_request_status (request_id, connection_id, client_id, events, sent_at, next_check_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::timestamptz[])
       ON CONFLICT (request_id) DO UPDATE SET events = google_request_status.events + excluded.events`,
      [g.map((x) => x.request_id), g.map((x) => x.connection_id), g.map((x) => x.client_id), g.map((x) => x.events), g.map((x) => x.sent_at), g.map((x) => x.next_check_at)],
    );
  }
  if (input.pause !== undefined) {
    await q.query(`UPDATE connections SET status = 'paused', status_reason = $1, paused_at = $2, updated_at = $2 WHERE id = $3`, [
      input.pause.reason,
      at,
      input.pause.connection_id,
    ]);
  }
  const used = usedConnections(input.records);
  if (used !== undefined) {
    // One statement per batch; GREATEST (which skips NULL) keeps the later time.
    await q.query('UPDATE connections SET last_used_at = GREATEST(last_used_at, $1::timestamptz) WHERE id = ANY($2::text[])', [used.at, used.ids]);
  }
}

/**
 * Appends records to the audit log and counts them in the daily roll-up (`daily_sends`), one
 * statement each; inside the caller's transaction. What every record would repeat is stored once
 * (`audit-row.ts`): the event as '' when the outbox row names it, the stage as NULL when it is the
 * event's (a lookup of each event by its key), the pass and the platform's request id in the
 * request's row of `send_requests`.
 */
async function insertRecords(q: Queryable, r: readonly AuditRecord[]): Promise<void> {
  if (r.length === 0) return;
  const text = r.map(storedAuditText);
  // The requests of the records of a pass, found or added (migration 019).
  const ofPasses = r.filter((x) => x.pass_id !== undefined);
  if (ofPasses.length > 0) {
    await q.query(
      `INSERT INTO send_requests (pass_id, request_id)
       SELECT DISTINCT p, q FROM unnest($1::text[], $2::text[]) AS t(p, q) ORDER BY p, q
       ON CONFLICT (pass_id, request_id) DO NOTHING`,
      [ofPasses.map((x) => x.pass_id), ofPasses.map((x) => x.request_id ?? '')],
    );
  }
  await q.query(
    // The client by its key (audit-row.ts, migration 026), by its id only for a client not stored.
    `INSERT INTO send_attempts (outbox_id, event_id, client_id, client_key, stage_id, platform, connection_id, attempted_at, status,
       reason, message, error_code, error, http_status, request_id, dedup_key, batch_size, retry_count, next_attempt_at,
       dry_run, pass_id, request_key)
     SELECT u.outbox_id, CASE WHEN u.event_id = (SELECT o.event_id FROM outbox o WHERE o.id = u.outbox_id) THEN '' ELSE u.event_id END,
       CASE WHEN c.key IS NULL THEN u.client_id END, c.key,
       CASE WHEN u.stage_id = (SELECT e.stage_id FROM events e WHERE e.id = u.event_id) THEN NULL ELSE u.stage_id END,
       u.platform, u.connection_id, u.attempted_at, u.status, u.reason, u.message, u.error_code, u.error, u.http_status,
       CASE WHEN u.pass_id IS NULL THEN u.request_id END, u.dedup_key, u.batch_size, u.retry_count, u.next_attempt_at,
       u.dry_run, NULL,
       (SELECT q.id FROM send_requests q WHERE q.pass_id = u.pass_id AND q.request_id = COALESCE(u.request_id, ''))
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::int[], $14::text[], $15::text[], $16::int[],
       $17::int[], $18::timestamptz[], $19::boolean[], $20::text[])
       WITH ORDINALITY AS u(outbox_id, event_id, client_id, stage_id, platform, connection_id, attempted_at, status, reason,
         message, error_code, error, http_status, request_id, dedup_key, batch_size, retry_count, next_attempt_at, dry_run,
         pass_id, n)
       LEFT JOIN clients c ON c.id = u.client_id
     ORDER BY u.n`,
    [
      r.map((x) => x.outbox_id),
      r.map((x) => x.event_id),
      r.map((x) => x.client_id),
      r.map((x) => x.stage_id ?? null),
      r.map((x) => x.platform),
      r.map((x) => x.connection_id ?? null),
      r.map((x) => x.attempted_at),
      r.map((x) => x.status),
      r.map((x) => x.reason ?? null),
      text.map((x) => x.message),
      r.map((x) => x.error_code ?? null),
      r.map((x) => x.error_message ?? null),
      r.map((x) => x.http_status ?? null),
      r.map((x) => x.request_id ?? null),
      text.map((x) => x.dedup_key),
      r.map((x) => x.batch_size ?? null),
      r.map((x) => x.retry_count),
      r.map((x) => x.next_attempt_at ?? null),
      r.map((x) => x.dry_run),
      r.map((x) => x.pass_id ?? null),
    ],
  );
  // One row per (client, day, platform, status), in key order: two commits sharing rows lock them in the same order.
  const c = sendCounts(r);
  await q.query(
    `INSERT INTO daily_sends (client_id, day, platform, status, count)
     SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::bigint[])
     ON CONFLICT (client_id, day, platform, status) DO UPDATE SET count = daily_sends.count + excluded.count`,
    [c.map((x) => x.client_id), c.map((x) => x.day), c.map((x) => x.platform), c.map((x) => x.status), c.map((x) => x.count)],
  );
}
