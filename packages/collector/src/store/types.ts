/**
 * The storage boundary of the collector: ONE interface covering every table the
 * product uses. Routes, the CLI, the admin API and the send runtime only ever
 * see these types; each engine implements them under `store/<engine>/`
 * (`sqlite/`, `postgres/`), and SQL exists only there. Every method answers
 * with a promise, so the same callers run on an embedded SQLite file and on a
 * PostgreSQL server shared by several processes.
 *
 * Semantics every engine keeps (one contract test suite runs on each):
 * - an admission is committed before its promise resolves (an HTTP 200 only after commit);
 * - the 60-second dedup and the hourly stage quota are exact across processes;
 * - outbox claims hand a row to one claimer at a time, until its lease runs out;
 * - a schedule slot is claimed by one process only.
 */

import type { ClickIdName, Touch, UtmName } from '@pruuv/pixel';
import type { HoldReason } from '../domain/beacon-signals.js';
import type { ThrottleScope } from '../domain/beacon-limits.js';
import type { EmailRejection } from '../domain/email.js';
import type { PhoneRejection } from '../domain/phone.js';
import type {
  ClaimInput,
  ClaimedSend,
  CommitInput,
  DiagnosticsCheck,
  DiagnosticsReasonCount,
  DiagnosticsState,
  DiagnosticsWrite,
  FreezeInput,
  HeldConnection,
  OutcomeStatus,
  Platform,
  SendRecord,
} from '@pruuv/sender';

/** Click-ID and UTM names, and the ad landing (`Touch`), stored on a funnel event: the pixel's own, so the two cannot drift. */
export type { ClickIdName, Touch, UtmName };
export type { Platform };

/** An agency's client: one website (or several origins) with a public site key. */
export interface Client {
  id: string;
  name: string;
  /** Public key the pixel sends as `site`. */
  site_key: string;
  /** Page origins (`https://www.example.com`) allowed to send pixel events. Empty: none. */
  origins: string[];
  /**
   * ISO 3166-1 alpha-2 country (`GB`): a webhook phone number written without `+`
   * is taken as national when it is a valid number of this country. Defaults to
   * none: such a number is read as starting with its country code.
   */
  default_country?: string;
  /** ISO 8601 UTC. */
  created_at: string;
}

/** A funnel stage of a client (`lead`, `sale`…), with its own webhook URL and token. */
export interface Stage {
  /** Random, unguessable id (`stg_` + 22 base62 characters); part of the webhook URL. */
  id: string;
  client_id: string;
  /** Key the pixel sends as `stage`, unique per client. */
  key: string;
  name: string;
  /** Per-platform event-name overrides. */
  event_names: { meta?: string; tiktok?: string; google_conversion_action_id?: string };
  /** ISO 8601 UTC. */
  created_at: string;
}

/** Consent state stored on an event; webhook events without a `consent` field are `unspecified`. */
export type StoredConsent = 'granted' | 'denied' | 'unspecified';

/** Where an event came from. */
export type EventSource = 'pixel' | 'webhook';

/** A funnel event as stored. Email and phone only ever as SHA-256 hashes. */
export interface StoredEvent {
  /** UUID: the dedup key on every ad platform. */
  id: string;
  client_id: string;
  stage_id: string;
  stage_key: string;
  source: EventSource;
  reference: string;
  item_reference?: string;
  revenue_value?: number;
  currency?: string;
  data_timestamp?: string;
  /** When the collector stored the event, ISO 8601 UTC. */
  received_at: string;
  /** The browser's clock at `track()` (pixel events only). */
  client_time?: string;
  consent: StoredConsent;
  clicks: Partial<Record<ClickIdName, { value: string; ts?: string }>>;
  utm: Partial<Record<UtmName, string>>;
  fbc?: string;
  fbp?: string;
  ttp?: string;
  email_sha256?: string;
  email_sha256_google?: string;
  /** Microsoft's email form's hash (dots and +alias removed on every domain), when it differs from `email_sha256`. */
  email_sha256_microsoft?: string;
  phone_sha256?: string;
  phone_sha256_meta?: string;
  /** Why the webhook's raw email was left out (`no_at`, `no_dot_in_domain`…); never the value. */
  email_rejected?: EmailRejection;
  /** Why the webhook's raw phone was left out (`not_e164`, `no_digits`); never the value. */
  phone_rejected?: PhoneRejection;
  client_ip?: string;
  user_agent?: string;
  page_url?: string;
  referrer?: string;
  /** Anonymous browser id of the pixel (`_pruuv_vid`), pixel events only. */
  visitor_id?: string;
  /** First and latest ad landing the pixel knew of, pixel events only. */
  first_touch?: Touch;
  last_touch?: Touch;
  /** Demographic fields (reporting only). */
  demographics: Record<string, string>;
  /**
   * Attribution fields copied from an earlier event of the same client and reference (or email hash).
   * `from_event_id` is absent once retention removed that earlier event (`RetentionStore.prune`).
   */
  inherited?: { from_event_id?: string; fields: string[] };
  /**
   * Why this pixel event is held (its beacon lacked a browser's signals, `domain/beacon-signals.ts`):
   * its sends wait, never claimed by a send pass, until an admin releases it.
   */
  held_reason?: HoldReason;
  /** When an admin released the held event (ISO 8601 UTC); its sends were due from then. */
  released_at?: string;
}

