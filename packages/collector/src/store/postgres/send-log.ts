/**
 * Reading the PostgreSQL conversion audit log and the Google diagnostics,
 * newest first; each filter is an equality on an indexed column whose index
 * ends with the row order, so `LIMIT n` reads n entries.
 */
import { AUDIT_CLIENT_SQL, AUDIT_EVENT_SQL, AUDIT_PASS_SQL, AUDIT_REQUEST_SQL, AUDIT_STAGE_SQL, clientKeySql, readAuditText } from '../audit-row.js';
import { pageLimits, readPage, type Direction, type Position } from '../keyset.js';
import { rowBounds, rowOrder, type TimeColumn } from './keyset-sql.js';
import { sendMatches, sendShape, STATUS_INDEXED, statusIndexed } from '../send-search.js';
import type { GoogleRequestStatus, GoogleRequestStore, ReasonCountRow, SendAttempt, SendLogStore, SendSearch } from '../types.js';
import type { StorePool } from './pool.js';

/** `WHERE column = $k AND …` for each column given a value, and the values, `limit` last. */
/**
 * An event's audit records, by the integer keys of its outbox rows (send_attempts_outbox): records
 * reference their event through its outbox row, whose id grows with time, so the audit log needs
 * no index on the event's UUID, into which each record of a random (version 4) id would go at a
 * random place (migration 012, bench/storage.mjs).
 */
const ofEvent = (param: string): string => `outbox_id IN (SELECT o.id FROM outbox o WHERE o.event_id = ${param})`;

/** A record's client by its key (the client indexes' key, migration 026), from the client's id in `param`. */
const ofClient = (param: string): string => `client_key = ${clientKeySql(param)}`;

/** In the audit log (`audit`), a client through its key. */
function equalities(
  columns: Record<string, string | undefined>,
  limit: number,
  audit = false,
): { where: string; values: unknown[]; limitParam: string } {
  const values: unknown[] = [];
  const terms: string[] = [];
  for (const [column, value] of Object.entries(columns)) {
    if (value === undefined) continue;
    values.push(value);
    const param = `$${values.length}`;
    terms.push(column === 'event_id' ? ofEvent(param) : audit && column === 'client_id' ? ofClient(param) : `${column} = ${param}`);
    // The status indexes hold every status but `sent` (migration 018).
    if (column === 'status' && statusIndexed(value)) terms.push(STATUS_INDEXED);
  }
  values.push(limit);
  return { where: terms.length > 0 ? `WHERE ${terms.join(' AND ')}` : '', values, limitParam: `$${values.length}` };
}

interface SendRow {
  id: string;
  attempted_at: Date;
  client_id: string | null;
  stage_id: string | null;
  event_id: string;
  platform: SendAttempt['platform'];
  connection_id: string | null;
  status: SendAttempt['status'];
  reason: string | null;
  message: string | null;
  error_code: string | null;
  error: string | null;
  http_status: number | null;
  request_id: string | null;
  dedup_key: string | null;
  batch_size: number | null;
  retry_count: number;
  next_attempt_at: Date | null;
  dry_run: boolean;
  pass_id: string | null;
}

/** The columns of a record; its event and stage through its outbox row when stored as '' and NULL (audit-row.ts). */
const SEND_COLUMNS = `id, attempted_at, ${AUDIT_CLIENT_SQL} AS client_id, ${AUDIT_STAGE_SQL} AS stage_id, ${AUDIT_EVENT_SQL} AS event_id, platform,
  connection_id, status, reason, message, error_code, error, http_status, ${AUDIT_REQUEST_SQL} AS request_id, dedup_key,
  batch_size, retry_count, next_attempt_at, dry_run, ${AUDIT_PASS_SQL} AS pass_id`;

function fromSendRow(r: SendRow): SendAttempt {
  return {
    id: Number(r.id),
    attempted_at: r.attempted_at.toISOString(),
    client_id: r.client_id,
    stage_id: r.stage_id,
    event_id: r.event_id,
    platform: r.platform,
    connection_id: r.connection_id,
    status: r.status,
    reason: r.reason,
    error_code: r.error_code,
    error_message: r.error,
    http_status: r.http_status,
    request_id: r.request_id,
    batch_size: r.batch_size,
    retry_count: r.retry_count,
    next_attempt_at: r.next_attempt_at?.toISOString() ?? null,
    dry_run: r.dry_run,
    pass_id: r.pass_id,
    ...readAuditText(r),
  };
}

/**
 * The statement of one read of {@link SendLogStore.search} (exported for the plan tests): newest
 * first by (attempted_at, id); bounds on `(client_key, status, attempted_at, id)`,
 * `(status, attempted_at, id)`, `(client_key, attempted_at, id)` or `(attempted_at, id)` (see
 * `keyset-sql.ts`: only the shape's own index has that order), or an event's few rows through
 * send_attempts_outbox, sorted; the keyset bound (t, id) when `cursor` is given; `n` rows.
 */
