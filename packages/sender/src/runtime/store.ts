/**
 * The storage the send runtime needs, as a port: the collector implements it
 * over its SQLite or PostgreSQL store; a test can implement it in memory. The
 * runtime (passes, the schedule, Google diagnostics) reaches storage only
 * through it. Every method answers with a promise.
 */
import type { ClaimInput, ClaimedSend, CommitInput, FreezeInput, HeldConnection, LoadedEvent } from '../outbox-store.js';
import type { Platform } from '../types.js';

/** A connection as stored: its settings, and its secrets as ONE ciphertext the runtime opens with its key ring. */
export interface EncryptedConnection {
  id: string;
  client_id: string;
  platform: Platform;
  /** `paused`: an auth or permission error stopped sending until a person fixes the credentials. */
  status: 'active' | 'paused';
  /** The non-secret fields. */
  settings: Readonly<Record<string, string | boolean>>;
  /** AES-256-GCM ciphertext (`crypto.ts`) of a JSON object of the secret fields; `null` when none is stored. */
  secrets: string | null;
}

/** A delivered Google Data Manager request whose diagnostics are checked later. */
export interface DiagnosticsWrite {
  request_id: string;
  connection_id: string;
  client_id: string;
  /** ISO 8601 of the 200. */
  sent_at: string;
  /** ISO 8601 of the first check. */
  next_check_at: string;
  /** Events the request carried in this batch; added to the request's count. */
  events: number;
}

/** Records per reason, as Google's diagnostics count them. */
export interface DiagnosticsReasonCount {
  reason: string;
  count: number;
}

/** Where a Data Manager request's diagnostics stand. */
export type DiagnosticsState =
  | 'PENDING'
  | 'SUCCESS'
  | 'PARTIAL_SUCCESS'
  | 'FAILED'
  | 'REQUEST_STATUS_UNKNOWN'
  /** No status will come (unknown request id, connection removed, access denied). */
  | 'UNAVAILABLE'
  /** Still not final 7 days after the 200. */
  | 'GAVE_UP';

/** A request whose diagnostics are due. */
export interface DueDiagnostics {
  request_id: string;
  connection_id: string;
  client_id: string;
  events: number;
  /** ISO 8601 of the 200. */
  sent_at: string;
  /** Checks made so far. */
  checks: number;
}

/** The result of one diagnostics check. */
export interface DiagnosticsCheck {
  request_id: string;
  status: DiagnosticsState;
  /** `null` once final. */
  next_check_at: string | null;
  checked_at: string;
  /** `null` keeps what an earlier check recorded. */
  records: number | null;
  errors: DiagnosticsReasonCount[] | null;
  warnings: DiagnosticsReasonCount[] | null;
  last_error: string | null;
}

/** Storage of the send runtime. */
export interface SendStore {
  /** Leases due rows: two claimers never get one row; a row whose lease ran out is claimable again. */
  claim(input: ClaimInput): Promise<ClaimedSend[]>;
  /** Extends the lease of the rows `owner` still holds; returns their ids. */
  renew(input: { owner: string; ids: readonly number[]; leaseUntil: Date; now: Date }): Promise<number[]>;
  /** Clears the lease of rows `owner` holds, leaving their status as it is. */
  release(input: { owner: string; ids: readonly number[]; now: Date }): Promise<void>;
  /** Stores the fields frozen at rows' first attempt before it is sent (an earlier value wins); returns what each row holds. */
  freeze(input: FreezeInput): Promise<Array<{ id: number; fields: string }>>;
  /** Row updates, audit records, Data Manager requests to check and a connection pause, in one transaction. */
  commit(input: CommitInput & { diagnostics?: DiagnosticsWrite[] }): Promise<void>;
  /** Paused connections and how many rows each holds back. */
  held(): Promise<HeldConnection[]>;
  /** The earliest instant a follow-up pass has work (a retry falling due, a lease running out). */
  nextFollowUp(): Promise<Date | undefined>;
  /** Events by id, as the sender takes them, with their stage's overrides; a missing id is left out. */
  events(ids: readonly string[]): Promise<ReadonlyMap<string, LoadedEvent>>;
  /** The client's connection for a platform, its secrets still encrypted. */
  connection(clientId: string, platform: Platform): Promise<EncryptedConnection | undefined>;
  /** Every stored ciphertext, for the start-up key check. */
  ciphertexts(): Promise<Array<{ id: string; secrets: string }>>;
  /** Scheduled runs: one row per cron slot, claimed by one process only. */
  runs: {
    claimSlot(input: { slot: Date; owner: string; trigger: 'schedule' | 'startup'; now: Date }): Promise<boolean>;
    finishSlot(input: { slot: Date; now: Date; summary: Record<string, unknown> }): Promise<void>;
  };
  /**
   * OAuth token refreshes across processes: a lease per credential (`key`: a hash naming it),
   * when each connection's token was refreshed, and a rotated refresh token written back
   * (`secrets`: the connection's new ciphertext). Optional: without it each process refreshes on
   * its own and nothing is recorded.
   */
  oauth?: {
    acquireRefresh(key: string, holder: string, nowMs: number, untilMs: number): Promise<boolean>;
    releaseRefresh(key: string, holder: string): Promise<void>;
    refreshed(connectionId: string, at: Date, accessExpiresAt: Date | undefined): Promise<void>;
    replaceSecrets(connectionId: string, secrets: string, at: Date): Promise<void>;
  };
  /** Google Data Manager diagnostics of delivered requests. */
  diagnostics: {
    due(now: Date, limit: number): Promise<DueDiagnostics[]>;
    record(check: DiagnosticsCheck): Promise<void>;
    nextDue(): Promise<Date | undefined>;
  };
}

/** A logger the runtime writes to: pino's (or any with these three methods). */
export interface SendLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}