/** An event ready to be admitted: everything but what the store assigns. `id` is the pixel's `event_id`, or a fresh UUID. */
export type NewEvent = Omit<StoredEvent, 'received_at' | 'inherited' | 'released_at'>;

/** Held (not yet released) events of one client. */
export interface HeldCount {
  client_id: string;
  held: number;
  /** Receive time of the oldest, ISO 8601 UTC. */
  oldest: string;
}

/** Which held events {@link EventStore.release} releases: these ids, or every held event of a client (or both filters). */
export interface ReleaseFilter {
  client_id?: string;
  ids?: readonly string[];
}

/** Beacons the pixel limits refused, per client and limit, summed over the windows since a time. */
export interface ThrottleCount {
  client_id: string;
  /** Refused by the per-address bucket. */
  address: number;
  /** Refused by the site's budget. */
  site: number;
}

/** What {@link EventStore.admit} did with an event. */
export type Admission =
  /** Stored, with its outbox rows. */
  | { status: 'stored'; event: StoredEvent }
  /** An event with this id is already stored (a pixel resend): nothing stored. */
  | { status: 'duplicate_event_id'; event_id: string }
  /** Same reference at the same stage within the dedup window: nothing stored. */
  | { status: 'duplicate'; of_event_id: string }
  /** The stage took its hourly quota: nothing stored; a slot frees in `retry_after_seconds`. */
  | { status: 'rate_limited'; retry_after_seconds: number };

/** One row of the outbox: a pending (or done) send of one event to one platform. */
export interface OutboxRow {
  id: number;
  event_id: string;
  platform: Platform;
  status: string;
  due_at: string;
  attempts: number;
  lease_owner?: string;
  lease_until?: string;
  last_error?: string;
  /** The event's client. */
  client_id?: string;
  /** ISO 8601 of the first attempt the platform may have counted: its dedup window starts there. */
  first_attempt_at?: string;
  /** ISO 8601 of the last change. */
  updated_at?: string;
  /** ISO 8601 of reaching a final status (`sent`, `skipped`, `failed`, `dead`). */
  finished_at?: string;
}

/**
 * Where a keyset page starts: after (older than) or before (newer than) a position a
 * previous page gave. Positions are opaque strings, encoded by the engine
 * (`store/keyset.ts`); a malformed one is an {@link InvalidInputError}.
 */
export type PageCursor = { after: string } | { before: string };

/** One page of a newest-first list, read by keyset (never OFFSET). */
export interface KeysetPage<T> {
  /** Newest first. */
  rows: T[];
  /** Cursor of the next (older) page, as `{ after: next }`; absent on the last page. */
  next?: string;
  /** Cursor of the previous (newer) page, as `{ before: prev }`; absent on the first page. */
  prev?: string;
  /**
   * Set when the page stopped at its scan limit before it was full: filters no index narrows
   * (an event's source or click IDs, a send's platform) matched fewer rows than asked among the
   * `scanned` rows read, the oldest of them at `scanned_to` (ISO 8601). `next` goes on from there.
   */
  scan?: { scanned: number; scanned_to: string };
}

/** Filters of {@link EventStore.search}: all optional but `limit`, combined with AND. */
export interface EventSearch {
  client_id?: string;
  stage_id?: string;
  source?: EventSource;
  /** Exact match. */
  reference?: string;
  /** Received at or after this instant (ISO 8601). */
  received_from?: string;
  /** Received before this instant (ISO 8601). */
  received_before?: string;
  /** `true`: a click ID of any platform (or Meta's `fbc`); `false`: none. */
  has_click_id?: boolean;
  /** Rows per page, 1 to 1000. */
  limit: number;
  cursor?: PageCursor;
  /** Most rows read for one page when a filter no index narrows is set. Defaults to `max(2000, 20 × limit)`. */
  scan_limit?: number;
}

/** Filters of {@link SendLogStore.search}: all optional but `limit`, combined with AND. */
export interface SendSearch {
  client_id?: string;
  platform?: Platform;
  status?: OutcomeStatus;
  event_id?: string;
  /** Attempted at or after this instant (ISO 8601). */
  attempted_from?: string;
  /** Attempted before this instant (ISO 8601). */
  attempted_before?: string;
  /** Rows per page, 1 to 1000. */
  limit: number;
  cursor?: PageCursor;
  /** Most rows read for one page when a filter no index narrows is set. Defaults to `max(2000, 20 × limit)`. */
  scan_limit?: number;
}

