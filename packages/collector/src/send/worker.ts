/**
 * `pruuv worker`: the send runtime alone, with no HTTP port: the schedule's
 * passes, retries and Google diagnostics, on the configured store. Run one or
 * several next to `pruuv serve --no-worker` collectors on one PostgreSQL
 * database: claims never hand a row to two workers, and each daily slot runs
 * once across all of them.
 */
import type { Config } from '../config.js';
import { CollectorError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createReadiness, handleHealth, type Readiness } from '../ops/health.js';
import { createMetrics, type Metrics } from '../ops/metrics.js';
import { DEFAULT_OPS_CONFIG } from '../ops/ops-config.js';
import { startOpsServer, type OpsServer } from '../ops/ops-server.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { settleWithin, startSending, type SendMode, type StartSendingOptions } from './runtime.js';
import type { Sender } from './sender.js';

/** Thrown when the worker cannot start (database unreachable, credentials unreadable). */
export class WorkerStartError extends CollectorError {
  override name = 'WorkerStartError';
}

/** Options of {@link startWorker}. */
export interface StartWorkerOptions {
  logger: Logger;
  /** Defaults to `{ mode: 'schedule' }`. */
  send?: SendMode;
  /** Close gracefully on SIGINT and SIGTERM. Defaults to `true`. */
  handleSignals?: boolean;
  /** How long `close` waits for a pass in progress. Defaults to `10000` ms. */
  shutdownTimeoutMs?: number;
  /** Sender seams (a test `fetch` or clock). */
  sender?: StartSendingOptions['sender'];
  /**
   * Answer `/healthz` and `/readyz` on this port (`--health-port`; `0`: any free port), bound to
   * `config.host`, and `/metrics` when `config.ops.metrics` is on (`PRUUV_METRICS_PORT` is
   * `pruuv serve`'s only). Defaults to none: the worker listens on no port.
   */
  healthPort?: number;
}

/** A running worker. */
export interface RunningWorker {
  store: Store;
  sender?: Sender;
  /** What `/readyz` answers. */
  readiness: Readiness;
  /** The health port, when `healthPort` was given. */
  health?: { port: number };
  /** The metrics (send outcomes, the database's gauges), served on the health port, when `config.ops.metrics` is on. */
  metrics?: Metrics;
  /** Stops the schedule (a pass in progress gets `shutdownTimeoutMs`), then closes the store. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the store and starts sending.
 *
 * @throws {WorkerStartError} when the store cannot be opened or the credentials cannot be read.
 */
export async function startWorker(config: Config, options: StartWorkerOptions): Promise<RunningWorker> {
  const { logger } = options;
  const ops = config.ops ?? DEFAULT_OPS_CONFIG;
  let store: Store;
  try {
    store = await openStore(config, { poolSize: config.poolSize });
  } catch (error) {
    throw new WorkerStartError((error as Error).message, { cause: error });
  }
  let metrics: Metrics | undefined;
  if (ops.metrics && options.healthPort !== undefined) {
    metrics = createMetrics({ store, cron: config.send.cron, ...(ops.metricsToken !== undefined ? { token: ops.metricsToken } : {}) });
    store = metrics.instrument(store);
  }
  let sending;
  try {
    sending = await startSending({
      store,
      config: config.send,
      mode: options.send ?? { mode: 'schedule' },
      logger,
      retentionDays: config.retentionDays,
      ...(options.sender ? { sender: options.sender } : {}),
    });
  } catch (error) {
    await store.close();
    throw new WorkerStartError((error as Error).message, { cause: error });
  }
  const readiness = createReadiness(store, { timeoutMs: ops.readyTimeoutMs });
  let health: OpsServer | undefined;
  if (options.healthPort !== undefined) {
    try {
      health = await startOpsServer({
        port: options.healthPort,
        ...(config.host !== undefined ? { host: config.host } : {}),
        what: '--health-port',
        handle: (req, res) => handleHealth(readiness, req, res) || (metrics?.handle(req, res) ?? false),
      });
    } catch (error) {
      await settleWithin(sending.stop(), options.shutdownTimeoutMs ?? 10_000);
      await store.close();
      throw new WorkerStartError((error as Error).message, { cause: error });
    }
  }
  logger.info({ db: store.location, owner: sending.sender?.owner, ...(health ? { health_port: health.port } : {}) }, 'worker started');

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      readiness.shutDown();
      if (health !== undefined && ops.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, ops.shutdownDelayMs));
      // Cut short, a pass's leased rows are sent again after their lease by any worker.
      await settleWithin(sending.stop(), options.shutdownTimeoutMs ?? 10_000);
      await health?.close();
      await store.close();
      logger.info('worker stopped');
    })();
    return closed;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down');
    close().catch((error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exitCode = 1;
    });
  };
  if (options.handleSignals ?? true) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  const running: RunningWorker = { store, readiness, close };
  if (health !== undefined) running.health = { port: health.port };
  if (metrics !== undefined) running.metrics = metrics;
  if (sending.sender !== undefined) running.sender = sending.sender;
  return running;
}
