/**
 * What a platform is to the sender: ONE definition object per platform
 * (`platforms/<name>/index.ts`), listed once in the registry
 * (`platforms/index.ts`). The shared engine (`sendBatch`, `runSendPass`,
 * eligibility, the retry policy) knows platforms only through this contract;
 * a platform never imports another.
 */
import type { z } from 'zod';
import type { ClickIdName, CookieIdName } from '../click-ids.js';
import type { FetchLike, HttpRequest } from '../http.js';
import type { Classified } from '../outcomes.js';
import type { OutboxStore } from '../outbox-store.js';
import type { DeadReason, RetryRule } from '../retry-rules.js';
import type { Shared } from '../shared-services.js';
import type { SendLogger, SendStore } from '../runtime/store.js';
import type { ConversionEvent, StageOverrides } from '../types.js';
import type { OAuthProvider } from './oauth-provider.js';
import type { Eligibility } from './preflight.js';

/** What every connection has: its platform, and the validate/build-only switch. */
export interface ConnectionBase {
  platform: string;
  /** Validate only: build and audit, do not deliver. */
  dry_run?: boolean;
}

/** What every plan (an event eligibility accepted, with the values it resolved) has. */
export interface PlanBase {
  platform: string;
  event: ConversionEvent;
  /** The click the conversion is uploaded with, when the plan names one: its first-seen time bounds the retries of a platform with a click window. */
  click?: { ts?: string };
}

/** The field names of a connection: its keys but `platform`. */
export type FieldName<C extends ConnectionBase> = Exclude<keyof C, 'platform'> & string;

/**
 * One field of a connection, as a person sets it (`pruuv connections set --pixel-id …`).
 * Derived from the connection's schema by `connectionFields` (`connection-fields.ts`).
 */
export interface ConnectionField<N extends string = string> {
  name: N;
  /** `secret` fields are stored encrypted and never shown back (access tokens, client secrets, refresh and developer tokens). */
  kind: 'setting' | 'secret';
  /** Without it the platform cannot send. */
  required: boolean;
  /** Filled in when a person leaves the field out (an optional field reads a missing value as this default). */
  default?: string;
  /** What the field is, for a person: `Pixel (dataset) id`. */
  label: string;
  /** `boolean`: a switch (`--dry-run`, `--no-dry-run`); `choice`: one of {@link choices}; else text. */
  type: 'text' | 'boolean' | 'choice';
  /** The values a `choice` field takes. */
  choices?: readonly string[];
}

/** A platform's connection: the fields a person sets and the schema that checks them. */
export interface ConnectionSpec<C extends ConnectionBase = ConnectionBase> {
  /**
   * A `z.object` that checks a connection and normalises it (Google ids lose
   * their hyphens); input and output have the connection's type.
   */
  schema: z.ZodType<C, C> & z.core.$ZodTypeDiscriminable & { readonly shape: z.core.$ZodShape };
  /** Every field but `platform`, in schema order (the order `connections list` prints them). */
  fields: readonly ConnectionField[];
}

/** A client-side request budget. */
export interface RateLimit {
  /** Requests allowed per interval, and the burst size. */
  capacity: number;
  /** Interval in ms over which `capacity` requests are allowed. */
  intervalMs: number;
}

/** The last moment a retry can still be accepted, and what to say past it. */
export interface Deadline {
  /** Milliseconds since the epoch. */
  at: number;
  reason: DeadReason;
  message: string;
}

/** What a platform's retry deadline depends on. */
export interface DeadlineInput {
  /** The conversion time. */
  eventTime: Date;
  /** The uploaded click's first-seen time, when the plan names a click and knows it. */
  clickTime?: Date;
}

/** Everything one `sendBatch` call gives an adapter: the injected seams, resolved. */
export interface SendContext<U extends string = string, V extends string = string> {
  fetch: FetchLike;
  now: () => Date;
  /** API base URLs, the adapter's own keys of `sendBatch`'s `urls`. */
  urls: Readonly<Record<U, string>>;
  /** API versions, the adapter's own keys of `sendBatch`'s `versions`. */
  versions: Readonly<Record<V, string>>;
  /** Per request, in ms. */
  timeoutMs: number;
  /** How waits for a request budget are slept. */
  sleep: (ms: number) => Promise<void>;
  /** Objects shared across the calls of a pass (token caches, request budgets). */
  shared: Shared;
}