/** What {@link OutboxStore.retryNow} does: the row due again now, and its audit record, in one transaction. */
export interface RetryNowInput {
  /** The outbox row. */
  id: number;
  now: Date;
  /** The record of the request in the conversion audit log: an attempt's fields but the batch and the pass, which it has none of. */
  record: AuditRecord;
}

/** A record of the conversion audit log as written: a pass's {@link SendRecord}, or one without batch and pass (a person's retry). */
export type AuditRecord = Omit<SendRecord, 'batch_size' | 'pass_id'> & { batch_size?: number; pass_id?: string };

/** A stored ad-account connection. Its secrets stay one ciphertext here: the store never sees them in clear. */
export interface ConnectionRecord {
  id: string;
  client_id: string;
  platform: Platform;
  /** `paused`: an auth or permission error stopped sending until a person fixes the credentials. */
  status: 'active' | 'paused';
  /** Why it is paused: what the platform said. */
  status_reason?: string;
  paused_at?: string;
  /** When a send pass last used the credentials (a request went, or was attempted, to the platform); absent: never. */
  last_used_at?: string;
  /** The non-secret fields. */
  settings: Record<string, string | boolean>;
  /** One AES-256-GCM ciphertext of a JSON object of the secret fields; `null` when none is stored. */
  secrets: string | null;
  /** Names of the secrets stored, e.g. `['access_token']`, so they can be listed without the key. */
  secret_names: string[];
  created_at: string;
  updated_at: string;
}

/** What {@link ConnectionStore.save} writes. */
export type ConnectionWrite = Pick<ConnectionRecord, 'id' | 'client_id' | 'platform' | 'settings' | 'secrets' | 'secret_names'>;

/** One record of the conversion audit log. Holds no PII and no hashes. */
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

/** Equality filters of the audit log, each on an indexed column, newest first. */
export interface SendQuery {
  status?: OutcomeStatus;
  platform?: Platform;
  client_id?: string;
  event_id?: string;
  limit: number;
}

/** Where a Google Data Manager request's diagnostics stand: the send runtime's type. */
export type GoogleRequestState = DiagnosticsState;

/** Records per error reason, as Google's diagnostics count them. */
export type ReasonCountRow = DiagnosticsReasonCount;

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
  errors: ReasonCountRow[];
  warnings: ReasonCountRow[];
  /** Why the last check did not give a final status (`HTTP 503`, `connection removed`…). */
  last_error: string | null;
}

/** Filters of the Google diagnostics list, newest first. */
export interface GoogleRequestQuery {
  status?: GoogleRequestState;
  client_id?: string;
  limit: number;
}

/** One delivered Data Manager request to check later, written with the batch's audit rows: the send runtime's type. */
export type GoogleRequestWrite = DiagnosticsWrite;

/** The result of one diagnostics check: the send runtime's type. */
export type GoogleRequestCheck = DiagnosticsCheck;

/** What one batch of a send pass writes, in ONE transaction: {@link CommitInput} plus the Data Manager requests to check. */
export interface OutboxCommit extends CommitInput {
  googleRequests?: GoogleRequestWrite[];
}

/**
 * One row of the daily event roll-up: the events of a client admitted at one stage on one
 * UTC day that carry the same identifiers. Written in the admission's transaction.
 */
export interface EventDay {
  /** UTC day of `received_at`, `YYYY-MM-DD`. */
  day: string;
  client_id: string;
  stage_id: string;
  /** The click IDs and cookie IDs these events carry (`CLICK_ID_NAMES`, `COOKIE_ID_NAMES`), sorted; empty for none. */
  ids: string[];
  events: number;
  /** Of these, with a hashed email. */
  email: number;
  /** Of these, with a hashed phone. */
  phone: number;
}

/** One row of the daily send roll-up: a client's audit records on one platform with one status on one UTC day. Written in the send commit's transaction. */
export interface SendDay {
  /** UTC day of `attempted_at`, `YYYY-MM-DD`. */
  day: string;
  client_id: string;
  platform: Platform;
  status: OutcomeStatus;
  count: number;
}

/** What a stage received lately. */
export interface StageActivity {
  stage_id: string;
  client_id: string;
  /** ISO 8601 of its latest event; absent when it has none. */
  last_event_at?: string;
  /** Its webhook events in the hour before `now`: what the hourly quota counts (beacons have limits of their own). */
  last_hour: number;
}

