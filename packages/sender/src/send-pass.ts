/**
 * One send pass over an outbox: lease the due rows, send them per connection
 * in batches with {@link sendBatch}, and commit each batch's outcomes and
 * audit records in one transaction. Storage is an {@link OutboxStore}.
 *
 * Why leases and per-batch commits: a crash loses at most one batch's commit.
 * Its rows keep their lease until it expires, then the next pass sends them
 * again under the same dedup key (the event id), which the platform absorbs
 * (platforms.md §1.3, §3.2, §4.2). Two senders never hold the same row at once.
 */
import { randomUUID } from 'node:crypto';
import type {
  ClaimedSend,
  HeldConnection,
  LoadedEvent,
  OutboxStore,
  RowUpdate,
  SendRecord,
  StoredConnection,
} from './outbox-store.js';
import type { EventOutcome, OutcomeStatus } from './outcomes.js';
import { PLATFORM_BATCH_LIMITS, groupByConnection, splitBatches } from './pass-batches.js';
import { applyOutcome, expiredBeforeSend } from './pass-outcome.js';
import { PLATFORM_IDS, platformAdapter } from './platforms/index.js';
import { sendBatchWith, type AttemptHistory, type SendBatchOptions } from './send-batch.js';
import { createShared } from './shared-services.js';
import type { ConversionEvent, Platform, StageOverrides } from './types.js';

/** Default lease: longer than the slowest `sendBatch` call (1 + 64 isolation requests × 30 s timeout ≈ 33 min). */
export const DEFAULT_LEASE_MS = 60 * 60_000;
/** Default rows claimed per round: a full Google batch when the three platforms' rows interleave. */
export const DEFAULT_CLAIM_LIMIT = 6000;

/** What a batch looks like just before its outcomes are committed. */
export interface BatchInfo {
  client_id: string;
  platform: Platform;
  connection_id?: string;
  /** Events in the batch. */
  size: number;
  /** HTTP requests made for it. */
  requests: number;
  counts: Readonly<Record<OutcomeStatus, number>>;
  /** Rows removed from the outbox unsent and unrecorded: the client has no connection for the platform. */
  discarded: number;
}

/** Options of {@link runSendPass}. The `sendBatch` seams are passed through. */
export interface SendPassOptions
  extends Pick<
    SendBatchOptions,
    | 'fetch'
    | 'now'
    | 'urls'
    | 'versions'
    | 'tokenCache'
    | 'timeoutMs'
    | 'random'
    | 'retryPolicy'
    | 'dataManagerLimiter'
    | 'sleep'
    | 'maxSplitRequests'
  > {
  store: OutboxStore;
  /** Lease owner; use one random id per process. Defaults to a random UUID. */
  owner?: string;
  /** Id written on every audit record of this pass. Defaults to a random UUID. */
  passId?: string;
  /** How long a claim holds a row; extended before a batch once half of it has passed. Defaults to `3_600_000` (1 h). */
  leaseMs?: number;
  /** Rows claimed per round. Defaults to `6000`. */
  claimLimit?: number;
  /** Only retries and rows a crashed sender left leased, no fresh rows. Defaults to `false`. */
  retriesOnly?: boolean;
  /**
   * Runs after the platform answered and before the outcomes are committed.
   * A seam for crash tests (a hook that kills the process here must lead to a
   * resend, never a loss) and for progress output.
   */
  beforeCommit?: (batch: BatchInfo) => void | Promise<void>;
  /** Runs after each batch is committed. */
  afterCommit?: (batch: BatchInfo) => void | Promise<void>;
}

/** A connection paused by this pass. */
export interface PausedNow {
  connection_id: string;
  client_id: string;
  platform: Platform;
  reason: string;
}

