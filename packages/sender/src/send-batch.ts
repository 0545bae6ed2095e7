/**
 * One batch of events for one connection: check each event, build the
 * platform requests, send them, and turn every answer into one outcome per
 * event. What differs per platform is its adapter's (`platforms/<name>/`);
 * this module only dispatches. The outbox (leases, scheduling, audit rows)
 * calls this; every seam is injected so tests run it against the fakes.
 */
import { SenderError } from './errors.js';
import { DEFAULT_TIMEOUT_MS, redactRequest, type FetchLike, type HttpRequest } from './http.js';
import { sendIsolating, type IsolateState, type ItemResult } from './isolate.js';
import { checkEligibility } from './eligibility.js';
import { splitBatches } from './pass-batches.js';
import type { TokenCache } from './oauth.js';
import type { EventOutcome } from './outcomes.js';
import type { PlatformSender, SendContext } from './platforms/adapter.js';
import {
  DEFAULT_URLS,
  DEFAULT_VERSIONS,
  platformAdapter,
  type AnyPlatformAdapter,
  type ApiVersions,
  type Connection,
  type Plan,
  type Platform,
  type PlatformUrls,
} from './platforms/index.js';
import type { TokenBucket } from './rate-limit.js';
import { nextAttempt, type RetryPolicy } from './retry-policy.js';
import { conversionEventSchema, formatIssues } from './schema.js';
import { createShared, type Shared } from './shared-services.js';
import { DRY_RUN_MESSAGE } from './standard-messages.js';
import type { ConversionEvent, StageOverrides } from './types.js';

/** Earlier attempts of one event on this platform, from the outbox. */
export interface AttemptHistory {
  /** Attempts already made (0 before the first). */
  attempts: number;
  /** ISO 8601 time of the first attempt: the platforms' dedup windows start there. */
  first_attempt_at?: string;
  /** The fields the adapter froze at the first attempt (`frozenFields`): this attempt resends them. */
  frozen?: string;
}

/** Input of {@link sendBatch}. */
export interface SendBatchOptions {
  /** The client's connection for the platform; `undefined` skips every event with `no_connection`. */
  connection: Connection | undefined;
  /** Required when `connection` is `undefined`; otherwise taken from it. */
  platform?: Platform;
  /** Events of one client, any stages. */
  events: readonly ConversionEvent[];
  /** Overrides per `stage_id`. */
  overrides?: Readonly<Record<string, StageOverrides>>;
  /** Earlier attempts per event id. Defaults to none: this is the first attempt. */
  history?: Readonly<Record<string, AttemptHistory>>;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Defaults to `() => new Date()`. */
  now?: () => Date;
  /** Defaults to {@link DEFAULT_URLS}. */
  urls?: Partial<PlatformUrls>;
  /** Defaults to {@link DEFAULT_VERSIONS}. */
  versions?: Partial<ApiVersions>;
  /** Google access tokens. Share one across calls. Defaults to a cache for this call only. */
  tokenCache?: TokenCache;
  /** Per request. Defaults to `30_000` ms. */
  timeoutMs?: number;
  /** Jitter source. Defaults to `Math.random`. */
  random?: () => number;
  retryPolicy?: Partial<RetryPolicy>;
  /**
   * Data Manager request slots; share one per Google Cloud project.
   * Defaults to a 300-per-minute bucket for this call only.
   */
  dataManagerLimiter?: TokenBucket;
  /** How waits for the limiter are slept. Defaults to `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
  /** Extra requests allowed to isolate bad events. Defaults to `64`. */
  maxSplitRequests?: number;
  /**
   * Stores the fields an adapter with `frozenFields` freezes for events on their
   * first attempt (by event id), before anything is sent, and answers what each
   * event's row holds (an earlier value wins). The send pass writes them on the
   * outbox rows. Defaults to none: the fields are used for this call only.
   */
  freeze?: (fields: ReadonlyMap<string, string>) => Promise<ReadonlyMap<string, string>>;
}

/** What {@link sendBatch} did. */
export interface BatchResult {
  platform: Platform;
  /** One per input event, in input order. */
  outcomes: EventOutcome[];
  batch: {
    /** Events given. */
    size: number;
    /** Events that passed the pre-flight checks. */
    eligible: number;
    /** HTTP requests to the platform (token refreshes not counted). */
    requests: number;
    dry_run: boolean;
    /** The connection's `api`, on a platform with more than one: Google `ads` | `data-manager`, Microsoft `offline-conversions` | `uet-capi`. */
    api?: 'ads' | 'data-manager' | 'offline-conversions' | 'uet-capi';
  };
  /** Some answer said the connection's credentials or account are unusable. */
  pause_connection: boolean;
  /** Dry runs of Meta and TikTok (no validate-only mode): the requests that would have gone, secrets redacted. */
  dry_run_requests?: HttpRequest[];
}

