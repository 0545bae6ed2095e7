/**
 * Google Data Manager diagnostics. Data Manager answers a batch with 200 before
 * it matches a click, so a `sent` in the audit log says only that Google took the
 * batch. The request id of each delivered batch is kept in `google_request_status`
 * (written with the batch's audit rows, `sqlite-outbox.ts`); after each send pass
 * the due ones are checked with `requestStatus:retrieve`, 30 minutes after the 200
 * and then with backoff until final (`nextStatusCheck`), and the result is kept:
 * the final status and the records per error reason (`PROCESSING_ERROR_REASON_INVALID_GCLID`…).
 * Counts are per request, not per event: Google does not say which events failed.
 */
import {
  buildRequestStatusRequest,
  createTokenBucket,
  nextStatusCheck,
  readRequestStatus,
  sendHttp,
  type ApiVersions,
  type FetchLike,
  type OutboxStore,
  type PlatformUrls,
  type ReasonCount,
  type RequestStatusReading,
  type TokenCache,
} from '@pruuv/sender';
import type { Logger } from 'pino';
import { z } from 'zod';
import { limitSchema } from '../admin-input.js';
import type { Db } from '../db.js';
import { equalities, parseListFilter } from '../list-filter.js';

/** Where a request's diagnostics stand. */
export type GoogleRequestState =
  | 'PENDING'
  | 'SUCCESS'
  | 'PARTIAL_SUCCESS'
  | 'FAILED'
  | 'REQUEST_STATUS_UNKNOWN'
  /** No status will come (unknown request id, connection removed, access denied). */
  | 'UNAVAILABLE'
  /** Still not final 7 days after the 200. */
  | 'GAVE_UP';

/** The diagnostics of one Data Manager request. */
export interface GoogleRequestStatus {
  request_id: string;
  connection_id: string;
  client_id: string;
  /** Events the request carried. */
  events: number;
  /** ISO 8601: when Google answered 200. */
  sent_at: string;
  status: GoogleRequestState;
  /** Checks made so far. */
  checks: number;
  /** ISO 8601, `null` once the status is final. */
  next_check_at: string | null;
  /** ISO 8601 of the last check. */
  checked_at: string | null;
  /** Records Google ingested, when it says. */
  records: number | null;
  /** Records per error reason, most first. */
  errors: ReasonCount[];
  warnings: ReasonCount[];
  /** Why the last check did not give a final status (`HTTP 503`, `connection removed`…). */
  last_error: string | null;
}

/** What one round of checks did. */
export interface GoogleStatusSummary {
  /** Requests checked. */
  checked: number;
  /** Of those, now final (any final status, `UNAVAILABLE` and `GAVE_UP` included). */
  final: number;
  /** Of those, with records that failed (`PARTIAL_SUCCESS`, `FAILED`). */
  with_errors: number;
}

/** Options of {@link createGoogleStatusChecks}. */
export interface GoogleStatusOptions {
  db: Db;
  /** Reads the client's Google connection, secrets decrypted. */
  connections: Pick<OutboxStore, 'connection'>;
  tokenCache: TokenCache;
  fetch: FetchLike;
  urls: Pick<PlatformUrls, 'dataManager'>;
  versions: Pick<ApiVersions, 'dataManager'>;
  now: () => Date;
  logger?: Logger;
  timeoutMs?: number;
  /** Requests checked per round at most. Defaults to `100`. */
  limit?: number;
}

/** The diagnostics checks of one database. */
export interface GoogleStatusChecks {
  /** Checks the requests due now, one after the other. */
  run(): Promise<GoogleStatusSummary>;
  /** When the next check is due, `undefined` when none is waiting. */
  nextDue(): Date | undefined;
}

/** A row of `google_request_status`: the reason counts as JSON text. */
interface Row extends Omit<GoogleRequestStatus, 'errors' | 'warnings'> {
  errors: string | null;
  warnings: string | null;
}

function fromRow(r: Row): GoogleRequestStatus {
  return {
    ...r,
    errors: r.errors === null ? [] : (JSON.parse(r.errors) as ReasonCount[]),
    warnings: r.warnings === null ? [] : (JSON.parse(r.warnings) as ReasonCount[]),
  };
}