/** One `sendBatch` call's sending on one connection, as an adapter's `open` returns it. */
export interface PlatformSender<P extends PlanBase, C extends ConnectionBase = never> {
  /**
   * Runs once, before any plan is frozen or sent (never for a build-only dry run): reads what the
   * platform says now about the connection's settings and answers the connection to build with
   * (Microsoft: the goal's live enhanced-conversions flag, microsoft-ads.md §7.3), which is also what
   * the adapter's `frozenFields` take. `undefined` when the platform already refused the connection
   * (Microsoft: no such active goal, a revoked grant): nothing will be sent, so nothing is frozen, and
   * `send` answers the refusal. Never throws. Defaults to the connection as stored.
   */
  prepare?(): Promise<C | undefined>;
  /** Plans with different keys never share a request (Data Manager: one conversion action per request). Defaults to one key. */
  requestKey?(plan: P): string;
  /**
   * Sends one request for `plans` (at most `maxBatch`, one request key) and
   * reads the answer. Never throws for a platform or network failure: those
   * are verdicts of the retry table.
   */
  send(plans: readonly P[]): Promise<Classified>;
  /** The request `send` would make; required when the adapter's `dryRun` is `build-only`. */
  preview?(plans: readonly P[]): HttpRequest;
}

/** What one round of delivery checks did. */
export interface DeliveryCheckSummary {
  /** Deliveries checked. */
  checked: number;
  /** Of those, now final (no check will follow). */
  final: number;
  /** Of those, with records the platform could not use. */
  with_errors: number;
}

/** A platform's checks of delivered batches, run after each pass and when they fall due. */
export interface DeliveryChecks {
  /** Checks what is due now, one after the other. */
  run(): Promise<DeliveryCheckSummary>;
  /** When the next check is due, `undefined` when none is waiting. */
  nextDue(): Promise<Date | undefined>;
}

/** What a platform's delivery checks run with: the runtime's storage, credentials and services. */
export interface DeliveryCheckContext {
  store: Pick<SendStore, 'diagnostics'>;
  /** Opens the client's connection (secrets decrypted). */
  connections: Pick<OutboxStore, 'connection'>;
  fetch: FetchLike;
  now: () => Date;
  /** Base URLs and versions of every platform (the adapter reads its own). */
  urls: Readonly<Record<string, string>>;
  versions: Readonly<Record<string, string>>;
  /** The process's shared services (one token cache across passes and checks). */
  shared: Shared;
  logger?: SendLogger;
  timeoutMs?: number;
}

/**
 * A platform that reports later what became of a delivered batch (Google Data Manager
 * answers 200 before matching, google-data-manager.md §6): which deliveries to keep for
 * checking, and the checks.
 */
export interface DeliveryCheckSpec<C extends ConnectionBase> {
  /** Whether the delivered batches of this connection are kept for checks. */
  tracks(connection: C): boolean;
  /** When to check a batch the platform accepted at `sentAt` first. */
  firstCheck(sentAt: Date, now: Date): Date;
  create(context: DeliveryCheckContext): DeliveryChecks;
}

/**
 * Fields of a platform's request that a retry must send exactly as the first
 * attempt did, for a platform that deduplicates on the values themselves
 * instead of an event id (Microsoft keys duplicates on the click, the goal
 * name, the conversion time and the hashes, microsoft-ads.md §5): a setting
 * changed while retries are pending must not change what a retry sends. The
 * runtime stores the string `take` returns on the outbox row before the first
 * attempt is sent, and hands it to `apply` on every later attempt.
 */
export interface FrozenFieldsSpec<C extends ConnectionBase, P extends PlanBase> {
  /**
   * The fields to freeze for `plan`, as a short string (only what can change
   * between attempts: the stored event's own fields do not); `undefined` when
   * this attempt will send nothing for it (nothing to freeze yet).
   */
  take(connection: C, plan: P, now: Date): string | undefined;
  /** `plan` carrying the fields frozen at its first attempt; `undefined` when `frozen` cannot be read. */
  apply(plan: P, frozen: string): P | undefined;
}

/**
 * One platform. `C` is its connection, `P` its plan, `U` and `V` the keys of
 * its API base URLs and versions in `sendBatch`'s `urls` and `versions`.
 * Methods are declared as methods so the registry can hold every adapter as a
 * `PlatformAdapter<Connection, Plan>`: the engine hands each one only its own
 * connections and plans.
 */