/** An event that passed the pre-flight, at its index in the input. */
export interface Planned {
  index: number;
  plan: Plan;
}

/**
 * Sends one batch and reports one outcome per event. Never throws for a
 * platform or network failure: those become `retrying`, `failed` or `dead`
 * outcomes. Throws {@link SenderError} only for misuse (no platform given).
 */
export async function sendBatch(options: SendBatchOptions): Promise<BatchResult> {
  return sendBatchWith(options, createShared(options));
}

/** {@link sendBatch} with the token caches and request budgets of a whole pass. */
export async function sendBatchWith(options: SendBatchOptions, shared: Shared): Promise<BatchResult> {
  const platform = options.platform ?? options.connection?.platform;
  if (!platform) throw new SenderError('sendBatch needs a connection or a platform; pass `platform` when there is no connection.');
  const adapter = platformAdapter(platform);
  const ctx = sendContext(options, shared);
  const startedAt = ctx.now();
  const { outcomes, planned: checked } = preflightEvents(options, platform, startedAt);
  let planned = checked;

  const dryRun = options.connection?.dry_run === true;
  const result: BatchResult = {
    platform,
    outcomes,
    batch: { size: options.events.length, eligible: planned.length, requests: 0, dry_run: dryRun },
    pause_connection: false,
  };
  if (options.connection !== undefined && 'api' in options.connection) result.batch.api = options.connection.api;
  if (planned.length === 0 || options.connection === undefined) return result;

  // Eligibility validated the connection; the parsed copy is normalised (Google ids without hyphens).
  const connection = adapter.connection.schema.parse(options.connection);
  const sender = adapter.open(connection, ctx);
  const buildOnly = dryRun && adapter.dryRun === 'build-only';
  // What the platform says now of the settings (Microsoft's live goal flag); a build-only dry run asks nothing.
  const live = !buildOnly && sender.prepare !== undefined ? await sender.prepare() : connection;
  if (adapter.frozenFields !== undefined) {
    // A connection the platform refused before any request freezes nothing: a fixed connection's first real attempt will.
    planned = await applyFrozen(adapter.frozenFields, live, planned, options, outcomes, dryRun || live === undefined, startedAt);
    if (planned.length === 0) return result;
  }
  const requests = splitBatches(planned, adapter.maxBatch, (it) => sender.requestKey?.(it.plan) ?? '');
  const state: IsolateState = { budget: options.maxSplitRequests ?? 64, requests: 0 };
  const results = new Map<number, ItemResult>();
  if (buildOnly) {
    result.dry_run_requests = requests.map((items) => redactRequest(preview(adapter, sender, items)));
    for (const it of planned) results.set(it.index, { result: { kind: 'validated' } });
  } else {
    for (const items of requests) {
      const itemResults = await sendIsolating(items, (batch) => sender.send(batch.map((i) => i.plan)), state);
      items.forEach((it, k) => results.set(it.index, itemResults[k] as ItemResult));
    }
  }

  result.batch.requests = state.requests;
  for (const { index, plan } of planned) {
    const item = results.get(index);
    if (!item) continue;
    const outcome = toOutcome(plan, item, options, startedAt, ctx.now);
    outcomes[index] = outcome;
    if (outcome.pause_connection) result.pause_connection = true;
  }
  return result;
}

/**
 * Plans carrying the fields frozen at their first attempt: those of the history, or, on a first
 * attempt, the adapter's, stored through `freeze` before anything is sent (a dry run, or a call on
 * a connection the platform refused in `prepare`, delivers nothing, so it stores nothing). A plan
 * whose stored fields cannot be read fails with a reason rather than go out with fields that may
 * differ from the first attempt's.
 */
async function applyFrozen(
  spec: NonNullable<AnyPlatformAdapter['frozenFields']>,
  connection: Connection | undefined,
  planned: readonly Planned[],
  options: SendBatchOptions,
  outcomes: EventOutcome[],
  noSend: boolean,
  now: Date,
): Promise<Planned[]> {
  const fresh = new Map<string, string>();
  for (const { plan } of planned) {
    if (options.history?.[plan.event.id]?.frozen !== undefined || noSend || connection === undefined) continue;
    const fields = spec.take(connection, plan, now);
    if (fields !== undefined) fresh.set(plan.event.id, fields);
  }
  const stored = fresh.size > 0 && options.freeze !== undefined ? await options.freeze(fresh) : fresh;
  const out: Planned[] = [];
  for (const it of planned) {
    const id = it.plan.event.id;
    const fields = options.history?.[id]?.frozen ?? stored.get(id) ?? fresh.get(id);
    if (fields === undefined) {
      out.push(it);
      continue;
    }
    const plan = spec.apply(it.plan, fields);
    if (plan !== undefined) out.push({ index: it.index, plan });
    else {
      outcomes[it.index] = {
        event_id: id,
        status: 'failed',
        reason: 'invalid_frozen_fields',
        message: 'The fields stored at the first attempt cannot be read; not sent, so that no retry differs from it.',
      };
    }
  }
  return out;
}

