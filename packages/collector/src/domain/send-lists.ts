/**
 * Reading the conversion audit log and the Google diagnostics, as `pruuv sends
 * list` / `GET /api/admin/sends` and `pruuv sends google-status` /
 * `GET /api/admin/google-status` ask for them: one schema checks the flags and
 * the query string alike, so both accept and reject exactly the same filters.
 */
import type { OutcomeStatus, Platform } from '@pruuv/sender';
import { z } from 'zod';
import type { GoogleRequestState, GoogleRequestStatus, SendAttempt, Store } from '../store/types.js';
import { limitSchema } from './admin-input.js';
import { parseListFilter } from './list-filter.js';
import { OUTBOX_PLATFORMS } from './outbox.js';

export type { GoogleRequestState, GoogleRequestStatus, SendAttempt };

/** Statuses an audit record can have. */
export const SEND_STATUSES: readonly OutcomeStatus[] = ['sent', 'failed', 'skipped', 'retrying', 'dead'];

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
  platform: z
    .enum(OUTBOX_PLATFORMS as [Platform, ...Platform[]], { error: `platform must be one of ${OUTBOX_PLATFORMS.join(', ')}` })
    .optional(),
  client: z.string().min(1, 'client must not be empty').optional(),
  event: z.string().min(1, 'event must not be empty').optional(),
  limit: limitSchema.optional(),
});

/**
 * The newest audit records matching the filter.
 *
 * @throws {OperationError} `invalid` for an unknown status or platform or a bad limit.
 */
export async function listSends(store: Store, filter: SendFilter): Promise<SendAttempt[]> {
  const f = parseListFilter(sendQuerySchema, filter);
  const query: Parameters<Store['sends']['list']>[0] = { limit: f.limit };
  if (f.status !== undefined) query.status = f.status;
  if (f.platform !== undefined) query.platform = f.platform;
  if (f.client !== undefined) query.client_id = f.client;
  if (f.event !== undefined) query.event_id = f.event;
  return store.sends.list(query);
}

/** Every state a Data Manager request's diagnostics can be in. */
export const GOOGLE_REQUEST_STATES: readonly GoogleRequestState[] = [
  'PENDING',
  'SUCCESS',
  'PARTIAL_SUCCESS',
  'FAILED',
  'REQUEST_STATUS_UNKNOWN',
  'UNAVAILABLE',
  'GAVE_UP',
];

/** Query of `GET /api/admin/google-status` and the flags of `pruuv sends google-status`. */
export const googleStatusQuerySchema = z.object({
  status: z
    .enum(GOOGLE_REQUEST_STATES as [GoogleRequestState, ...GoogleRequestState[]], {
      error: `status must be one of ${GOOGLE_REQUEST_STATES.join(', ')}`,
    })
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
export async function listGoogleStatus(store: Store, filter: GoogleStatusFilter): Promise<GoogleRequestStatus[]> {
  const f = parseListFilter(googleStatusQuerySchema, filter);
  const query: Parameters<Store['googleRequests']['list']>[0] = { limit: f.limit };
  if (f.status !== undefined) query.status = f.status;
  if (f.client !== undefined) query.client_id = f.client;
  return store.googleRequests.list(query);
}
