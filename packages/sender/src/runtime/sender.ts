/**
 * The sender of a process: one per process, with its lease owner id, one
 * Google token cache and one Data Manager request budget shared by every
 * pass, and at most one pass running at a time. The schedule, a worker and a
 * one-off `pruuv send` all run passes through it, over any {@link SendStore}.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KeyRing } from '../crypto.js';
import type { FetchLike } from '../http.js';
import { createTokenCache } from '../oauth.js';
import type { DeliveryCheckSummary, DeliveryChecks } from '../platforms/adapter.js';
import { DEFAULT_URLS, DEFAULT_VERSIONS, PLATFORMS, type ApiVersions, type PlatformUrls } from '../platforms/index.js';
import { createTokenBucket } from '../rate-limit.js';
import { runSendPass, type PassReport, type SendPassOptions } from '../send-pass.js';
import { createShared } from '../shared-services.js';
import { checkStoredCredentials } from './credentials.js';
import { createOutboxPort } from './outbox-port.js';
import { CredentialIndex, onTokenRefreshed, storeRefreshLock } from './token-refresh.js';
import type { SendLogger, SendStore } from './store.js';

/** Options of {@link createSender}. */
export interface SenderOptions
  extends Pick<SendPassOptions, 'timeoutMs' | 'random' | 'retryPolicy' | 'leaseMs' | 'claimLimit' | 'sleep' | 'maxSplitRequests' | 'beforeCommit'> {
  store: SendStore;
  /** Opens the stored credentials. Defaults to none: only connections without secrets can send. */
  keyRing?: KeyRing | undefined;
  /** Platform API base URLs. Defaults to the real platforms. */
  urls?: Partial<PlatformUrls>;
  /** API versions. Defaults to {@link DEFAULT_VERSIONS}. */
  versions?: Partial<ApiVersions>;
  /** Defaults to nothing logged. */
  logger?: SendLogger;
  /** Defaults to `() => new Date()`. */
  now?: () => Date;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Lease owner id. Defaults to `{hostname}:{pid}:{random}`, one per process. */
  owner?: string;
}

/** A sender bound to one database. */
export interface Sender {
  /** The lease owner of this process. */
  readonly owner: string;
  /**
   * Runs one pass now, after any pass already running. `retriesOnly` passes
   * (between scheduled runs) take only retries and rows a crashed sender left.
   */
  runPass(options?: { retriesOnly?: boolean }): Promise<PassReport>;
  /**
   * When a follow-up pass next has work (a retry, an expiring lease or a due delivery
   * check), `undefined` when none.
   */
  nextFollowUp(): Promise<Date | undefined>;
  /**
   * Runs the delivery checks that are due (an adapter's `deliveryChecks`: Google Data Manager's
   * diagnostics), after any pass already running. Every pass ends with these checks too.
   */
  checkDeliveries(): Promise<DeliveryCheckSummary>;
}

/**
 * Creates the sender. Refuses (rejects with `CredentialsError`) when credentials
 * are stored and the key ring cannot open them, so a misconfigured process
 * fails at start, not at 03:00.
 */
