/**
 * Reading the SQLite conversion audit log (`send_attempts`) and the Google
 * diagnostics (`google_request_status`), newest first. Each filter is an
 * equality on an indexed column, read in rowid order: no sort, no scan of the
 * whole log.
 */
import { AUDIT_CLIENT_SQL, AUDIT_EVENT_SQL, AUDIT_MS_SQLITE_SQL, AUDIT_PASS_SQL, AUDIT_REQUEST_SQL, AUDIT_STAGE_SQL, clientKeySql, readAuditText } from '../audit-row.js';
import { pageLimits, readPage, type Direction, type Position } from '../keyset.js';
import { sendMatches, sendShape, STATUS_INDEXED, statusIndexed, type SendShape } from '../send-search.js';
import type {
  GoogleRequestStatus,
  GoogleRequestStore,
  ReasonCountRow,
  SendAttempt,
  SendLogStore,
  SendSearch,
} from '../types.js';
import type { Db } from './db.js';
import { outboxOfEventsSql } from './outbox.js';

/**
 * An event's audit records, by the integer keys of its outbox rows (send_attempts_outbox): records
 * reference their event through its outbox row, whose id grows with time, so the audit log needs
 * no index on the event's UUID, into which each record of a random (version 4) id would go at a
 * random place (migration 017, bench/storage.mjs). The rows are found through the outbox's key
 * (event_ms, event_id, platform; migration 031), the event's receive time by its primary key.
 */
export const OF_EVENT = `outbox_id IN (${outboxOfEventsSql('@event_id', 'o.id')})`;

/** A record's client by its key (the client indexes' key, migration 032), from the client's id. */
const OF_CLIENT = `client_key = ${clientKeySql('@client_id')}`;

/**
 * `WHERE column = @column AND …` for each column given a value (empty when none), with `limit` in
 * the parameters; in the audit log (`audit`), a client through its key.
 */
function equalities(
  columns: Record<string, string | undefined>,
  limit: number,
  audit = false,
): { where: string; params: Record<string, string | number> } {
  const params: Record<string, string | number> = { limit };
  const terms: string[] = [];
  for (const [column, value] of Object.entries(columns)) {
    if (value === undefined) continue;
    terms.push(column === 'event_id' ? OF_EVENT : audit && column === 'client_id' ? OF_CLIENT : `${column} = @${column}`);
    // The status indexes hold every status but `sent` (migration 023).
    if (column === 'status' && statusIndexed(value)) terms.push(STATUS_INDEXED);
    params[column] = value;
  }
  return { where: terms.length > 0 ? `WHERE ${terms.join(' AND ')}` : '', params };
}

/** The columns of a record; its event and stage through its outbox row when stored as '' and NULL (audit-row.ts). */
const SEND_COLUMNS = [
  'id',
  'attempted_at',
  `${AUDIT_CLIENT_SQL} AS client_id`,
  `${AUDIT_STAGE_SQL} AS stage_id`,
  `${AUDIT_EVENT_SQL} AS event_id`,
  'platform',
  'connection_id',
  'status',
  'reason',
  'message',
  'error_code',
  'error',
  'http_status',
  `${AUDIT_REQUEST_SQL} AS request_id`,
  'dedup_key',
  'batch_size',
  'retry_count',
  'next_attempt_at',
  'dry_run',
  `${AUDIT_PASS_SQL} AS pass_id`,
].join(', ');

interface SendRow extends Omit<SendAttempt, 'error_message' | 'dry_run'> {
  error: string | null;
  dry_run: number;
}

const fromSendRow = ({ error, dry_run, ...rest }: SendRow): SendAttempt => ({ ...rest, ...readAuditText(rest), error_message: error, dry_run: dry_run === 1 });

/** The index each shape of {@link SendSearch} reads, pinned: its order is the list's (but for an event's few rows). */
const SEARCH_INDEX: Record<SendShape, string> = {
  event: 'send_attempts_outbox',
  client_status: 'send_attempts_client_status_time',
  status: 'send_attempts_status_time',
  client: 'send_attempts_client_time',
  all: 'send_attempts_time',
};

/** A record's attempt instant in ms, the time indexes' key (migration 028). */
const MS = AUDIT_MS_SQLITE_SQL;

/**
 * The statement of one read of {@link SendLogStore.search} (exported for the plan tests): the
 * query's shape and bounds, `direction`, and a keyset bound `@t` (ms since the epoch), `@id` when
 * `withCursor`; `@n` rows. Its parameters but `t`, `id` and `n`. The time indexes are keyed by
 * the attempt's instant in ms ({@link AUDIT_MS_SQLITE_SQL}), which orders as the ISO 8601 text
 * does; they end with the rowid (`id`), the keyset's tie-break.
 */