/** One scheduled send run, as the run ledger holds it. */
export interface SendRun {
  /** ISO 8601 of the cron slot. */
  slot: string;
  owner: string;
  trigger: 'schedule' | 'startup';
  started_at: string;
  /** Absent while the pass runs, or when its process stopped during it. */
  finished_at?: string;
  /** The pass's counts (`pass_id`, `claimed`, one per outcome status, `duration_ms`). */
  summary?: Record<string, unknown>;
}

/**
 * The dashboard's figures: daily roll-ups kept exact by the writes they count (an
 * admission, a send commit), so a view reads a few hundred rows whatever the tables hold.
 * Days are UTC `YYYY-MM-DD`, `from` and `to` included.
 */
export interface StatsStore {
  /** A client's event roll-up rows, by day. */
  eventDays(query: { client_id: string; from: string; to: string }): Promise<EventDay[]>;
  /** A client's send roll-up rows, by day. */
  sendDays(query: { client_id: string; from: string; to: string }): Promise<SendDay[]>;
  /** Audit records with `status` from day `from` on, per client: one client's, or every client's without `client_id`. Clients with none are left out. */
  sendTotals(query: { status: OutcomeStatus; from: string; client_id?: string }): Promise<Array<{ client_id: string; count: number }>>;
  /** Each stage of a client (of every client without `client_id`): its latest event and its events in the hour before `now`. In stage creation order. */
  stageActivity(query: { client_id?: string; now: Date }): Promise<StageActivity[]>;
}

/** Clients and their allowed page origins. */
export interface ClientStore {
  create(input: { name: string; origins?: string[]; default_country?: string }): Promise<Client>;
  get(id: string): Promise<Client | undefined>;
  /** Cached: the pixel's hot path reads it per beacon. */
  bySiteKey(siteKey: string): Promise<Client | undefined>;
  /** In creation order. */
  list(): Promise<Client[]>;
  /** Replaces the allowed origins of a client; returns the updated client, `undefined` for an unknown id. */
  setOrigins(id: string, origins: string[]): Promise<Client | undefined>;
  /** Sets (or with `null` clears) the client's default country; returns the updated client, `undefined` for an unknown id. */
  setDefaultCountry(id: string, country: string | null): Promise<Client | undefined>;
  /**
   * Renames a client (trimmed, 1 to 200 characters); returns the updated client, `undefined` for an unknown id.
   * @throws {InvalidInputError} for an empty or too long name.
   */
  rename(id: string, name: string): Promise<Client | undefined>;
  /** Whether any client lists this origin (answers CORS preflights before the site key is known). */
  anyAllowsOrigin(origin: string): Promise<boolean>;
}

/** Funnel stages and their webhook tokens (hashes only). */
export interface StageStore {
  /** Returns the plaintext token once; only its hash is stored. */
  create(input: { client_id: string; key: string; name: string }): Promise<{ stage: Stage; token: string }>;
  /** Cached: the webhook's hot path reads it per call. */
  get(id: string): Promise<Stage | undefined>;
  byKey(clientId: string, key: string): Promise<Stage | undefined>;
  /** In creation order. */
  list(clientId?: string): Promise<Stage[]>;
  /** Replaces the stage's webhook token; returns the new plaintext token, `undefined` for an unknown stage. */
  rotateToken(id: string): Promise<string | undefined>;
  /** Constant-time comparison against the stored hash; an unknown stage costs the same. */
  verifyToken(id: string, token: string): Promise<boolean>;
  setEventNames(id: string, names: Stage['event_names']): Promise<void>;
}

/** Funnel events and their admission. */
export interface EventStore {
  /**
   * Admits an event in one write transaction: event-id idempotency, the 60-second
   * dedup on (stage, reference), the hourly quota of the stage, the attribution
   * join, the insert and its outbox rows. `at` is the receive time. Resolves once
   * committed; rejects with a `StorageUnavailableError` when the database cannot
   * take the write (busy, locked, full, unreachable): nothing was stored.
   */
  admit(event: NewEvent, at: Date): Promise<Admission>;
  get(id: string): Promise<StoredEvent | undefined>;
  /** Events by id; a missing id is left out. */
  getMany(ids: readonly string[]): Promise<Map<string, StoredEvent>>;
  /**
   * Newest first; each filter reads about `limit` rows through an index. `held: true` lists only
   * held events not yet released (through the `events_held` partial index).
   */
  list(filter: { client_id?: string; stage_id?: string; held?: boolean; limit?: number }): Promise<StoredEvent[]>;
  /** Held events not yet released, per client (clients with none are left out), by client id. */
  heldCounts(): Promise<HeldCount[]>;
  /**
   * Releases held events matching `filter` (an empty filter releases nothing): sets their
   * `released_at` and makes their outbox rows pending, due at `at`, in one transaction.
   * Returns the ids released; an id that is unknown, not held or already released is left out.
   */
  release(filter: ReleaseFilter, at: Date): Promise<string[]>;
  /**
   * Webhook events of each stage received after `since` (what the hourly quota counts when `since` is an hour ago),
   * counted through `events_stage_time`; a stage without any is `0`.
   */
  stageCounts(stageIds: readonly string[], since: Date): Promise<Map<string, number>>;
  /**
   * An event of one client: `undefined` for an event of another client, as for an unknown id
   * (the dashboard's reads of a client user).
   */
  getOfClient(id: string, clientId: string): Promise<StoredEvent | undefined>;
  /**
   * One page of events, newest first (received time, then storage order), by keyset. The
   * client, stage, reference and the received-time range are read through an index in the
   * list's order; source and click IDs are checked on the rows it reads, at most `scan_limit`.
   *
   * @throws {InvalidInputError} for a malformed cursor.
   */
  search(query: EventSearch): Promise<KeysetPage<StoredEvent>>;
}

