/**
 * The storage side of a send pass, as an interface: the collector implements
 * it over SQLite (its `outbox`, `connections` and `send_attempts` tables), a
 * test can implement it in memory. {@link runSendPass} only ever talks to
 * storage through it, so the pass logic (grouping, batching, outcomes,
 * leases) stays storage-agnostic.
 *
 * Methods may answer synchronously (better-sqlite3) or with a promise.
 */
import type { OutcomeStatus } from './outcomes.js';
import type { Connection, ConversionEvent, Platform, StageOverrides } from './types.js';

/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/** One outbox row (one event, one platform) leased to this pass. */
export interface ClaimedSend {
  /** Outbox row id. */
  id: number;
  event_id: string;
  client_id: string;
  platform: Platform;
  status: 'pending' | 'retrying';
  /** Attempts made before this claim (0 for a fresh row). */
  attempts: number;
  /** ISO 8601 time of the first attempt; the platforms' dedup windows start there. */
  first_attempt_at?: string;
  /** ISO 8601 time the row became due. */
  due_at: string;
  /** The fields the platform's adapter froze at the first attempt (`frozenFields`), absent before it. */
  frozen?: string;
}

/** Input of {@link OutboxStore.freeze}. */
export interface FreezeInput {
  owner: string;
  now: Date;
  /** Rows on their first attempt and the fields their adapter froze. */
  rows: ReadonlyArray<{ id: number; fields: string }>;
}

/** A client's connection to one platform, secrets decrypted. */
export interface StoredConnection {
  id: string;
  client_id: string;
  platform: Platform;
  /** `paused`: an auth or permission error stopped sending until a person fixes the credentials. */
  status: 'active' | 'paused';
  connection: Connection;
}

/** An event as the sender needs it, with its stage's overrides. */
export interface LoadedEvent {
  event: ConversionEvent;
  overrides?: StageOverrides;
}

/** One row of the conversion audit log: one per attempt of one event on one platform. No PII, no hashes. */
export interface SendRecord {
  outbox_id: number;
  event_id: string;
  client_id: string;
  /** `undefined` when the event could not be loaded. */
  stage_id?: string;
  platform: Platform;
  /** `undefined` when the client has no connection for the platform. */
  connection_id?: string;
  status: OutcomeStatus;
  /** Machine reason (`no_connection`, `rate_limited`, `auth`, `dedup_window_passed`…). */
  reason?: string;
  /** One sentence for a person (skips, dry runs, dead events). */
  message?: string;
  /** The platform's error code: `190`, `CLICK_NOT_FOUND`, `40100`, `HTTP 502`, `TIMEOUT`… */
  error_code?: string;
  /** The platform's error message (never a token). */
  error_message?: string;
  http_status?: number;
  /** Meta `fbtrace_id`, TikTok `request_id`, Google request id. */
  request_id?: string;
  /** The funnel event id: the dedup key on every platform. */
  dedup_key: string;
  /** Events in the `sendBatch` call this attempt was part of. */
  batch_size: number;
  /** Attempts made before this one (0 for the first). */
  retry_count: number;
  /** ISO 8601. */
  attempted_at: string;
  /** ISO 8601, for `retrying`. */
  next_attempt_at?: string;
  dry_run: boolean;
  /** The pass that made the attempt. */
  pass_id: string;
}

/** The new state of one outbox row after an attempt. */
export interface RowUpdate {
  id: number;
  /** `sent`, `skipped`, `failed` and `dead` are final; `retrying` is due again at `due_at`. */
  status: OutcomeStatus;
  /** ISO 8601 next attempt, for `retrying`. */
  due_at?: string;
  /** Attempts made, this one included. */
  attempts: number;
  /** When the first attempt that the platform may have counted was made: the start of its dedup window. Absent while no such attempt was made. */
  first_attempt_at?: string;
  /** Short `reason: message` of the last failure, for `retrying`, `failed` and `dead`. */
  last_error?: string;
}

/** What one batch changes, written in ONE transaction. */
export interface CommitInput {
  owner: string;
  now: Date;
  updates: RowUpdate[];
  records: SendRecord[];
  /**
   * Rows to remove from the outbox, with no audit record: rows never attempted whose client has
   * no connection at all for their platform, so nothing was sent and nothing is kept. Only rows
   * `owner` still leases and that were never attempted are removed; any other id is left as it is.
   */
  discard?: number[];
  /** Set when the platform said the credentials or account are unusable. */
  pause?: { connection_id: string; reason: string };
}

/** A paused connection and the due rows it holds back. */
export interface HeldConnection {
  connection_id: string;
  client_id: string;
  platform: Platform;
  reason?: string;
  paused_at?: string;
  /** Rows waiting (pending or retrying) on this connection. */
  waiting: number;
}

/** Input of {@link OutboxStore.claim}. */
export interface ClaimInput {
  /** The lease owner: a random id per process. */
  owner: string;
  now: Date;
  /** Only rows due at or before this time. */
  cutoff: Date;
  leaseUntil: Date;
  limit: number;
  /**
   * Only rows already tried (`retrying`) or left leased by a crashed sender,
   * not fresh `pending` rows: the follow-up passes between scheduled runs.
   */
  retriesOnly: boolean;
}

/** Storage of a send pass. */
export interface OutboxStore {
  /**
   * Leases due rows, in one statement: status `pending` or `retrying`,
   * `due_at <= cutoff`, no live lease, and not held by a paused connection.
   * Sets `lease_owner = owner`, `lease_until = leaseUntil`.
   */
  claim(input: ClaimInput): Awaitable<ClaimedSend[]>;
  /** Extends the lease of the rows `owner` still holds; returns their ids. */
  renew(input: { owner: string; ids: readonly number[]; leaseUntil: Date; now: Date }): Awaitable<number[]>;
  /** Clears the lease of rows `owner` holds, leaving their status as it is. */
  release(input: { owner: string; ids: readonly number[]; now: Date }): Awaitable<void>;
  /**
   * Stores the fields frozen at the first attempt of rows `owner` holds, before
   * that attempt is sent; a row that already has some keeps them. Returns the
   * fields each of those rows now holds (a row `owner` lost is left out).
   */
  freeze(input: FreezeInput): Awaitable<Array<{ id: number; fields: string }>>;
  /** The client's connection for a platform; throws when it exists but cannot be read (unknown key). */
  connection(clientId: string, platform: Platform): Awaitable<StoredConnection | undefined>;
  /** Events by id; a missing id is left out. */
  events(ids: readonly string[]): Awaitable<ReadonlyMap<string, LoadedEvent>>;
  /**
   * Updates the rows `owner` holds, removes the `discard` rows it holds, appends the audit
   * records and pauses the connection, in one transaction.
   */
  commit(input: CommitInput): Awaitable<void>;
  /** Paused connections and how many rows each holds back. */
  held(): Awaitable<HeldConnection[]>;
}
