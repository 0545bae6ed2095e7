/**
 * Reading the conversion audit log (`send_attempts`): one record per attempt
 * of one event on one platform, newest first, filtered by status, platform,
 * client or event. Shared by `pruuv sends list` and `GET /api/admin/sends`, so
 * both accept and reject exactly the same filters.
 */
import type { OutcomeStatus, Platform } from '@pruuv/sender';
import { z } from 'zod';
import { limitSchema } from '../admin-input.js';
import type { Db } from '../db.js';
import { equalities, parseListFilter } from '../list-filter.js';

/** Statuses an audit record can have. */
export const SEND_STATUSES: readonly OutcomeStatus[] = ['sent', 'failed', 'skipped', 'retrying', 'dead'];
const PLATFORM_NAMES: readonly Platform[] = ['meta', 'google', 'tiktok'];

/** One audit record. Holds no PII and no hashes. */
export interface SendAttempt {
  id: number;
  /** ISO 8601. */
  attempted_at: string;
  client_id: string | null;
  stage_id: string | null;
  event_id: string;
  platform: Platform;
  connection_id: string | null;
  status: OutcomeStatus;
  /** Machine reason: `no_connection`, `missing_click_id`, `rate_limited`, `auth`, `dedup_window_passed`… */
  reason: string | null;
  /** One sentence for a person (skips, dry runs, dead events). */
  message: string | null;
  /** The platform's error code: `190`, `CLICK_NOT_FOUND`, `40100`, `HTTP 502`, `TIMEOUT`… */
  error_code: string | null;
  /** The platform's error message. */
  error_message: string | null;
  http_status: number | null;
  /** Meta `fbtrace_id`, TikTok `request_id`, Google request id. */
  request_id: string | null;
  /** The funnel event id, the dedup key on every platform. */
  dedup_key: string | null;
  /** Events in the batch this attempt was part of. */
  batch_size: number | null;
  /** Attempts before this one. */
  retry_count: number;
  /** ISO 8601, for `retrying`. */
  next_attempt_at: string | null;
  /** Validate-only connection: built (Google: validated by the platform), not delivered. */
  dry_run: boolean;
  pass_id: string | null;
}

/** Filter of {@link listSends}, as the CLI flags and the query string give it (strings). */
export interface SendFilter {
  status?: string;
  platform?: string;
  client?: string;
  event?: string;
  /** 1 to 1000. Defaults to `50`. */
  limit?: unknown;
}

/** Query of `GET /api/admin/sends`: `status`, `platform`, `client`, `event`, `limit`. */
export const sendQuerySchema = z.object({
  status: z.enum(SEND_STATUSES as [OutcomeStatus, ...OutcomeStatus[]], { error: `status must be one of ${SEND_STATUSES.join(', ')}` }).optional(),
  platform: z.enum(PLATFORM_NAMES as [Platform, ...Platform[]], { error: `platform must be one of ${PLATFORM_NAMES.join(', ')}` }).optional(),
  client: z.string().min(1, 'client must not be empty').optional(),
  event: z.string().min(1, 'event must not be empty').optional(),
  limit: limitSchema.optional(),
});

const COLUMNS = [
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

interface Row extends Omit<SendAttempt, 'error_message' | 'dry_run'> {
  error: string | null;
  dry_run: number;
}

/**
 * The newest audit records matching the filter. Each filter reads one index
 * (`send_attempts_status`, `_platform`, `_client`, `_event`) in rowid order,
 * so no sort and no scan of the whole log.
 *
 * @throws {OperationError} `invalid` for an unknown status or platform or a bad limit.
 */
export function listSends(db: Db, filter: SendFilter): SendAttempt[] {
  const f = parseListFilter(sendQuerySchema, filter);
  const { where, params } = equalities(
    { status: f.status, platform: f.platform, client_id: f.client, event_id: f.event },
    f.limit,
  );
  return db
    .prepare<[Record<string, string | number>], Row>(`SELECT ${COLUMNS} FROM send_attempts ${where} ORDER BY id DESC LIMIT @limit`)
    .all(params)
    .map(({ error, dry_run, ...rest }) => ({ ...rest, error_message: error, dry_run: dry_run === 1 }));
}