/** What a pass did. */
export interface PassReport {
  pass_id: string;
  owner: string;
  /** ISO 8601. Only rows due at or before this time were claimed. */
  started_at: string;
  finished_at: string;
  duration_ms: number;
  /** Rows leased. */
  claimed: number;
  /** Outcomes written, by status. */
  counts: Record<OutcomeStatus, number>;
  /** Outcomes written, by platform and status. */
  platforms: Record<Platform, Record<OutcomeStatus, number>>;
  /** `sendBatch` calls. */
  batches: number;
  /** HTTP requests to the platforms (token refreshes not counted). */
  requests: number;
  /** Claimed rows given back unsent: their connection was paused or unreadable, or their lease was lost. */
  released: number;
  /**
   * Claimed rows removed from the outbox, neither sent nor recorded: the client has no connection
   * at all for their platform (a connection that exists but is incomplete, paused or a dry run
   * keeps its skipped records). Not in `counts`.
   */
  discarded: number;
  /** Connections this pass paused (auth or permission errors). */
  paused: PausedNow[];
  /** Every paused connection after the pass, with the rows it holds back. */
  held: HeldConnection[];
  /** Connections that could not be read (e.g. a secret under a key no longer configured). */
  errors: Array<{ client_id: string; platform: Platform; message: string }>;
}

const STATUSES: readonly OutcomeStatus[] = ['sent', 'failed', 'skipped', 'retrying', 'dead'];

function zeroCounts(): Record<OutcomeStatus, number> {
  return { sent: 0, failed: 0, skipped: 0, retrying: 0, dead: 0 };
}

function zeroCountsPerPlatform(): Record<Platform, Record<OutcomeStatus, number>> {
  return Object.fromEntries(PLATFORM_IDS.map((id) => [id, zeroCounts()])) as Record<Platform, Record<OutcomeStatus, number>>;
}

/** Everything one pass carries from batch to batch. */
interface Pass {
  options: SendPassOptions;
  store: OutboxStore;
  clock: () => Date;
  owner: string;
  passId: string;
  leaseMs: number;
  cutoff: Date;
  fetch: NonNullable<SendBatchOptions['fetch']>;
  shared: ReturnType<typeof createShared>;
  report: PassReport;
  connections: Map<string, StoredConnection | undefined>;
  /** Connections that could not be read, by `client\0platform`. */
  unreadable: Set<string>;
  /** Connections this pass paused, by `client\0platform`. */
  pausedNow: Set<string>;
  /**
   * Rows set aside during the pass keep their lease until the end, so the next
   * claim round cannot hand them back to us; they are released once, at the end.
   */
  setAside: number[];
}

/** One (client, platform) group of a claim round, with its connection. */
interface Group {
  key: string;
  client_id: string;
  platform: Platform;
  stored: StoredConnection | undefined;
}

/**
 * Runs one pass: claims due rows round after round until none is left, and
 * sends each (client, platform) group in batches of at most the platform's
 * limit (Meta 1,000, TikTok 1,000, Google 2,000, one Google conversion action
 * per batch). Never throws for a platform failure; storage errors propagate.
 */
export async function runSendPass(options: SendPassOptions): Promise<PassReport> {
  const pass = startPass(options);
  const claimLimit = options.claimLimit ?? DEFAULT_CLAIM_LIMIT;
  for (;;) {
    const roundLease = leaseUntil(pass);
    const claimed = await pass.store.claim({
      owner: pass.owner,
      now: pass.clock(),
      cutoff: pass.cutoff,
      leaseUntil: roundLease,
      limit: claimLimit,
      retriesOnly: options.retriesOnly ?? false,
    });
    if (claimed.length === 0) break;
    pass.report.claimed += claimed.length;
    const events = await pass.store.events([...new Set(claimed.map((c) => c.event_id))]);

    for (const claims of groupByConnection(claimed)) {
      const group = await openGroup(pass, claims.client_id, claims.platform);
      if (group === undefined) {
        pass.setAside.push(...claims.claims.map((c) => c.id));
        continue;
      }
      const connection = group.stored?.connection;
      const adapter = platformAdapter(group.platform);
      // Google: one conversion action per batch (the adapter's batchKey).
      const keyOf = (claim: ClaimedSend): string =>
        connection?.platform === adapter.id && adapter.batchKey !== undefined
          ? adapter.batchKey(connection, events.get(claim.event_id)?.overrides)
          : '';
      for (const batch of splitBatches(claims.claims, PLATFORM_BATCH_LIMITS[group.platform], keyOf)) {
        if (pass.pausedNow.has(group.key)) pass.setAside.push(...batch.map((c) => c.id));
        else await passBatch(pass, group, batch, events, roundLease);
      }
    }
  }
  return finishPass(pass);
}