export async function createSender(options: SenderOptions): Promise<Sender> {
  const { store } = options;
  await checkStoredCredentials(store, options.keyRing);
  const urls: PlatformUrls = { ...DEFAULT_URLS, ...options.urls };
  const versions: ApiVersions = { ...DEFAULT_VERSIONS, ...options.versions };
  const now = options.now ?? (() => new Date());
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  const port = createOutboxPort(store, options.keyRing);
  // The connections this process opened, by credential: a refresh is recorded on each of them.
  const credentials = new CredentialIndex();
  const outbox: typeof port = {
    ...port,
    async connection(clientId, platform) {
      const opened = await port.connection(clientId, platform);
      if (opened !== undefined) credentials.add(opened);
      return opened;
    },
  };
  const tokenCache = createTokenCache({
    fetch: fetchImpl,
    tokenUrl: urls.oauthToken,
    now,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    // One refresh of a credential at a time across every worker on the database.
    ...(store.oauth !== undefined ? { lock: storeRefreshLock(store.oauth, owner, { now }) } : {}),
    onRefreshed: onTokenRefreshed(store, credentials, options.keyRing, now, options.logger),
  });
  // One budget per process: Data Manager allows 300 requests per minute per Cloud project (google-data-manager.md §7).
  const dataManagerLimiter = createTokenBucket({ now });
  let queue: Promise<unknown> = Promise.resolve();
  // Every platform that reports on its deliveries later gets its checks, sharing the pass's services.
  const shared = createShared({ tokenCache, dataManagerLimiter });
  const checks: Array<{ platform: string; checks: DeliveryChecks }> = [];
  for (const adapter of PLATFORMS) {
    const spec = adapter.deliveryChecks;
    if (spec === undefined) continue;
    checks.push({
      platform: adapter.id,
      checks: spec.create({
        store,
        connections: outbox,
        fetch: fetchImpl,
        now,
        urls,
        versions,
        shared,
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      }),
    });
  }
  const nextFollowUp = async (): Promise<Date | undefined> => {
    const times = [await store.nextFollowUp()];
    for (const c of checks) times.push(await c.checks.nextDue());
    const known = times.filter((t): t is Date => t !== undefined);
    return known.length > 0 ? new Date(Math.min(...known.map((t) => t.getTime()))) : undefined;
  };
  const checkDeliveries = async (): Promise<DeliveryCheckSummary> => {
    const total: DeliveryCheckSummary = { checked: 0, final: 0, with_errors: 0 };
    for (const c of checks) {
      const summary = await c.checks.run();
      if (summary.checked > 0) options.logger?.info({ platform: c.platform, ...summary }, 'delivery checks done');
      total.checked += summary.checked;
      total.final += summary.final;
      total.with_errors += summary.with_errors;
    }
    return total;
  };

  const pass = async (retriesOnly: boolean): Promise<PassReport> => {
    const report = await runSendPass({
      store: outbox,
      owner,
      now,
      fetch: fetchImpl,
      urls,
      versions,
      tokenCache,
      dataManagerLimiter,
      retriesOnly,
      ...pick(options),
    });
    options.logger?.info(
      {
        pass_id: report.pass_id,
        retries_only: retriesOnly,
        claimed: report.claimed,
        ...report.counts,
        discarded: report.discarded,
        batches: report.batches,
        requests: report.requests,
        duration_ms: report.duration_ms,
        paused: report.paused.map((p) => ({ connection_id: p.connection_id, platform: p.platform, reason: p.reason })),
        held: report.held.map((h) => ({ connection_id: h.connection_id, platform: h.platform, waiting: h.waiting })),
        errors: report.errors,
      },
      'send pass finished',
    );
    try {
      await checkDeliveries();
    } catch (error) {
      // Delivery checks are read-only bookkeeping: a failure here must not fail the pass that sent.
      options.logger?.error({ err: error }, 'delivery checks failed');
    }
    return report;
  };

  return {
    owner,
    runPass(opts = {}) {
      const run = queue.then(() => pass(opts.retriesOnly ?? false));
      queue = run.catch(() => undefined);
      return run;
    },
    nextFollowUp,
    checkDeliveries() {
      const run = queue.then(checkDeliveries);
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

function pick(o: SenderOptions): Partial<SendPassOptions> {
  const out: Partial<SendPassOptions> = {};
  if (o.timeoutMs !== undefined) out.timeoutMs = o.timeoutMs;
  if (o.random !== undefined) out.random = o.random;
  if (o.retryPolicy !== undefined) out.retryPolicy = o.retryPolicy;
  if (o.leaseMs !== undefined) out.leaseMs = o.leaseMs;
  if (o.claimLimit !== undefined) out.claimLimit = o.claimLimit;
  if (o.sleep !== undefined) out.sleep = o.sleep;
  if (o.maxSplitRequests !== undefined) out.maxSplitRequests = o.maxSplitRequests;
  if (o.beforeCommit !== undefined) out.beforeCommit = o.beforeCommit;
  return out;
}
