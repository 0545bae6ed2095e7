/**
 * What the conversion audit log keeps once instead of on every record, on both engines
 * (bench/storage.mjs: a record is written per event and platform, and kept until retention):
 *
 * - `dedup_key`: the event's id on every platform, so stored as `''` when it is the record's
 *   event id (36 bytes a record).
 * - `message`: a sentence the sender writes the same on every record of an outcome
 *   (`standardMessage`: a missing connection's, a dry run's, Microsoft's "accepted", 370
 *   characters) is stored as `''` and read back from the sender's wording.
 * - `stage_id`: the event's stage, stored as NULL when it is the stored event's and read from the
 *   event (the engines' insert and select statements do this part).
 * - `event_id`: stored as `''` when the record has an outbox row, whose `event_id` it is (36 bytes
 *   a record); read back through the row's key. Audit records leave with their outbox rows, in
 *   the same retention batch and before them, so the link is there for as long as the record.
 *
 * - `pass_id` and `request_id`: shared by the records of one request, stored once in
 *   `send_requests` and named by `request_key` (a record without a pass keeps them inline).
 * - `client_id`: stored as the client's small integer key (`clients.key`) in `client_key`, NULL in
 *   `client_id` (a record of a client the store does not know keeps its id there); the client
 *   indexes hold the key (SQLite migration 032, PostgreSQL 026, which rewrote the records before).
 *
 * Records written before keep their text, and read the same.
 */

/**
 * SQLite: a record's attempt instant in milliseconds since the epoch, the key of the audit log's
 * time indexes (migration 028: 6 bytes in an index entry where the ISO 8601 text took 24). Exact:
 * `unixepoch(…, 'subsec')` is the instant to the millisecond as a real, rounded back to its integer.
 * A statement uses a time index only when it orders and bounds by this very expression.
 */
export const AUDIT_MS_SQLITE_SQL = `CAST(round(unixepoch(send_attempts.attempted_at, 'subsec') * 1000) AS INTEGER)`;

/** SQL of a record's client id: its own, else its key's (both engines; clients_key). */
export const AUDIT_CLIENT_SQL = `COALESCE(send_attempts.client_id, (SELECT c.id FROM clients c WHERE c.key = send_attempts.client_key))`;

/**
 * SQL of the key of the client whose id `param` holds, for a filter `client_key = …` on the
 * client indexes (both engines; NULL for a client the store does not know: no record).
 */
export const clientKeySql = (param: string): string => `(SELECT c.key FROM clients c WHERE c.id = ${param})`;

/** SQL of a record's pass id: its own, else its request's (both engines). */
export const AUDIT_PASS_SQL = `COALESCE(send_attempts.pass_id, (SELECT q.pass_id FROM send_requests q WHERE q.id = send_attempts.request_key))`;

/** SQL of a record's request id: its own, else its request's (`''` there: none). */
export const AUDIT_REQUEST_SQL = `CASE WHEN send_attempts.request_key IS NULL THEN send_attempts.request_id
  ELSE (SELECT NULLIF(q.request_id, '') FROM send_requests q WHERE q.id = send_attempts.request_key) END`;

/** SQL of a record's event id, for a statement over `send_attempts` (both engines). */
export const AUDIT_EVENT_SQL = `CASE WHEN send_attempts.event_id <> '' THEN send_attempts.event_id
  ELSE (SELECT o.event_id FROM outbox o WHERE o.id = send_attempts.outbox_id) END`;

/** SQL of a record's stage: its own, else its event's (both engines). */
export const AUDIT_STAGE_SQL = `COALESCE(send_attempts.stage_id, (SELECT e.stage_id FROM events e WHERE e.id = ${AUDIT_EVENT_SQL}))`;
import { standardMessage, type OutcomeStatus, type Platform } from '@pruuv/sender';
import type { AuditRecord } from './types.js';

/** The `dedup_key` and `message` of a record as stored. */
export function storedAuditText(r: Pick<AuditRecord, 'event_id' | 'dedup_key' | 'platform' | 'status' | 'reason' | 'message'>): {
  dedup_key: string;
  message: string | null;
} {
  const standard = standardMessage(r.platform, r.status, r.reason);
  return {
    dedup_key: r.dedup_key === r.event_id ? '' : r.dedup_key,
    message: r.message === undefined ? null : standard !== undefined && r.message === standard ? '' : r.message,
  };
}

/** The `dedup_key` and `message` of a stored record as they were written. */
export function readAuditText(r: {
  event_id: string;
  dedup_key: string | null;
  platform: Platform;
  status: OutcomeStatus;
  reason: string | null;
  message: string | null;
}): { dedup_key: string | null; message: string | null } {
  return {
    dedup_key: r.dedup_key === '' ? r.event_id : r.dedup_key,
    message: r.message === '' ? (standardMessage(r.platform, r.status, r.reason) ?? '') : r.message,
  };
}