function startPass(options: SendPassOptions): Pass {
  const clock = options.now ?? (() => new Date());
  const owner = options.owner ?? randomUUID();
  const passId = options.passId ?? randomUUID();
  const started = clock();
  return {
    options,
    store: options.store,
    clock,
    owner,
    passId,
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    // Only rows due at or before the pass started: a retry scheduled during the pass waits for the next one.
    cutoff: started,
    fetch: options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init)),
    // One token cache and one Data Manager budget for the whole pass, unless the caller shares its own.
    shared: createShared(options),
    report: {
      pass_id: passId,
      owner,
      started_at: started.toISOString(),
      finished_at: started.toISOString(),
      duration_ms: 0,
      claimed: 0,
      counts: zeroCounts(),
      platforms: zeroCountsPerPlatform(),
      batches: 0,
      requests: 0,
      released: 0,
      discarded: 0,
      paused: [],
      held: [],
      errors: [],
    },
    connections: new Map(),
    unreadable: new Set(),
    pausedNow: new Set(),
    setAside: [],
  };
}

async function finishPass(pass: Pass): Promise<PassReport> {
  const { report } = pass;
  if (pass.setAside.length > 0) {
    await pass.store.release({ owner: pass.owner, ids: pass.setAside, now: pass.clock() });
    report.released += pass.setAside.length;
  }
  report.held = await pass.store.held();
  const finished = pass.clock();
  report.finished_at = finished.toISOString();
  report.duration_ms = Math.max(0, finished.getTime() - new Date(report.started_at).getTime());
  return report;
}

function leaseUntil(pass: Pass): Date {
  return new Date(pass.clock().getTime() + pass.leaseMs);
}

/**
 * The group's connection, read once per pass; `undefined` when its rows must
 * be set aside (paused before or during this pass, or unreadable). A missing
 * connection is a group too: its rows never attempted are removed
 * ({@link discardable}), the others skipped with a reason by `sendBatch`.
 */