/** The seams of one call, defaults applied. */
function sendContext(options: SendBatchOptions, shared: Shared): SendContext {
  return {
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    now: options.now ?? (() => new Date()),
    urls: { ...DEFAULT_URLS, ...options.urls },
    versions: { ...DEFAULT_VERSIONS, ...options.versions },
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    shared,
  };
}

/**
 * Checks every event: a skip outcome, or a plan to send. Outcomes of planned events are filled
 * in after sending. Pure: `previewPass` makes the same checks without sending.
 */
export function preflightEvents(
  options: Pick<SendBatchOptions, 'events' | 'overrides' | 'connection'>,
  platform: Platform,
  now: Date,
): { outcomes: EventOutcome[]; planned: Planned[] } {
  const outcomes: EventOutcome[] = new Array<EventOutcome>(options.events.length);
  const planned: Planned[] = [];
  const seen = new Set<string>();
  options.events.forEach((event, index) => {
    const parsed = conversionEventSchema.safeParse(event);
    if (!parsed.success) {
      outcomes[index] = { event_id: String(event?.id ?? ''), status: 'skipped', reason: 'invalid_event', message: `Invalid event: ${formatIssues(parsed.error)}.` };
      return;
    }
    if (seen.has(event.id)) {
      outcomes[index] = { event_id: event.id, status: 'skipped', reason: 'duplicate_in_batch', message: 'The same event id appears earlier in this batch.' };
      return;
    }
    seen.add(event.id);
    const overrides = options.overrides?.[event.stage_id];
    const check = checkEligibility({ event, platform, connection: options.connection, ...(overrides ? { overrides } : {}), now });
    if (check.send) planned.push({ index, plan: check.plan });
    else outcomes[index] = { event_id: event.id, status: 'skipped', reason: check.reason, message: check.message };
  });
  return { outcomes, planned };
}

/** The request a build-only dry run would have sent. */
function preview(adapter: AnyPlatformAdapter, sender: PlatformSender<Plan, Connection>, items: readonly Planned[]): HttpRequest {
  if (sender.preview === undefined) throw new SenderError(`The ${adapter.name} adapter's dry run is build-only but its sender has no preview.`);
  return sender.preview(items.map((i) => i.plan));
}

function toOutcome(
  plan: Plan,
  item: ItemResult,
  options: SendBatchOptions,
  startedAt: Date,
  clock: () => Date,
): EventOutcome {
  const e = plan.event;
  const o: EventOutcome = { event_id: e.id, status: 'sent' };
  if (item.http_status !== undefined) o.http_status = item.http_status;
  if (item.request_id !== undefined) o.request_id = item.request_id;
  const r = item.result;
  if (r.kind === 'sent') return r.message !== undefined ? { ...o, message: r.message } : o;
  if (r.kind === 'validated') {
    return { ...o, status: 'skipped', reason: 'dry_run', message: DRY_RUN_MESSAGE };
  }
  o.reason = r.reason;
  if (r.error_code !== undefined) o.error_code = r.error_code;
  if (r.error_message !== undefined) o.error_message = r.error_message;
  switch (r.kind) {
    case 'delivered':
      return o; // status sent: the platform already counted it
    case 'fail':
    case 'split':
      return { ...o, status: 'failed' };
    case 'pause':
      return { ...o, status: 'failed', pause_connection: true };
    case 'retry': {
      const history = options.history?.[e.id];
      const clickTs = 'click' in plan && plan.click.ts !== undefined ? new Date(plan.click.ts) : undefined;
      const next = nextAttempt({
        platform: plan.platform,
        attempt: (history?.attempts ?? 0) + 1,
        firstAttemptAt: history?.first_attempt_at !== undefined ? new Date(history.first_attempt_at) : startedAt,
        now: clock(),
        eventTime: new Date(e.event_time),
        ...(clickTs ? { clickTime: clickTs } : {}),
        ...(r.minDelayMs !== undefined ? { minDelayMs: r.minDelayMs } : {}),
        ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}),
        ...(options.random ? { random: options.random } : {}),
        ...(options.retryPolicy ? { policy: options.retryPolicy } : {}),
      });
      if (next.status === 'retrying') return { ...o, status: 'retrying', next_attempt_at: next.at.toISOString() };
      return { ...o, status: 'dead', reason: next.reason, message: `${next.message} Last failure: ${r.reason}.` };
    }
  }
}