/** The outbox: one row per (event, platform), leased by send passes. */
export interface OutboxStore {
  /** The rows of an event, in platform order. */
  forEvent(eventId: string): Promise<OutboxRow[]>;
  /** The rows of these events (through the (event, platform) key); an unknown id adds none. */
  forEvents(eventIds: readonly string[]): Promise<OutboxRow[]>;
  /** One row by id. */
  get(id: number): Promise<OutboxRow | undefined>;
  /**
   * The rows a claim at `now` would lease, without leasing them: `pending` or `retrying`, due
   * at or before `now`, no live lease, not held by a paused connection; in the claim's order
   * (through `outbox_due`), at most `limit`, of one client when `client_id` is given.
   */
  due(query: { now: Date; limit: number; client_id?: string }): Promise<ClaimedSend[]>;
  /**
   * Makes a `failed` or `dead` row due again at `now` (status `retrying`, no lease, not
   * finished; attempts and the first attempt's time kept, so the dedup window still counts from
   * it) and appends `record` to the audit log, in one transaction. `false`, with nothing written,
   * when the row is not `failed` or `dead` (any more) or is leased.
   */
  retryNow(input: RetryNowInput): Promise<boolean>;
  /**
   * Leases due rows: `pending` or `retrying`, due at or before the cutoff, no live
   * lease, not held by a paused connection. Two claimers never get one row.
   */
  claim(input: ClaimInput): Promise<ClaimedSend[]>;
  /** Extends the lease of the rows `owner` still holds; returns their ids. */
  renew(input: { owner: string; ids: readonly number[]; leaseUntil: Date; now: Date }): Promise<number[]>;
  /** Clears the lease of rows `owner` holds, leaving their status as it is. */
  release(input: { owner: string; ids: readonly number[]; now: Date }): Promise<void>;
  /**
   * Stores the fields a platform's adapter froze at rows' first attempt (`frozen_fields`), on
   * rows `owner` leases, before that attempt is sent; a row that has some keeps them. Returns
   * what each of those rows holds (a row `owner` no longer leases is left out). Claims hand the
   * fields back as `frozen`.
   */
  freeze(input: FreezeInput): Promise<Array<{ id: number; fields: string }>>;
  /**
   * Row updates, rows removed unsent (`discard`: only rows `owner` still leases that were never
   * attempted), audit records, Data Manager requests to check, a connection pause and the
   * connection's `last_used_at` (see `usedConnections`: one UPDATE per batch), in one transaction.
   */
  commit(input: OutboxCommit): Promise<void>;
  /**
   * Paused connections (of one client with `client_id`) and how many rows each holds back,
   * counting at most `upTo` (the count reads every waiting row; a cap bounds it for a page).
   */
  held(filter?: { client_id?: string; upTo?: number }): Promise<HeldConnection[]>;
  /** The earliest instant a follow-up pass has work (a retry falling due, a lease running out), `undefined` when none. */
  nextFollowUp(): Promise<Date | undefined>;
}

/** Ad-account connections, one per (client, platform). */
export interface ConnectionStore {
  get(clientId: string, platform: Platform): Promise<ConnectionRecord | undefined>;
  /** Ordered by client, then platform. */
  list(filter?: { client_id?: string }): Promise<ConnectionRecord[]>;
  /** Creates or replaces a connection (settings and secrets); saving also un-pauses it. */
  save(input: ConnectionWrite, at: Date): Promise<ConnectionRecord>;
  /** Pauses a connection with the platform's reason. */
  pause(id: string, reason: string, at: Date): Promise<void>;
  /**
   * Deletes a client's connection to a platform; `false` when there was none. The next pass then
   * removes that platform's rows never attempted, unrecorded, and skips with `no_connection` those
   * attempted before.
   */
  remove(clientId: string, platform: Platform): Promise<boolean>;
  /** The stored ciphertexts, for the start-up key check. */
  ciphertexts(): Promise<Array<{ id: string; secrets: string }>>;
  /**
   * Replaces every stored ciphertext with `reencrypt(ciphertext)`, in one transaction.
   * Returns how many connections hold secrets and how many changed.
   */
  reencryptAll(reencrypt: (ciphertext: string) => string, at: Date): Promise<{ connections: number; reencrypted: number }>;
}

