/**
 * `pruuv db copy --to postgres://…`: moves an existing install from its SQLite
 * file to an empty PostgreSQL database, every table as it is: clients and their
 * origins, stages with their hashed tokens, connections with their
 * still-encrypted credentials (and when they were last used), the last pixel
 * hit per origin, events, the outbox (pending rows keep their
 * leases and due times), the audit log, the send-run ledger, the Google
 * diagnostics, the daily roll-ups (exact counts of the rows copied with them), the held events and beacon throttle
 * counts, and the dashboard's users (their password hashes; sessions and
 * failed sign-ins are not copied: everyone signs in again), and what OAuth connections know
 * of their grants (pending authorizations and refresh leases are short-lived and not copied). Ids are kept, so
 * audit rows still point at their outbox rows.
 *
 * The copy reads one consistent snapshot of the SQLite file (a read transaction;
 * the collector may keep running, but what it stores after the snapshot is not
 * copied: stop it first) and writes in ONE PostgreSQL transaction, so a copy
 * that fails leaves the target empty and can simply be run again. It ends by
 * comparing the row count of every table on both sides.
 */
import { CollectorError } from '../errors.js';
import type { PostgresStore } from './postgres/index.js';
import type { Queryable } from './postgres/pool.js';
import type { SqliteStore } from './sqlite/index.js';

/** The copy cannot start or did not verify; the message says why. Nothing was committed to the target. */
export class CopyError extends CollectorError {
  override name = 'CopyError';
}

/** One table to copy: which columns, from which SQLite query, in which order. */
interface TableCopy {
  table: string;
  columns: readonly string[];
  /** SELECT of the SQLite side, its result columns named as `columns`, in insertion order. */
  select: string;
  /** Keep the ids of an identity column (`OVERRIDING SYSTEM VALUE`) and move its sequence past them. */
  identity?: string;
}

const EVENT_COLUMNS = [
  'id', 'client_id', 'stage_id', 'stage_key', 'source', 'reference', 'item_reference', 'revenue_value', 'currency',
  'data_timestamp', 'received_at', 'received_ms', 'client_time', 'consent',
  'fbclid', 'fbclid_ts', 'gclid', 'gclid_ts', 'wbraid', 'wbraid_ts', 'gbraid', 'gbraid_ts', 'ttclid', 'ttclid_ts', 'msclkid', 'msclkid_ts',
  'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term', 'fbc', 'fbp', 'ttp',
  'email_sha256', 'email_sha256_google', 'email_sha256_microsoft', 'phone_sha256', 'phone_sha256_meta', 'email_rejected', 'phone_rejected', 'visitor_id', 'client_ip', 'user_agent', 'page_url',
  'referrer', 'first_touch', 'last_touch', 'demographics', 'inherited_from', 'inherited_fields', 'held_reason', 'released_at', 'user_agent_key',
] as const;

/** The hash columns, which SQLite rows hold as 32 bytes (or, written before, hex) and PostgreSQL as hex text. */
const HASH_COLUMNS: ReadonlySet<string> = new Set(['email_sha256', 'email_sha256_google', 'email_sha256_microsoft', 'phone_sha256', 'phone_sha256_meta']);

/**
 * The SQLite side of each event column: the column itself, but `received_at`, which a row stores
 * once as '' (src/store/event-row.ts) and PostgreSQL as the instant: made from `received_ms` there;
 * and a hash, as hex (src/store/event-row.ts, `HashEncoding`).
 */
const EVENT_SELECT = EVENT_COLUMNS.map((c) =>
  c === 'received_at'
    ? `CASE WHEN received_at = '' THEN strftime('%Y-%m-%dT%H:%M:%S', received_ms / 1000, 'unixepoch') || printf('.%03dZ', received_ms % 1000) ELSE received_at END AS received_at`
    : HASH_COLUMNS.has(c)
      ? `CASE WHEN typeof(${c}) = 'blob' THEN lower(hex(${c})) ELSE ${c} END AS ${c}`
      : c,
).join(', ');

const list = (columns: readonly string[]): string => columns.join(', ');

