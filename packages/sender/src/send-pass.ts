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

function toOverrides(loaded: LoadedEvent | undefined): StageOverrides | undefined {
  return loaded?.overrides;
}

/**
 * Runs one pass: claims due rows round after round until none is left, and
 * sends each (client, platform) group in batches of at most the platform's
 * limit (Meta 1,000, TikTok 1,000, Google 2,000, one Google conversion action
 * per batch). Never throws for a platform failure; storage errors propagate.
 */
export async function runSendPass(options: SendPassOptions): Promise<PassReport> {
  const clock = options.now ?? (() => new Date());
  const store = options.store;
  const owner = options.owner ?? randomUUID();
  const passId = options.passId ?? randomUUID();
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const claimLimit = options.claimLimit ?? DEFAULT_CLAIM_LIMIT;
  const fetchImpl = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  // One token cache and one Data Manager budget for the whole pass, unless the caller shares its own.
  const shared = createShared(options);

  const started = clock();
  const cutoff = started;
  const report: PassReport = {
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
    paused: [],
    held: [],
    errors: [],
  };

  const connections = new Map<string, StoredConnection | undefined>();
  const unreadable = new Set<string>();
  const pausedNow = new Set<string>();
  // Rows set aside during the pass keep their lease until the end, so the next
  // claim round cannot hand them back to us; they are released once, at the end.
  const setAside: number[] = [];
  const leaseUntil = (): Date => new Date(clock().getTime() + leaseMs);

  const connectionOf = async (clientId: string, platform: Platform): Promise<StoredConnection | undefined> => {
    const key = `${clientId}\u0000${platform}`;
    if (!connections.has(key)) connections.set(key, await store.connection(clientId, platform));
    return connections.get(key);
  };

  for (;;) {
    const roundLease = leaseUntil();
    const claimed = await store.claim({
      owner,
      now: clock(),
      cutoff,
      leaseUntil: roundLease,
      limit: claimLimit,
      retriesOnly: options.retriesOnly ?? false,
    });
    if (claimed.length === 0) break;
    report.claimed += claimed.length;
    const events = await store.events([...new Set(claimed.map((c) => c.event_id))]);

    for (const group of groupByConnection(claimed)) {
      const key = `${group.client_id}\u0000${group.platform}`;
      if (pausedNow.has(key) || unreadable.has(key)) {
        setAside.push(...group.claims.map((c) => c.id));
        continue;
      }
      let stored: StoredConnection | undefined;
      try {
        stored = await connectionOf(group.client_id, group.platform);
      } catch (error) {
        unreadable.add(key);
        report.errors.push({
          client_id: group.client_id,
          platform: group.platform,
          message: error instanceof Error ? error.message : String(error),
        });
        setAside.push(...group.claims.map((c) => c.id));
        continue;
      }
      if (stored?.status === 'paused') {
        setAside.push(...group.claims.map((c) => c.id));
        continue;
      }
      const connection = stored?.connection;
      const adapter = platformAdapter(group.platform);
      // Google: one conversion action per batch (the adapter's batchKey).
      const keyOf = (claim: ClaimedSend): string =>
        connection?.platform === adapter.id && adapter.batchKey !== undefined
          ? adapter.batchKey(connection, toOverrides(events.get(claim.event_id)))
          : '';
      const batches = splitBatches(group.claims, PLATFORM_BATCH_LIMITS[group.platform], keyOf);

      for (let b = 0; b < batches.length; b++) {
        const batch = batches[b] as ClaimedSend[];
        if (pausedNow.has(key)) {
          setAside.push(...batch.map((c) => c.id));
          continue;
        }
        // While more than half the claim's lease is left nobody else can hold these rows;
        // past that, extend it (and drop any row whose lease ran out and was taken).
        let mine = batch;
        if (clock().getTime() > roundLease.getTime() - leaseMs / 2) {
          const held = new Set(await store.renew({ owner, ids: batch.map((c) => c.id), leaseUntil: leaseUntil(), now: clock() }));
          mine = batch.filter((c) => held.has(c.id));
        }
        report.released += batch.length - mine.length;
        if (mine.length === 0) continue;

        const attemptedAt = clock();
        const outcomes = new Map<number, EventOutcome>();
        const toSend: ClaimedSend[] = [];
        for (const claim of mine) {
          const loaded = events.get(claim.event_id);
          if (loaded === undefined) {
            outcomes.set(claim.id, {
              event_id: claim.event_id,
              status: 'skipped',
              reason: 'event_not_found',
              message: 'The event is no longer stored.',
            });
            continue;
          }
          const expired = expiredBeforeSend(claim, attemptedAt, options.retryPolicy);
          if (expired !== undefined) outcomes.set(claim.id, expired);
          else toSend.push(claim);
        }

        let requests = 0;
        let pauseConnection = false;
        let dryRun = connection?.dry_run === true;
        if (toSend.length > 0) {
          const sendEvents: ConversionEvent[] = toSend.map((c) => (events.get(c.event_id) as LoadedEvent).event);
          const overrides: Record<string, StageOverrides> = {};
          const history: Record<string, AttemptHistory> = {};
          for (const c of toSend) {
            const loaded = events.get(c.event_id) as LoadedEvent;
            if (loaded.overrides !== undefined) overrides[loaded.event.stage_id] = loaded.overrides;
            const h: AttemptHistory = { attempts: c.attempts };
            if (c.first_attempt_at !== undefined) h.first_attempt_at = c.first_attempt_at;
            history[c.event_id] = h;
          }
          const batchOptions: SendBatchOptions = {
            connection,
            platform: group.platform,
            events: sendEvents,
            overrides,
            history,
            fetch: fetchImpl,
            now: clock,
            ...(options.urls !== undefined ? { urls: options.urls } : {}),
            ...(options.versions !== undefined ? { versions: options.versions } : {}),
            ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
            ...(options.random !== undefined ? { random: options.random } : {}),
            ...(options.retryPolicy !== undefined ? { retryPolicy: options.retryPolicy } : {}),
            ...(options.sleep !== undefined ? { sleep: options.sleep } : {}),
            ...(options.maxSplitRequests !== undefined ? { maxSplitRequests: options.maxSplitRequests } : {}),
          };
          const result = await sendBatchWith(batchOptions, shared);
          toSend.forEach((c, i) => outcomes.set(c.id, result.outcomes[i] as EventOutcome));
          requests = result.batch.requests;
          pauseConnection = result.pause_connection;
          dryRun = result.batch.dry_run;
        }

        const updates: RowUpdate[] = [];
        const records: SendRecord[] = [];
        const counts = zeroCounts();
        for (const claim of mine) {
          const outcome = outcomes.get(claim.id) as EventOutcome;
          const stageId = events.get(claim.event_id)?.event.stage_id;
          const { update, record } = applyOutcome(claim, outcome, {
            attemptedAt,
            batchSize: mine.length,
            passId,
            dryRun,
            notBefore: cutoff,
            ...(stored !== undefined ? { connectionId: stored.id } : {}),
            ...(stageId !== undefined ? { stageId } : {}),
          });
          updates.push(update);
          records.push(record);
          counts[outcome.status] += 1;
        }
        const info: BatchInfo = { client_id: group.client_id, platform: group.platform, size: mine.length, requests, counts };
        if (stored !== undefined) info.connection_id = stored.id;

        let pause: { connection_id: string; reason: string } | undefined;
        if (pauseConnection && stored !== undefined) {
          const first = [...outcomes.values()].find((o) => o.pause_connection === true);
          const reason = pauseReason(first);
          pause = { connection_id: stored.id, reason };
        }
        await options.beforeCommit?.(info);
        await store.commit({ owner, now: clock(), updates, records, ...(pause !== undefined ? { pause } : {}) });
        await options.afterCommit?.(info);

        report.batches += 1;
        report.requests += requests;
        for (const s of STATUSES) {
          report.counts[s] += counts[s];
          report.platforms[group.platform][s] += counts[s];
        }
        if (pause !== undefined) {
          pausedNow.add(key);
          report.paused.push({ connection_id: pause.connection_id, client_id: group.client_id, platform: group.platform, reason: pause.reason });
        }
      }
    }
  }

  if (setAside.length > 0) {
    await store.release({ owner, ids: setAside, now: clock() });
    report.released += setAside.length;
  }
  report.held = await store.held();
  const finished = clock();
  report.finished_at = finished.toISOString();
  report.duration_ms = Math.max(0, finished.getTime() - started.getTime());
  return report;
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
