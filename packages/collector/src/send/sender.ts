/**
 * The collector's sender: one per process, with its lease owner id, one
 * Google token cache and one Data Manager request budget shared by every
 * pass, and at most one pass running at a time. `pruuv send`, the schedule in
 * `pruuv serve` and the `npm start` demo all run passes through it.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  DEFAULT_VERSIONS,
  createTokenBucket,
  createTokenCache,
  runSendPass,
  type FetchLike,
  type PassReport,
  type SendPassOptions,
} from '@pruuv/sender';
import type { Logger } from 'pino';
import type { Store } from '../store/types.js';
import { checkStoredSecrets } from './secrets.js';
import type { SendConfig } from './send-config.js';
import { createGoogleStatusChecks, type GoogleStatusSummary } from './google-status.js';
import { createSendPort } from './send-port.js';

/** Options of {@link createSender}. */
export interface SenderOptions
  extends Pick<SendPassOptions, 'timeoutMs' | 'random' | 'retryPolicy' | 'leaseMs' | 'claimLimit' | 'sleep' | 'maxSplitRequests' | 'beforeCommit'> {
  store: Store;
  config: SendConfig;
  /** Defaults to a silent logger (nothing logged). */
  logger?: Logger;
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
   * When a follow-up pass next has work (a retry, an expiring lease or a due Google diagnostics
   * check), `undefined` when none.
   */
  nextFollowUp(): Promise<Date | undefined>;
  /**
   * Checks the Google Data Manager requests whose diagnostics are due (send/google-status.ts),
   * after any pass already running. Every pass ends with these checks too.
   */
  checkGoogleStatus(): Promise<GoogleStatusSummary>;
}

/**
 * Creates the sender. Refuses (rejects with `EncryptionKeyError`) when credentials
 * are stored and `PRUUV_ENCRYPTION_KEY` cannot open them, so a misconfigured
 * collector fails at start, not at 03:00.
 */
export async function createSender(options: SenderOptions): Promise<Sender> {
  const { store, config } = options;
  await checkStoredSecrets(store, config.keyRing);
  const now = options.now ?? (() => new Date());
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  const outbox = createSendPort(store, config.keyRing);
  const tokenCache = createTokenCache({
    fetch: fetchImpl,
    tokenUrl: config.urls.oauthToken,
    now,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  // One budget per process: Data Manager allows 300 requests per minute per Cloud project (google-data-manager.md §7).
  const dataManagerLimiter = createTokenBucket({ now });
  let queue: Promise<unknown> = Promise.resolve();
  const googleStatus = createGoogleStatusChecks({
    store,
    connections: outbox,
    tokenCache,
    fetch: fetchImpl,
    urls: config.urls,
    versions: { dataManager: DEFAULT_VERSIONS.dataManager },
    now,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  const nextFollowUp = async (): Promise<Date | undefined> => {
    const times = [await store.outbox.nextFollowUp(), await googleStatus.nextDue()].filter((t): t is Date => t !== undefined);
    return times.length > 0 ? new Date(Math.min(...times.map((t) => t.getTime()))) : undefined;
  };
  const checkGoogleStatus = async (): Promise<GoogleStatusSummary> => {
    const summary = await googleStatus.run();
    if (summary.checked > 0) options.logger?.info({ ...summary }, 'google diagnostics checked');
    return summary;
  };

  const pass = async (retriesOnly: boolean): Promise<PassReport> => {
    const report = await runSendPass({
      store: outbox,
      owner,
      now,
      fetch: fetchImpl,
      urls: config.urls,
      versions: config.versions,
      tokenCache,
      dataManagerLimiter,
      retriesOnly,
      ...(config.leaseMs !== undefined ? { leaseMs: config.leaseMs } : {}),
      ...pick(options),
    });
    options.logger?.info(
      {
        pass_id: report.pass_id,
        retries_only: retriesOnly,
        claimed: report.claimed,
        ...report.counts,
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
      await checkGoogleStatus();
    } catch (error) {
      // Diagnostics are read-only bookkeeping: a failure here must not fail the pass that sent.
      options.logger?.error({ err: error }, 'google diagnostics check failed');
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
    checkGoogleStatus() {
      const run = queue.then(checkGoogleStatus);
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