async function openGroup(pass: Pass, clientId: string, platform: Platform): Promise<Group | undefined> {
  const key = `${clientId}\u0000${platform}`;
  if (pass.pausedNow.has(key) || pass.unreadable.has(key)) return undefined;
  if (!pass.connections.has(key)) {
    try {
      pass.connections.set(key, await pass.store.connection(clientId, platform));
    } catch (error) {
      pass.unreadable.add(key);
      pass.report.errors.push({ client_id: clientId, platform, message: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }
  const stored = pass.connections.get(key);
  if (stored?.status === 'paused') return undefined;
  return { key, client_id: clientId, platform, stored };
}

/** Sends one batch and commits its outcomes, audit records, removed rows and any pause in one store call. */
async function passBatch(
  pass: Pass,
  group: Group,
  batch: ClaimedSend[],
  events: ReadonlyMap<string, LoadedEvent>,
  roundLease: Date,
): Promise<void> {
  const leased = await keepLease(pass, batch, roundLease);
  pass.report.released += batch.length - leased.length;
  if (leased.length === 0) return;
  const discard = discardable(group.stored !== undefined, leased);
  const gone = new Set(discard);
  const mine = gone.size === 0 ? leased : leased.filter((c) => !gone.has(c.id));

  const attemptedAt = pass.clock();
  const { outcomes, toSend } = preflightClaims(mine, events, attemptedAt, pass.options.retryPolicy);
  const sent = toSend.length > 0 ? await sendToPlatform(pass, group, toSend, events) : undefined;
  sent?.outcomes.forEach((outcome, id) => outcomes.set(id, outcome));
  const dryRun = sent?.dryRun ?? group.stored?.connection.dry_run === true;

  const updates: RowUpdate[] = [];
  const records: SendRecord[] = [];
  const counts = zeroCounts();
  for (const claim of mine) {
    const outcome = outcomes.get(claim.id) as EventOutcome;
    const stageId = events.get(claim.event_id)?.event.stage_id;
    const { update, record } = applyOutcome(claim, outcome, {
      attemptedAt,
      batchSize: mine.length,
      passId: pass.passId,
      dryRun,
      notBefore: pass.cutoff,
      ...(group.stored !== undefined ? { connectionId: group.stored.id } : {}),
      ...(stageId !== undefined ? { stageId } : {}),
    });
    updates.push(update);
    records.push(record);
    counts[outcome.status] += 1;
  }
  const requests = sent?.requests ?? 0;
  const info: BatchInfo = { client_id: group.client_id, platform: group.platform, size: leased.length, requests, counts, discarded: discard.length };
  if (group.stored !== undefined) info.connection_id = group.stored.id;
  const pause =
    sent?.pauseConnection === true && group.stored !== undefined
      ? { connection_id: group.stored.id, reason: pauseReason([...outcomes.values()].find((o) => o.pause_connection === true)) }
      : undefined;

  await pass.options.beforeCommit?.(info);
  await pass.store.commit({
    owner: pass.owner,
    now: pass.clock(),
    updates,
    records,
    ...(discard.length > 0 ? { discard } : {}),
    ...(pause !== undefined ? { pause } : {}),
  });
  await pass.options.afterCommit?.(info);

  const { report } = pass;
  report.batches += 1;
  report.requests += requests;
  report.discarded += discard.length;
  for (const s of STATUSES) {
    report.counts[s] += counts[s];
    report.platforms[group.platform][s] += counts[s];
  }
  if (pause !== undefined) {
    pass.pausedNow.add(group.key);
    report.paused.push({ ...pause, client_id: group.client_id, platform: group.platform });
  }
}

/**
 * The rows of a batch that leave the outbox unsent and unrecorded: the client has no connection
 * at all for the platform, so there is no send to record (the audit log records outbound sends).
 * A row attempted before (a connection deleted since) keeps its history: it is skipped with
 * `no_connection` as any row of an incomplete connection is.
 */
export function discardable(connected: boolean, claims: readonly ClaimedSend[]): number[] {
  return !connected ? claims.filter((c) => c.attempts === 0).map((c) => c.id) : [];
}

/**
 * The batch's rows this pass still holds. While more than half the claim's
 * lease is left nobody else can hold them; past that, extend it and drop any
 * row whose lease ran out and was taken by another sender.
 */
async function keepLease(pass: Pass, batch: ClaimedSend[], roundLease: Date): Promise<ClaimedSend[]> {
  if (pass.clock().getTime() <= roundLease.getTime() - pass.leaseMs / 2) return batch;
  const ids = batch.map((c) => c.id);
  const held = new Set(await pass.store.renew({ owner: pass.owner, ids, leaseUntil: leaseUntil(pass), now: pass.clock() }));
  return batch.filter((c) => held.has(c.id));
}

/**
 * Outcomes decided without a request (event gone, retry window over) and the claims left to
 * send. Pure: `previewPass` makes the same checks without sending.
 */
export function preflightClaims(
  claims: readonly ClaimedSend[],
  events: ReadonlyMap<string, LoadedEvent>,
  attemptedAt: Date,
  retryPolicy: SendPassOptions['retryPolicy'],
): { outcomes: Map<number, EventOutcome>; toSend: ClaimedSend[] } {
  const outcomes = new Map<number, EventOutcome>();
  const toSend: ClaimedSend[] = [];
  for (const claim of claims) {
    if (!events.has(claim.event_id)) {
      outcomes.set(claim.id, {
        event_id: claim.event_id,
        status: 'skipped',
        reason: 'event_not_found',
        message: 'The event is no longer stored.',
      });
      continue;
    }
    const expired = expiredBeforeSend(claim, attemptedAt, retryPolicy);
    if (expired !== undefined) outcomes.set(claim.id, expired);
    else toSend.push(claim);
  }
  return { outcomes, toSend };
}

/** One `sendBatch` call for the claims, with each event's stage overrides and attempt history. */
async function sendToPlatform(
  pass: Pass,
  group: Group,
  toSend: ClaimedSend[],
  events: ReadonlyMap<string, LoadedEvent>,
): Promise<{ outcomes: Map<number, EventOutcome>; requests: number; pauseConnection: boolean; dryRun: boolean }> {
  const { options } = pass;
  const loaded = toSend.map((c) => events.get(c.event_id) as LoadedEvent);
  const overrides: Record<string, StageOverrides> = {};
  const history: Record<string, AttemptHistory> = {};
  toSend.forEach((c, i) => {
    const event = loaded[i] as LoadedEvent;
    if (event.overrides !== undefined) overrides[event.event.stage_id] = event.overrides;
    const h: AttemptHistory = { attempts: c.attempts };
    if (c.first_attempt_at !== undefined) h.first_attempt_at = c.first_attempt_at;
    if (c.frozen !== undefined) h.frozen = c.frozen;
    history[c.event_id] = h;
  });
  // The fields an adapter freezes on a first attempt go on the outbox rows before the request:
  // a crash after sending, or a setting changed before the retry, cannot change what a retry sends.
  const rowOf = new Map(toSend.map((c) => [c.event_id, c.id]));
  const freeze = async (fields: ReadonlyMap<string, string>): Promise<ReadonlyMap<string, string>> => {
    const rows = [...fields].flatMap(([eventId, value]) => {
      const id = rowOf.get(eventId);
      return id === undefined ? [] : [{ id, fields: value }];
    });
    const stored = await pass.store.freeze({ owner: pass.owner, now: pass.clock(), rows });
    const eventOf = new Map(toSend.map((c) => [c.id, c.event_id]));
    return new Map(stored.flatMap((r) => (eventOf.has(r.id) ? [[eventOf.get(r.id) as string, r.fields] as const] : [])));
  };
  const result = await sendBatchWith(
    {
      connection: group.stored?.connection,
      platform: group.platform,
      events: loaded.map((e) => e.event),
      overrides,
      history,
      freeze,
      fetch: pass.fetch,
      now: pass.clock,
      ...(options.urls !== undefined ? { urls: options.urls } : {}),
      ...(options.versions !== undefined ? { versions: options.versions } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.random !== undefined ? { random: options.random } : {}),
      ...(options.retryPolicy !== undefined ? { retryPolicy: options.retryPolicy } : {}),
      ...(options.sleep !== undefined ? { sleep: options.sleep } : {}),
      ...(options.maxSplitRequests !== undefined ? { maxSplitRequests: options.maxSplitRequests } : {}),
    },
    pass.shared,
  );
  const outcomes = new Map<number, EventOutcome>();
  toSend.forEach((c, i) => outcomes.set(c.id, result.outcomes[i] as EventOutcome));
  return { outcomes, requests: result.batch.requests, pauseConnection: result.pause_connection, dryRun: result.batch.dry_run };
}

/** One line for `connections.status_reason`: what the platform said, no secrets. */
function pauseReason(outcome: EventOutcome | undefined): string {
  if (outcome === undefined) return 'The platform refused the credentials.';
  const code = outcome.error_code !== undefined ? ` ${outcome.error_code}` : '';
  const message = outcome.error_message ?? outcome.message ?? '';
  return `${outcome.reason ?? 'auth'}${code}${message !== '' ? `: ${message}` : ''}`.slice(0, 500);
}

/** Every platform, for callers that print per-platform tables. */
export const PASS_PLATFORMS: readonly Platform[] = PLATFORM_IDS;
/** Every outcome status, in the order reports print them. */
export const PASS_STATUSES: readonly OutcomeStatus[] = STATUSES;