/** A pending authorization (`authorize`: between Connect and the redirect back) or grant (`grant`: tokens waiting for the picks). */
export interface OAuthPending {
  /** SHA-256 hex of the random key (the OAuth `state`, or the grant's id): the key itself is never stored. */
  key_hash: string;
  kind: 'authorize' | 'grant';
  user_id: string;
  /** SHA-256 of the session that started it (`sessionIdHash`). */
  session_hash: string;
  client_id: string;
  platform: Platform;
  /** AES-256-GCM ciphertext (PKCE verifier and settings, or the tokens). */
  payload: string;
  created_at: string;
  expires_at: string;
}

/** What the collector knows of a connection's OAuth grant. Never a token. */
export interface OAuthGrantFacts {
  connection_id: string;
  /** When the user consented. */
  granted_at: string;
  access_expires_at?: string;
  refresh_expires_at?: string;
  /** When only the user can renew it (reconnect), per the platform's provider. */
  user_action_by?: string;
  /** When the send runtime last refreshed the access token. */
  refreshed_at?: string;
  scopes: string[];
}

/** A connection's grant facts with the connection's client and platform, for the overview. */
export type OAuthGrantListing = OAuthGrantFacts & { client_id: string; platform: Platform };

/** Pending authorizations, grant facts and refresh leases of "Connect with OAuth". */
export interface OAuthStore {
  /** Stores a pending authorization or grant. */
  putPending(input: OAuthPending): Promise<void>;
  /** Deletes and returns the pending entry of `kind` with this key hash (single use): one of two racing callers gets it. */
  takePending(keyHash: string, kind: OAuthPending['kind']): Promise<OAuthPending | undefined>;
  /** Reads a pending entry without using it up (the picker reads the grant at each step). */
  getPending(keyHash: string, kind: OAuthPending['kind']): Promise<OAuthPending | undefined>;
  /** Deletes the entries expired at `now`; returns how many. */
  sweepPending(now: Date): Promise<number>;
  /** Creates or replaces a connection's grant facts. */
  saveGrant(facts: OAuthGrantFacts): Promise<void>;
  grant(connectionId: string): Promise<OAuthGrantFacts | undefined>;
  /** Grant facts of every connection (of one client with `client_id`). */
  grants(filter?: { client_id?: string }): Promise<OAuthGrantListing[]>;
  /** Records a refresh by the send runtime: the new access expiry (and, when the platform gave one, the grant's). */
  refreshed(connectionId: string, at: Date, accessExpiresAt: Date | undefined, refreshExpiresAt?: Date): Promise<void>;
  removeGrant(connectionId: string): Promise<void>;
  /** Replaces a connection's secrets ciphertext (a refresh token the platform rotated), keeping its status. */
  replaceSecrets(connectionId: string, secrets: string, at: Date): Promise<void>;
  /**
   * Takes the refresh lease of a credential (`key`: a hash naming it) for `holder` until `untilMs`
   * (epoch ms), when no other holder's lease runs at `nowMs`. `true` when taken: then only this
   * holder refreshes that credential.
   */
  acquireRefresh(key: string, holder: string, nowMs: number, untilMs: number): Promise<boolean>;
  /** Gives the lease back (only the holder's). */
  releaseRefresh(key: string, holder: string): Promise<void>;
}

/** The last pixel hit of one allowed origin of a client. */
export interface PixelOrigin {
  client_id: string;
  origin: string;
  /** ISO 8601 UTC. */
  last_seen_at: string;
}

/**
 * When the pixel was last heard from, per (client, page origin): the dashboard's
 * "is the pixel installed?" check, kept apart from `events` so that no admission
 * pays for it. The ingest route writes it at most once a minute per (client, origin).
 */
export interface PixelOriginStore {
  /** Records a hit; an earlier time than the stored one (another process, a clock behind) leaves it as it is. */
  seen(clientId: string, origin: string, at: Date): Promise<void>;
  /** One client's rows, or every client's (as many as the allowed origins at most), by client then origin. */
  list(filter?: { client_id?: string }): Promise<PixelOrigin[]>;
}