export function sendSearchSql(query: SendSearch, direction: Direction, withCursor: boolean): { sql: string; params: Record<string, unknown> } {
  const shape = sendShape(query);
  const terms: string[] = [];
  const params: Record<string, unknown> = {};
  if (shape === 'event') {
    terms.push(OF_EVENT);
    params['event_id'] = query.event_id;
  }
  if (shape === 'client' || shape === 'client_status') {
    terms.push(OF_CLIENT);
    params['client_id'] = query.client_id;
  }
  if (shape === 'status' || shape === 'client_status') {
    terms.push(STATUS_INDEXED, 'status = @status');
    params['status'] = query.status;
  }
  if (query.attempted_from !== undefined) {
    terms.push(`${MS} >= @from`);
    params['from'] = Date.parse(query.attempted_from);
  }
  if (query.attempted_before !== undefined) {
    terms.push(`${MS} < @before`);
    params['before'] = Date.parse(query.attempted_before);
  }
  const [cmp, order] = direction === 'older' ? ['<', 'DESC'] : ['>', 'ASC'];
  if (withCursor) terms.push(`${MS} ${cmp}= @t AND (${MS} ${cmp} @t OR id ${cmp} @id)`);
  const sql = `SELECT ${SEND_COLUMNS} FROM send_attempts INDEXED BY ${SEARCH_INDEX[shape]}
    ${terms.length > 0 ? `WHERE ${terms.join(' AND ')}` : ''}
    ORDER BY ${MS} ${order}, id ${order} LIMIT @n`;
  return { sql, params };
}

/** {@link SendLogStore.search}: one statement per shape, direction and set of bounds, prepared once. */
function createSearch(db: Db): SendLogStore['search'] {
  const statements = new Map<string, { all(params: Record<string, unknown>): SendRow[] }>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare<[Record<string, unknown>], SendRow>(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  return async (query: SendSearch) => {
    const { limit, scanLimit } = pageLimits(query.limit, query.scan_limit);
    const fetch = async (from: Position | undefined, direction: Direction, n: number): Promise<SendRow[]> => {
      const { sql, params } = sendSearchSql(query, direction, from !== undefined);
      return prepared(sql).all({ ...params, ...(from !== undefined ? { t: from.t, id: from.id } : {}), n });
    };
    const matches = sendMatches(query, sendShape(query));
    const page = await readPage<SendRow>(
      { fetch, position: (row) => ({ t: Date.parse(row.attempted_at), id: row.id }), ...(matches !== undefined ? { matches } : {}) },
      query.cursor,
      limit,
      scanLimit,
    );
    return { ...page, rows: page.rows.map(fromSendRow) };
  };
}

/** The audit log of the SQLite store. */
export function createSendLog(db: Db): SendLogStore {
  return {
    search: createSearch(db),
    async list(query) {
      const { where, params } = equalities(
        { status: query.status, platform: query.platform, client_id: query.client_id, event_id: query.event_id },
        query.limit,
        true,
      );
      return db
        // Newest first through the index of the filters' shape (send_attempts_client_status_time,
        // _status_time, _client_time, _time; an event's few rows through send_attempts_outbox).
        .prepare<[Record<string, string | number>], SendRow>(
          `SELECT ${SEND_COLUMNS} FROM send_attempts ${where} ORDER BY ${MS} DESC, id DESC LIMIT @limit`,
        )
        .all(params)
        .map(fromSendRow);
    },
  };
}

/** A row of `google_request_status`: the reason counts as JSON text. */
interface GoogleRow extends Omit<GoogleRequestStatus, 'errors' | 'warnings'> {
  errors: string | null;
  warnings: string | null;
}

function fromGoogleRow(r: GoogleRow): GoogleRequestStatus {
  return {
    ...r,
    errors: r.errors === null ? [] : (JSON.parse(r.errors) as ReasonCountRow[]),
    warnings: r.warnings === null ? [] : (JSON.parse(r.warnings) as ReasonCountRow[]),
  };
}

/** The Google diagnostics of the SQLite store. */
export function createGoogleRequests(db: Db): GoogleRequestStore {
  const due = db.prepare<[string, number], GoogleRow>(
    `SELECT * FROM google_request_status WHERE next_check_at IS NOT NULL AND next_check_at <= ?
     ORDER BY next_check_at LIMIT ?`,
  );
  const earliest = db.prepare<[], { at: string | null }>(
    'SELECT MIN(next_check_at) AS at FROM google_request_status WHERE next_check_at IS NOT NULL',
  );
  const update = db.prepare(
    `UPDATE google_request_status SET status = @status, checks = checks + 1, next_check_at = @next_check_at,
       checked_at = @checked_at, records = COALESCE(@records, records), errors = COALESCE(@errors, errors),
       warnings = COALESCE(@warnings, warnings), last_error = @last_error
     WHERE request_id = @request_id`,
  );
  return {
    async list(query) {
      const { where, params } = equalities({ status: query.status, client_id: query.client_id }, query.limit);
      return db
        .prepare<[Record<string, string | number>], GoogleRow>(`SELECT * FROM google_request_status ${where} ORDER BY rowid DESC LIMIT @limit`)
        .all(params)
        .map(fromGoogleRow);
    },
    async due(now, limit) {
      return due.all(now.toISOString(), limit).map(fromGoogleRow);
    },
    async record(check) {
      update.run({
        ...check,
        errors: check.errors === null ? null : JSON.stringify(check.errors),
        warnings: check.warnings === null ? null : JSON.stringify(check.warnings),
      });
    },
    async nextDue() {
      const at = earliest.get()?.at;
      return at ? new Date(at) : undefined;
    },
  };
}