export interface PlatformAdapter<
  C extends ConnectionBase = ConnectionBase,
  P extends PlanBase = PlanBase,
  U extends string = string,
  V extends string = string,
> {
  /** The platform id: `Connection.platform`, outbox rows, audit records. */
  readonly id: C['platform'];
  /** The platform's name for people: `Meta`, `Google`, `TikTok`. */
  readonly name: string;
  /** The click IDs a conversion can be attributed with on this platform, each one of `CLICK_ID_NAMES`. */
  readonly clickIds: readonly ClickIdName[];
  /** The first-party cookie IDs the platform matches conversions with, each one of `COOKIE_ID_NAMES` (none for Google). */
  readonly cookieIds: readonly CookieIdName[];
  /** The connection's fields and schema. */
  readonly connection: ConnectionSpec<C>;
  /** The real API base URLs, by their key in `sendBatch`'s `urls`. */
  readonly urls: Readonly<Record<U, string>>;
  /** The API versions the request builders were written against, by their key in `sendBatch`'s `versions`. */
  readonly versions: Readonly<Record<V, string>>;
  /** Most events per request, and per `sendBatch` call of a send pass. */
  readonly maxBatch: number;
  /** Client-side request budgets, by API (the key of its base URL). */
  readonly rateLimits?: Readonly<Partial<Record<U, RateLimit>>>;
  /**
   * How a connection's `dry_run` works. `validate-only`: the platform checks
   * the request and stores nothing (Google `validateOnly`); `build-only`: it
   * has no such mode, so the requests are built, redacted and returned, and
   * nothing is sent.
   */
  readonly dryRun: 'validate-only' | 'build-only';
  /**
   * `true` when the platform deduplicates a resend only within the retry
   * policy's `dedupWindowMs` of the first attempt (Meta and TikTok `event_id`,
   * 48 h): later retries could count twice, so they stop. `false` when it
   * deduplicates without a stated window (Google `orderId`).
   */
  readonly windowedDedup: boolean;
  /** The platform's rows of the retry table, in the order the README prints them. */
  readonly retryRules: readonly RetryRule[];
  /**
   * The message every record this platform sends carries, when it is always the same sentence
   * (Microsoft's "accepted at upload, not yet attributed"); see `standardMessage`. Defaults to none.
   */
  readonly sentMessage?: string;
  /**
   * Pre-flight for one event: send with a plan, or skip with a reason. Denied
   * consent and a connection of another platform are skipped before this is called.
   */
  check(event: ConversionEvent, connection: C | undefined, overrides: StageOverrides | undefined, now: Date): Eligibility<P>;
  /** Rows with different keys go to different `sendBatch` calls of a pass (Google: the conversion action). Defaults to one key. */
  batchKey?(connection: C, overrides: StageOverrides | undefined): string;
  /** A deadline of the platform's own, besides the dedup window (Meta: 7 days after the conversion; Google: 90 days after the click). */
  retryDeadline?(input: DeadlineInput): Deadline | undefined;
  /** Starts one `sendBatch` call on a checked connection. */
  open(connection: C, ctx: SendContext<U, V>): PlatformSender<P, C>;
  /**
   * A made-up click ID for a person's test conversion ("Send test event"), for a platform with
   * neither a validate-only dry run nor a test event code: well formed, so the platform checks the
   * credentials, the account and the conversion settings as for a real one, but belonging to no ad
   * click, so nothing is attributed or counted (Microsoft accepts such a click silently,
   * microsoft-ads.md §4.4). Fresh on each call. Defaults to none: no such test.
   */
  testClickId?(): string;
  /** Fields frozen at the first attempt and resent unchanged by every retry. Defaults to none: each attempt builds its request anew. */
  readonly frozenFields?: FrozenFieldsSpec<C, P>;
  /** Checks of delivered batches, for a platform that reports on them later. Defaults to none. */
  readonly deliveryChecks?: DeliveryCheckSpec<C>;
  /**
   * The platform's "Connect" (OAuth authorization, tokens, discovery, token
   * health), in `platforms/<name>/oauth.ts` (`oauth-provider.ts`). Defaults to
   * none: the connection's tokens are pasted.
   */
  readonly oauth?: OAuthProvider;
}