/** The conversion audit log (one record per attempt of one event on one platform). */
export interface SendLogStore {
  list(query: SendQuery): Promise<SendAttempt[]>;
  /**
   * One page of the audit log, newest first (attempt time, then id), by keyset. The client, the
   * status, the event and the time range are read through an index in the list's order; the
   * platform is checked on the rows it reads, at most `scan_limit`.
   *
   * @throws {InvalidInputError} for a malformed cursor.
   */
  search(query: SendSearch): Promise<KeysetPage<SendAttempt>>;
}

/** Google Data Manager diagnostics of delivered requests. */
export interface GoogleRequestStore {
  list(query: GoogleRequestQuery): Promise<GoogleRequestStatus[]>;
  /** Checks due at or before `now`, earliest first. */
  due(now: Date, limit: number): Promise<GoogleRequestStatus[]>;
  /** Records a check's result. */
  record(check: GoogleRequestCheck): Promise<void>;
  /** When the next check is due, `undefined` when none is waiting. */
  nextDue(): Promise<Date | undefined>;
}

/** What one {@link RetentionStore.prune} batch removed, per table. */
export interface PruneResult {
  events: number;
  /** Outbox rows of those events (every one final). */
  outbox: number;
  /** Their records in the conversion audit log. */
  send_attempts: number;
  /** User agents (stored once, `user_agents`) that only those events named. */
  user_agents: number;
}

/**
 * Retention (`PRUUV_RETENTION_DAYS`, `domain/retention.ts`): old events leave with everything
 * keyed by them, and a request's row of `send_requests` with the last audit record naming it. The
 * daily roll-ups, the Google request diagnostics (per request, not per event) and the run ledger
 * are not touched.
 */
export interface RetentionStore {
  /**
   * Removes, in ONE transaction, at most `limit` events received before `before` whose outbox
   * rows are all final (`FINAL_STATUSES`) and finished before `before`, oldest first, with their
   * outbox rows and audit records (and the requests only those records named). A later event that inherited from a removed one keeps its
   * fields but loses the link. An event with a row still due (`pending`, `retrying`, `held`) is
   * kept. With `budgetMs`, an engine whose batch holds the process (SQLite: better-sqlite3 is
   * synchronous) stops taking further events into the batch once it has worked that long, and
   * commits what it removed (each event whole, with its rows). None removed: none is left.
   */
  prune(input: { before: Date; limit: number; budgetMs?: number }): Promise<PruneResult>;
  /** How many events {@link prune} would remove at `before`, counting every batch (`pruuv db prune --dry-run`). */
  removable(before: Date): Promise<number>;
  /**
   * Gives pages freed by removals back to the file system, at most `pages` of them: SQLite's
   * `PRAGMA incremental_vacuum(pages)` on a file in `auto_vacuum = INCREMENTAL` mode; nothing on
   * PostgreSQL, where autovacuum makes the space reusable. Returns the pages given back.
   */
  reclaim(pages: number): Promise<number>;
}

/** Scheduled send runs: one row per cron slot, so a slot runs once across processes and restarts. */
export interface SendRunStore {
  /** `true` when this call claimed the slot (run it), `false` when any process already did. One atomic statement. */
  claimSlot(input: { slot: Date; owner: string; trigger: 'schedule' | 'startup'; now: Date }): Promise<boolean>;
  /** Records the end of a slot's pass with its counts. */
  finishSlot(input: { slot: Date; now: Date; summary: Record<string, unknown> }): Promise<void>;
  /** The latest `limit` runs, newest slot first. */
  recent(limit: number): Promise<SendRun[]>;
}

/** What a dashboard account may do: everything; every client but not the users; one client, read-only. */
export type UserRole = 'admin' | 'staff' | 'client';

/** A dashboard account, without its password hash. */
export interface User {
  id: string;
  /** Lower-cased. */
  email: string;
  role: UserRole;
  /** The one client a `client` user sees; absent for the other roles. */
  client_id?: string;
  /** ISO 8601. */
  password_changed_at: string;
  created_at: string;
}

/** A dashboard account with its password hash (`scrypt$…`, see `dashboard/auth/passwords.ts`). */
export interface UserRecord extends User {
  password_hash: string;
}

/** Dashboard accounts. */
export interface UserStore {
  /** @throws {InvalidInputError} for an email already taken or an unknown client. */
  create(input: { email: string; role: UserRole; client_id?: string; password_hash: string }, at: Date): Promise<User>;
  get(id: string): Promise<UserRecord | undefined>;
  /** By lower-cased email. */
  byEmail(email: string): Promise<UserRecord | undefined>;
  /** By email. */
  list(): Promise<User[]>;
  count(): Promise<number>;
  /** Replaces the password hash and ends every session of the user, in one transaction. `false` for an unknown id. */
  setPassword(id: string, passwordHash: string, at: Date): Promise<boolean>;
  /** Stores the same password's hash made with newer parameters; sessions and `password_changed_at` stay. */
  rehash(id: string, passwordHash: string): Promise<void>;
  /** Removes the user and its sessions. `false` for an unknown id. */
  remove(id: string): Promise<boolean>;
}

