/**
 * What an outbox row keeps once instead of on every row, on both engines (bench/storage.mjs: four
 * rows per event, kept until retention):
 *
 * - `client_id`: a row's client is its event's, so a row written since SQLite migration 027 /
 *   PostgreSQL 022 stores NULL (36 bytes a row) and reads its event's `client_id` by the event's
 *   key. No index holds the outbox's client (migration 004 dropped the last one): the claim, the
 *   pass preview and a paused connection's held-back count check the client on the waiting rows
 *   `outbox_due` gives, one lookup of their event each. Rows written before keep theirs.
 * - `created_at`: a row is created with its event, at its receipt (the event's `received_at`), and
 *   nothing reads the column; a row written since SQLite migration 027 / PostgreSQL 023 stores
 *   `''` (SQLite, whose column is NOT NULL) or NULL (PostgreSQL): 24 bytes a row on SQLite, 8 on
 *   PostgreSQL. `pruuv db copy` copies `''` as NULL.
 * - `due_at` of a finished row: a row is due at its event's receipt and most rows finish at their
 *   first attempt, so the commit that finishes a row whose due time is its event's receipt stores
 *   `''` (SQLite) or NULL (PostgreSQL) there, read back from the event's `received_ms` (24 bytes a
 *   row on SQLite, 8 on PostgreSQL). A SQLite row holds that instant itself since migration 031
 *   (`event_ms`, the first column of its unique key) and reads it there, without a lookup. A waiting row always stores its due time (the claim and
 *   `outbox_due` read it); "retry now" writes one. `pruuv db copy` copies `''` as NULL.
 */

/**
 * SQL of the receipt (ms) of a row's event when the row stores no due time (NULL), for a statement
 * over `outbox` aliased `alias` (PostgreSQL; a SQLite row reads its own `event_ms`); NULL when it
 * stores one.
 */
export const outboxReceiptSql = (alias: string, notStored: string): string =>
  `CASE WHEN ${notStored} THEN (SELECT e.received_ms FROM events e WHERE e.id = ${alias}.event_id) END`;

/** A row's due time as ISO 8601: the stored one, else its event's receipt. */
export function outboxDueAt(stored: string | null, receiptMs: number | string | null): string {
  return stored !== null && stored !== '' ? stored : new Date(Number(receiptMs)).toISOString();
}

/** SQL of an outbox row's client, for a statement over `outbox` aliased `alias` (both engines). */
export const outboxClientSql = (alias: string): string =>
  `COALESCE(${alias}.client_id, (SELECT e.client_id FROM events e WHERE e.id = ${alias}.event_id))`;