export function sendSearchSql(query: SendSearch, direction: Direction, cursor: Position | undefined, n: number): { text: string; values: unknown[] } {
  const shape = sendShape(query);
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const terms: string[] = [];
  const prefix: Array<[string, unknown, ((param: string) => string)?]> = [];
  if (shape === 'event') terms.push(ofEvent(param(query.event_id)));
  // The client's key, looked up once (an InitPlan) and bound in the row like a value.
  if (shape === 'client' || shape === 'client_status') prefix.push(['client_key', query.client_id, clientKeySql]);
  if (shape === 'status' || shape === 'client_status') {
    prefix.push(['status', query.status]);
    terms.push(STATUS_INDEXED);
  }
  const range: { from?: number; before?: number } = {};
  if (query.attempted_from !== undefined) range.from = Date.parse(query.attempted_from);
  if (query.attempted_before !== undefined) range.before = Date.parse(query.attempted_before);
  terms.push(...rowBounds(prefix, ATTEMPTED, 'id', range, direction, cursor, param));
  return {
    text: `SELECT ${SEND_COLUMNS} FROM send_attempts ${terms.length > 0 ? `WHERE ${terms.join(' AND ')}` : ''}
       ORDER BY ${rowOrder(prefix, ATTEMPTED, 'id', direction)} LIMIT ${param(n)}`,
    values,
  };
}

const ATTEMPTED: TimeColumn = { name: 'attempted_at', cast: 'timestamptz' };

/** {@link SendLogStore.search}. */
async function search(db: StorePool, query: SendSearch) {
  const { limit, scanLimit } = pageLimits(query.limit, query.scan_limit);
  const fetch = async (from: Position | undefined, direction: Direction, n: number): Promise<SendRow[]> => {
    const { text, values } = sendSearchSql(query, direction, from, n);
    return (await db.query<SendRow>(text, values)).rows;
  };
  const matches = sendMatches(query, sendShape(query));
  const page = await readPage<SendRow>(
    { fetch, position: (row) => ({ t: row.attempted_at.getTime(), id: Number(row.id) }), ...(matches !== undefined ? { matches } : {}) },
    query.cursor,
    limit,
    scanLimit,
  );
  return { ...page, rows: page.rows.map(fromSendRow) };
}

/** The audit log of the PostgreSQL store. */
export function createSendLog(db: StorePool): SendLogStore {
  return {
    async list(query) {
      const { where, values, limitParam } = equalities(
        { status: query.status, platform: query.platform, client_id: query.client_id, event_id: query.event_id },
        query.limit,
        true,
      );
      // Newest first through the index of the filters' shape (send_attempts_client_status_time,
      // _status_time, _client_time, _time; an event's few rows through send_attempts_outbox).
      const { rows } = await db.query<SendRow>(`SELECT ${SEND_COLUMNS} FROM send_attempts ${where} ORDER BY attempted_at DESC, id DESC LIMIT ${limitParam}`, values);
      return rows.map(fromSendRow);
    },
    search: (query) => search(db, query),
  };
}

interface GoogleRow {
  request_id: string;
  connection_id: string;
  client_id: string;
  events: number;
  sent_at: Date;
  status: GoogleRequestStatus['status'];
  checks: number;
  next_check_at: Date | null;
  checked_at: Date | null;
  records: number | null;
  errors: ReasonCountRow[] | null;
  warnings: ReasonCountRow[] | null;
  last_error: string | null;
}

function fromGoogleRow(r: GoogleRow): GoogleRequestStatus {
  return {
    request_id: r.request_id,
    connection_id: r.connection_id,
    client_id: r.client_id,
    events: r.events,
    sent_at: r.sent_at.toISOString(),
    status: r.status,
    checks: r.checks,
    next_check_at: r.next_check_at?.toISOString() ?? null,
    checked_at: r.checked_at?.toISOString() ?? null,
    records: r.records,
    errors: r.errors ?? [],
    warnings: r.warnings ?? [],
    last_error: r.last_error,
  };
}

const GOOGLE_COLUMNS =
  'request_id, connection_id, client_id, events, sent_at, status, checks, next_check_at, checked_at, records, errors, warnings, last_error';

/** The Google diagnostics of the PostgreSQL store. */
export function createGoogleRequests(db: StorePool): GoogleRequestStore {
  return {
    async list(query) {
      const { where, values, limitParam } = equalities({ status: query.status, client_id: query.client_id }, query.limit);
      const { rows } = await db.query<GoogleRow>(`SELECT ${GOOGLE_COLUMNS} FROM google_request_status ${where} ORDER BY seq DESC LIMIT ${limitParam}`, values);
      return rows.map(fromGoogleRow);
    },
    async due(now, limit) {
      const { rows } = await db.query<GoogleRow>(
        `SELECT ${GOOGLE_COLUMNS} FROM google_request_status WHERE next_check_at IS NOT NULL AND next_check_at <= $1 ORDER BY next_check_at LIMIT $2`,
        [now, limit],
      );
      return rows.map(fromGoogleRow);
    },
    async record(check) {
      await db.query(
        `UPDATE google_request_status SET status = $2, checks = checks + 1, next_check_at = $3, checked_at = $4,
           records = COALESCE($5, records), errors = COALESCE($6::jsonb, errors), warnings = COALESCE($7::jsonb, warnings), last_error = $8
         WHERE request_id = $1`,
        [
          check.request_id,
          check.status,
          check.next_check_at,
          check.checked_at,
          check.records,
          check.errors === null ? null : JSON.stringify(check.errors),
          check.warnings === null ? null : JSON.stringify(check.warnings),
          check.last_error,
        ],
      );
    },
    async nextDue() {
      const { rows } = await db.query<{ at: Date | null }>('SELECT min(next_check_at) AS at FROM google_request_status WHERE next_check_at IS NOT NULL');
      return rows[0]?.at ?? undefined;
    },
  };
}