/** A dashboard session, known by the SHA-256 of its id. */
export interface Session {
  id_hash: string;
  user_id: string;
  /** ISO 8601. */
  created_at: string;
  last_seen_at: string;
  /** The absolute end, whatever the activity. */
  expires_at: string;
}

/** Dashboard sessions. Expiry is the caller's rule: the store keeps what it is given. */
export interface SessionStore {
  create(session: Session): Promise<void>;
  /** The session with its user. */
  get(idHash: string): Promise<{ session: Session; user: UserRecord } | undefined>;
  touch(idHash: string, at: Date): Promise<void>;
  remove(idHash: string): Promise<void>;
  /** Ends every session of a user ("sign out everywhere"); returns how many. */
  removeForUser(userId: string): Promise<number>;
  /** Deletes sessions past their absolute end or idle since before `idleBefore`; returns how many. */
  purge(now: Date, idleBefore: Date): Promise<number>;
}

/** Failed sign-ins by key (a hash of the account or the address), for throttling across processes. */
export interface LoginFailureStore {
  record(keys: readonly string[], at: Date): Promise<void>;
  /** Failures of `key` at or after `since`, and the earliest of them. */
  recent(key: string, since: Date): Promise<{ count: number; first?: string }>;
  clear(key: string): Promise<void>;
  /** Deletes failures before `before`. */
  purge(before: Date): Promise<number>;
}

/** Counts of beacons the pixel limits refused, written once per window by each collector. */
export interface BeaconThrottleStore {
  /** Adds `count` refusals of `scope` for a client to the window starting at `windowStart` (several processes add up). */
  record(rows: ReadonlyArray<{ client_id: string; scope: ThrottleScope; count: number }>, windowStart: Date): Promise<void>;
  /** Refusals per client in windows starting at or after `since`, by client id; clients with none are left out. */
  counts(since: Date): Promise<ThrottleCount[]>;
}

/** The storage of the whole product. */
export interface Store {
  /** Which engine this is. */
  readonly engine: 'sqlite' | 'postgres';
  /** Where it is, for logs and errors: the file, or the server's host and database (never a password). */
  readonly location: string;
  clients: ClientStore;
  stages: StageStore;
  events: EventStore;
  outbox: OutboxStore;
  connections: ConnectionStore;
  /** "Connect with OAuth": pending authorizations, grant facts, refresh leases. */
  oauth: OAuthStore;
  pixelOrigins: PixelOriginStore;
  sends: SendLogStore;
  googleRequests: GoogleRequestStore;
  runs: SendRunStore;
  stats: StatsStore;
  users: UserStore;
  sessions: SessionStore;
  loginFailures: LoginFailureStore;
  throttles: BeaconThrottleStore;
  /** Readiness and the gauges of `/metrics`, for operators. */
  monitor: MonitorStore;
  /** Removal of events past the retention. */
  retention: RetentionStore;
  /** Closes the connection(s). Idempotent. */
  close(): Promise<void>;
}

/** Whether the database can serve this process now (`GET /readyz`). */
export type StoreReadiness =
  | { ready: true }
  /** `unavailable`: no answer within the timeout, or SQLite's write lock held past it; `schema`: the migrations recorded differ from this version's. */
  | { ready: false; reason: 'unavailable' | 'schema' };

/** Figures read from the database at each metrics scrape. */
export interface StoreGauges {
  /** Outbox rows `pending` or `retrying` whose due time has come. */
  outbox_due: number;
  /** The due time of the oldest of them (ISO 8601); absent when none is due. */
  oldest_due_at?: string;
  /** Paused connections per platform (platforms with none are left out). */
  paused_connections: Array<{ platform: Platform; count: number }>;
  /** Bytes the database takes: the SQLite file and its WAL, or PostgreSQL's `pg_database_size`. */
  database_bytes: number;
}

/** What operators watch: readiness and the gauges of `/metrics`. */
export interface MonitorStore {
  /**
   * Whether the database answers within `timeoutMs` (on SQLite: the write lock can be taken)
   * and records exactly the migrations this version ships. Never throws.
   */
  ready(timeoutMs: number): Promise<StoreReadiness>;
  /** The gauges at `now`. */
  gauges(now: Date): Promise<StoreGauges>;
  /** Rows and bytes (with its indexes) of every table of the product, by name (`pruuv db stats`). */
  tables(): Promise<TableSize[]>;
}

/** One table's size, its indexes included. */
export interface TableSize {
  table: string;
  rows: number;
  /** Table and indexes: SQLite's `dbstat` pages, PostgreSQL's `pg_total_relation_size`. */
  bytes: number;
}