/** The tables in an order that satisfies every foreign key. */
const TABLES: readonly TableCopy[] = [
  {
    table: 'clients',
    // Keys are kept: the audit records name their client by it (audit-row.ts).
    identity: 'key',
    columns: ['id', 'name', 'site_key', 'default_country', 'created_at', 'key'],
    select: 'SELECT id, name, site_key, default_country, created_at, key FROM clients ORDER BY created_at, rowid',
  },
  { table: 'client_origins', columns: ['client_id', 'origin'], select: 'SELECT client_id, origin FROM client_origins ORDER BY rowid' },
  {
    table: 'stages',
    columns: ['id', 'client_id', 'key', 'name', 'token_hash', 'event_names', 'created_at'],
    select: 'SELECT id, client_id, key, name, token_hash, event_names, created_at FROM stages ORDER BY created_at, rowid',
  },
  {
    table: 'connections',
    columns: ['id', 'client_id', 'platform', 'settings', 'secrets', 'secret_names', 'status', 'status_reason', 'paused_at', 'last_used_at', 'created_at', 'updated_at'],
    select:
      'SELECT id, client_id, platform, settings, secrets, secret_names, status, status_reason, paused_at, last_used_at, created_at, updated_at FROM connections ORDER BY rowid',
  },
  {
    table: 'pixel_origins',
    columns: ['client_id', 'origin', 'last_seen_at'],
    select: 'SELECT client_id, origin, last_seen_at FROM pixel_origins ORDER BY client_id, origin',
  },
  {
    table: 'users',
    columns: ['id', 'email', 'role', 'client_id', 'password_hash', 'password_changed_at', 'created_at'],
    select: 'SELECT id, email, role, client_id, password_hash, password_changed_at, created_at FROM users ORDER BY created_at, rowid',
  },
  {
    table: 'user_agents',
    identity: 'id',
    columns: ['id', 'user_agent', 'last_ms'],
    select: 'SELECT id, user_agent, last_ms FROM user_agents ORDER BY id',
  },
  { table: 'events', columns: EVENT_COLUMNS, select: `SELECT ${EVENT_SELECT} FROM events ORDER BY rowid` },
  {
    table: 'outbox',
    identity: 'id',
    columns: ['id', 'event_id', 'client_id', 'platform', 'status', 'due_at', 'attempts', 'lease_owner', 'lease_until', 'last_error', 'first_attempt_at', 'finished_at', 'created_at', 'updated_at', 'frozen_fields'],
    // A row's client is its event's, stored as NULL (outbox-row.ts; rows written before migration
    // 027 store it, rows written before 002 do not): copied as NULL, as PostgreSQL stores it. A
    // creation time or a finished row's due time not stored ('') is NULL there. A SQLite row's
    // `event_ms` (its key's first column, migration 031) is its event's `received_ms`, which
    // PostgreSQL's rows read from the event: not a column there.
    select: `SELECT o.id, o.event_id, NULLIF(o.client_id, e.client_id) AS client_id, o.platform, o.status, NULLIF(o.due_at, '') AS due_at, o.attempts, o.lease_owner,
      o.lease_until, o.last_error, o.first_attempt_at, o.finished_at, NULLIF(o.created_at, '') AS created_at, o.updated_at, o.frozen_fields
      FROM outbox o JOIN events e ON e.id = o.event_id ORDER BY o.id`,
  },
  {
    table: 'send_requests',
    identity: 'id',
    columns: ['id', 'pass_id', 'request_id'],
    select: 'SELECT id, pass_id, request_id FROM send_requests ORDER BY id',
  },
  {
    table: 'send_attempts',
    identity: 'id',
    columns: ['id', 'outbox_id', 'event_id', 'client_id', 'client_key', 'stage_id', 'platform', 'connection_id', 'attempted_at', 'status', 'reason', 'message', 'error_code', 'error', 'http_status', 'request_id', 'dedup_key', 'batch_size', 'retry_count', 'next_attempt_at', 'dry_run', 'pass_id', 'request_key'],
    select: `SELECT id, outbox_id, event_id, client_id, client_key, stage_id, platform, connection_id, attempted_at, status, reason, message, error_code, error,
      http_status, request_id, dedup_key, batch_size, retry_count, next_attempt_at, CASE dry_run WHEN 1 THEN 'true' ELSE 'false' END AS dry_run, pass_id,
      request_key
      FROM send_attempts ORDER BY id`,
  },
  {
    table: 'send_runs',
    columns: ['slot', 'owner', 'trigger', 'started_at', 'finished_at', 'summary'],
    select: 'SELECT slot, owner, trigger, started_at, finished_at, summary FROM send_runs ORDER BY slot',
  },
  {
    table: 'daily_events',
    columns: ['client_id', 'day', 'stage_id', 'ids', 'events', 'email', 'phone'],
    select: 'SELECT client_id, day, stage_id, ids, events, email, phone FROM daily_events ORDER BY client_id, day, stage_id, ids',
  },
  {
    table: 'daily_sends',
    columns: ['client_id', 'day', 'platform', 'status', 'count'],
    select: 'SELECT client_id, day, platform, status, count FROM daily_sends ORDER BY client_id, day, platform, status',
  },
  {
    table: 'google_request_status',
    columns: ['request_id', 'connection_id', 'client_id', 'events', 'sent_at', 'status', 'checks', 'next_check_at', 'checked_at', 'records', 'errors', 'warnings', 'last_error'],
    select: `SELECT request_id, connection_id, client_id, events, sent_at, status, checks, next_check_at, checked_at, records, errors, warnings, last_error
      FROM google_request_status ORDER BY rowid`,
  },
  {
    table: 'beacon_throttles',
    columns: ['client_id', 'window_start', 'scope', 'count'],
    select: 'SELECT client_id, window_start, scope, count FROM beacon_throttles ORDER BY rowid',
  },
  {
    table: 'oauth_grants',
    columns: ['connection_id', 'granted_at', 'access_expires_at', 'refresh_expires_at', 'user_action_by', 'refreshed_at', 'scopes'],
    select: 'SELECT connection_id, granted_at, access_expires_at, refresh_expires_at, user_action_by, refreshed_at, scopes FROM oauth_grants ORDER BY rowid',
  },
];