/** Creates the checks. Read calls have their own quota: 300 per minute per Cloud project (google-data-manager.md §7). */
export function createGoogleStatusChecks(options: GoogleStatusOptions): GoogleStatusChecks {
  const { db, now } = options;
  const limit = options.limit ?? 100;
  const budget = createTokenBucket({ now });
  const due = db.prepare<[string, number], Row>(
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

  /** One check: the reading, or why there is none. Refreshes the token once after a 401. */
  const check = async (row: Row): Promise<RequestStatusReading> => {
    try {
      const stored = await options.connections.connection(row.client_id, 'google');
      const conn = stored?.connection;
      if (conn?.platform !== 'google' || conn.api !== 'data-manager') {
        return { kind: 'unavailable', error: 'connection removed or no longer on Data Manager' };
      }
      // Its credentials were refused: checking now would only be refused again.
      if (stored?.status === 'paused') return { kind: 'retry', error: 'connection paused' };
      const creds = { client_id: conn.client_id, client_secret: conn.client_secret, refresh_token: conn.refresh_token };
      const ask = async (token: string): Promise<RequestStatusReading> => {
        const wait = budget.take();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const req = buildRequestStatusRequest(row.request_id, token, { baseUrl: options.urls.dataManager, version: options.versions.dataManager });
        return readRequestStatus(await sendHttp(options.fetch, req, options.timeoutMs));
      };
      const token = await options.tokenCache.getToken(creds);
      const reading = await ask(token);
      if (reading.kind !== 'auth') return reading;
      return await ask(await options.tokenCache.refresh(creds, token));
    } catch (error) {
      // An unreadable connection (its key left PRUUV_ENCRYPTION_KEY), a failed token refresh, a
      // timeout or a lost connection: checked again later.
      return { kind: 'retry', error: error instanceof Error ? error.message : String(error) };
    }
  };

  return {
    async run() {
      const summary: GoogleStatusSummary = { checked: 0, final: 0, with_errors: 0 };
      for (const row of due.all(now().toISOString(), limit)) {
        const reading = await check(row);
        const at = now();
        let status: GoogleRequestState = 'PENDING';
        let next: Date | undefined;
        let lastError: string | null = null;
        if (reading.kind === 'final') status = reading.status;
        else if (reading.kind === 'unavailable') {
          status = 'UNAVAILABLE';
          lastError = reading.error;
        } else {
          if (reading.kind !== 'processing') lastError = reading.error;
          next = nextStatusCheck(new Date(row.sent_at), row.checks + 1, at);
          if (next === undefined) status = 'GAVE_UP';
        }
        update.run({
          request_id: row.request_id,
          status,
          next_check_at: next?.toISOString() ?? null,
          checked_at: at.toISOString(),
          records: reading.kind === 'final' ? (reading.records ?? null) : null,
          errors: reading.kind === 'final' ? JSON.stringify(reading.errors) : null,
          warnings: reading.kind === 'final' ? JSON.stringify(reading.warnings) : null,
          last_error: lastError,
        });
        summary.checked++;
        if (next === undefined) summary.final++;
        if (status === 'PARTIAL_SUCCESS' || status === 'FAILED') {
          summary.with_errors++;
          options.logger?.warn(
            { request_id: row.request_id, connection_id: row.connection_id, status, events: row.events, errors: reading.kind === 'final' ? reading.errors : [] },
            'google: records of a delivered batch failed',
          );
        } else if (status === 'UNAVAILABLE' || status === 'GAVE_UP') {
          options.logger?.warn({ request_id: row.request_id, connection_id: row.connection_id, status, error: lastError }, 'google: no diagnostics for a delivered batch');
        }
      }
      return summary;
    },
    nextDue() {
      const at = earliest.get()?.at;
      return at ? new Date(at) : undefined;
    },
  };
}

const STATES: readonly GoogleRequestState[] = ['PENDING', 'SUCCESS', 'PARTIAL_SUCCESS', 'FAILED', 'REQUEST_STATUS_UNKNOWN', 'UNAVAILABLE', 'GAVE_UP'];

/** Query of `GET /api/admin/google-status` and the flags of `pruuv sends google-status`. */
export const googleStatusQuerySchema = z.object({
  status: z
    .enum(STATES as [GoogleRequestState, ...GoogleRequestState[]], { error: `status must be one of ${STATES.join(', ')}` })
    .optional(),
  client: z.string().min(1, 'client must not be empty').optional(),
  limit: limitSchema.optional(),
});

/** Filter of {@link listGoogleStatus}, as the CLI flags and the query string give it (strings). */
export interface GoogleStatusFilter {
  status?: string;
  client?: string;
  /** 1 to 1000. Defaults to `50`. */
  limit?: unknown;
}

/**
 * Data Manager requests and their diagnostics, newest first.
 *
 * @throws {OperationError} `invalid` for an unknown status or a bad limit.
 */
export function listGoogleStatus(db: Db, filter: GoogleStatusFilter): GoogleRequestStatus[] {
  const f = parseListFilter(googleStatusQuerySchema, filter);
  const { where, params } = equalities({ status: f.status, client_id: f.client }, f.limit);
  return db
    .prepare<[Record<string, string | number>], Row>(`SELECT * FROM google_request_status ${where} ORDER BY rowid DESC LIMIT @limit`)
    .all(params)
    .map(fromRow);
}
