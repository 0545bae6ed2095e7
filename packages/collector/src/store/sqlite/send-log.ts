/**
 * Reading the SQLite conversion audit log (`send_attempts`) and the Google
 * diagnostics (`google_request_status`), newest first. Each filter is an
 * equality on an indexed column, read in rowid order: no sort, no scan of the
 * whole log.
 */
import type {
  GoogleRequestStatus,
  GoogleRequestStore,
  ReasonCountRow,
  SendAttempt,
  SendLogStore,
} from '../types.js';
import type { Db } from './db.js';

/** `WHERE column = @column AND …` for each column given a value (empty when none), with `limit` in the parameters. */
function equalities(
  columns: Record<string, string | undefined>,
  limit: number,
): { where: string; params: Record<string, string | number> } {
  const params: Record<string, string | number> = { limit };
  const terms: string[] = [];
  for (const [column, value] of Object.entries(columns)) {
    if (value === undefined) continue;
    terms.push(`${column} = @${column}`);
    params[column] = value;
  }
  return { where: terms.length > 0 ? `WHERE ${terms.join(' AND ')}` : '', params };
}

const SEND_COLUMNS = [
  'id',
  'attempted_at',
  'client_id',
  'stage_id',
  'event_id',
  'platform',
  'connection_id',
  'status',
  'reason',
  'message',
  'error_code',
  'error',
  'http_status',
  'request_id',
  'dedup_key',
  'batch_size',
  'retry_count',
  'next_attempt_at',
  'dry_run',
  'pass_id',
].join(', ');

interface SendRow extends Omit<SendAttempt, 'error_message' | 'dry_run'> {
  error: string | null;
  dry_run: number;
}

/** The audit log of the SQLite store. */
export function createSendLog(db: Db): SendLogStore {
  return {
    async list(query) {
      const { where, params } = equalities(
        { status: query.status, platform: query.platform, client_id: query.client_id, event_id: query.event_id },
        query.limit,
      );
      return db
        .prepare<[Record<string, string | number>], SendRow>(`SELECT ${SEND_COLUMNS} FROM send_attempts ${where} ORDER BY id DESC LIMIT @limit`)
        .all(params)
        .map(({ error, dry_run, ...rest }) => ({ ...rest, error_message: error, dry_run: dry_run === 1 }));
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