/** Rows per INSERT: PostgreSQL takes at most 65,535 parameters per statement. */
function batchSize(columns: number): number {
  return Math.max(1, Math.min(1000, Math.floor(60_000 / columns)));
}

async function insertBatch(q: Queryable, t: TableCopy, rows: Array<Record<string, unknown>>): Promise<void> {
  const values: unknown[] = [];
  const tuples = rows.map((row) => `(${t.columns.map((c) => `$${values.push(row[c] ?? null)}`).join(', ')})`);
  await q.query(
    `INSERT INTO ${t.table} (${list(t.columns)}) ${t.identity !== undefined ? 'OVERRIDING SYSTEM VALUE ' : ''}VALUES ${tuples.join(', ')}`,
    values,
  );
}

/** What a copy did: rows per table, the same on both sides. */
export interface CopyReport {
  tables: Array<{ table: string; rows: number }>;
  total: number;
  duration_ms: number;
}

/** Options of {@link copySqliteToPostgres}. */
export interface CopyOptions {
  /** Called after each batch with the table and the rows copied so far. */
  progress?: (table: string, rows: number) => void;
}

/**
 * Copies every table of `source` into `target`, which must hold no data
 * (migrated, empty). Verifies the row counts.
 *
 * @throws {CopyError} when the target holds data, or the counts differ (then nothing is committed).
 */
export async function copySqliteToPostgres(source: SqliteStore, target: PostgresStore, options: CopyOptions = {}): Promise<CopyReport> {
  const started = Date.now();
  const filled: Array<{ table: string }> = [];
  for (const t of TABLES) {
    const { rows } = await target.pool.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${t.table}) AS any`);
    if (rows[0]?.any) filled.push({ table: t.table });
  }
  if (filled.length > 0) {
    throw new CopyError(
      `The PostgreSQL database ${target.location} already holds data (${filled.map((r) => r.table).join(', ')}): copy into an empty database only, so nothing is mixed or overwritten.`,
    );
  }
  const db = source.db;
  const tables: CopyReport['tables'] = [];
  // One snapshot of the SQLite file for every table: a read transaction held for the whole copy.
  db.exec('BEGIN');
  try {
    await target.pool.transaction(async (q) => {
      for (const t of TABLES) {
        let copied = 0;
        let batch: Array<Record<string, unknown>> = [];
        const size = batchSize(t.columns.length);
        for (const row of db.prepare(t.select).iterate() as IterableIterator<Record<string, unknown>>) {
          batch.push(row);
          if (batch.length === size) {
            await insertBatch(q, t, batch);
            copied += batch.length;
            batch = [];
            options.progress?.(t.table, copied);
          }
        }
        if (batch.length > 0) {
          await insertBatch(q, t, batch);
          copied += batch.length;
          options.progress?.(t.table, copied);
        }
        if (t.identity !== undefined) {
          await q.query(
            `SELECT setval(pg_get_serial_sequence('${t.table}', '${t.identity}'), GREATEST((SELECT max(${t.identity}) FROM ${t.table}), 1), (SELECT count(*) > 0 FROM ${t.table}))`,
          );
        }
        const expected = (db.prepare(`SELECT COUNT(*) AS n FROM ${t.table}`).get() as { n: number }).n;
        const { rows } = await q.query<{ n: string }>(`SELECT count(*) AS n FROM ${t.table}`);
        const got = Number(rows[0]?.n ?? 0);
        if (got !== expected || copied !== expected) {
          throw new CopyError(`Table ${t.table}: ${expected} rows in the SQLite file, ${got} in PostgreSQL after the copy. Nothing was committed.`);
        }
        tables.push({ table: t.table, rows: got });
      }
    });
  } finally {
    db.exec('COMMIT');
  }
  return { tables, total: tables.reduce((n, t) => n + t.rows, 0), duration_ms: Date.now() - started };
}
