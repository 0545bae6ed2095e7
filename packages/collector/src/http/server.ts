import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import { CollectorError } from '../errors.js';
import { createLogger, requestLogger, type Logger } from '../logger.js';
import { settleWithin, startSending, type SendMode, type Sending } from '../send/runtime.js';
import type { Sender, SenderOptions } from '../send/sender.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { createBeaconLimits } from '../domain/beacon-limits.js';
import { DEFAULT_OPS_CONFIG } from '../ops/ops-config.js';
import { createReadiness, handleHealth, type Readiness } from '../ops/health.js';
import { createMetrics, type Metrics } from '../ops/metrics.js';
import { startOpsServer, type OpsServer } from '../ops/ops-server.js';
import { createApp, type AppOptions } from './app.js';
import { BEACON_REPORT_WINDOW_MS, createBeaconReport } from './beacon-report.js';

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** Defaults to a logger built from `config.logLevel` and `config.logPretty`. */
  logger?: Logger;
  /** Extra `createApp` options (the demo's `demoDir`/`demoSiteKey`, a test clock). */
  app?: Partial<Omit<AppOptions, 'store' | 'logger'>>;
  /** Close gracefully on SIGINT and SIGTERM. Defaults to `true`. */
  handleSignals?: boolean;
  /**
   * How long {@link RunningServer.close} waits for in-flight requests before cutting the
   * remaining connections. Defaults to `10000` ms (under the 30 s most orchestrators wait
   * between SIGTERM and SIGKILL).
   */
  shutdownTimeoutMs?: number;
  /**
   * Conversion sending. Defaults to `{ mode: 'schedule' }`: a full pass at each slot of
   * `config.send.cron` (UTC; daily at 03:00 by default), the last slot at start if it was
   * missed, and follow-up passes when retries fall due. `{ mode: 'interval', everyMs }`
   * runs a full pass every `everyMs` instead (the `npm start` demo); `{ mode: 'off' }` none.
   */
  send?: SendMode;
  /** Sender seams (a test `fetch` or clock, timeouts). */
  sender?: Partial<Omit<SenderOptions, 'store' | 'config' | 'logger'>>;
  /** Limits on slow and greedy clients. Defaults to {@link DEFAULT_CONNECTION_LIMITS}. */
  limits?: Partial<ConnectionLimits>;
}

/** How long a client may take, and how many connections one address may hold. */
export interface ConnectionLimits {
  /** Time to receive a request's headers (slow-header attacks). */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included (bodies are at most 64 KB). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic at all is closed after this. */
  idleTimeoutMs: number;
  /**
   * Open connections per client address; more are closed at once. Counted only when the
   * collector faces clients directly (`trustProxy` off): behind a proxy every connection comes
   * from the proxy, which must apply its own limit.
   */
  connectionsPerAddress: number;
}

/**
 * 10 s for the headers, 30 s for a request, 5 s of keep-alive, 60 s idle, 100 connections per
 * address (a browser opens at most 6 per host; an office or carrier NAT shares an address).
 * Node's own defaults (300 s per request, no limit per address) let a few slow clients hold
 * the server's sockets for minutes.
 */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  connectionsPerAddress: 100,
};

/** A listening collector. */
export interface RunningServer {
  /** Base URL, e.g. `http://localhost:8787` (`localhost` when bound to every interface). */
  url: string;
  /** The bound port (useful with `PORT=0`). */
  port: number;
  /** The open store, for embedding and tests. */
  store: Store;
  /** The sender (runs passes on demand too); `undefined` when sending is off. */
  sender?: Sender;
  /** What `/readyz` answers. */
  readiness: Readiness;
  /** The metrics, when `config.ops.metrics` is on. */
  metrics?: Metrics;
  /** The port `/metrics` is served on when `PRUUV_METRICS_PORT` is set. */
  metricsPort?: number;
  /**
   * Fails `/readyz` at once, waits `config.ops.shutdownDelayMs`, then stops accepting connections, lets in-flight requests finish (up to `shutdownTimeoutMs`),
   * then closes the database. Idempotent.
   */
  close(): Promise<void>;
}

/** Thrown when the server cannot start (port in use, database unreadable). */
export class ServerStartError extends CollectorError {
  override name = 'ServerStartError';
}

function displayUrl(address: AddressInfo, host: string | undefined): string {
  const wildcard = host === undefined || host === '0.0.0.0' || host === '::';
  const name = wildcard ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${name}:${address.port}`;
}

/** A Node HTTP server in front of the app that can drain: in-flight responses are tracked to end keep-alives. */
interface DrainableServer {
  server: Server;
  /** Stops accepting, ends keep-alive connections with their last response, cuts the rest after `timeoutMs`. */
  drain(timeoutMs: number, logger: Logger): Promise<void>;
}

function drainableServer(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
  limits: ConnectionLimits,
  perAddress: boolean,
  logger: Logger,
): DrainableServer {
  let closing = false;
  // Responses in progress, so a shutdown can end their keep-alive connections with them.
  const inFlight = new Set<ServerResponse>();
  // Node enforces the header and request timeouts on this interval (30 s by default).
  const server: Server = createServer({ connectionsCheckingInterval: Math.min(1000, Math.max(50, limits.headersTimeoutMs / 2)) }, (req, res) => {
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      // The connection is idle now; during a shutdown, do not wait for its keep-alive timeout.
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
    // A keep-alive connection may carry new requests after `server.close()`: end it with this response.
    if (closing) res.setHeader('Connection', 'close');
    handle(req, res);
  });
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.setTimeout(limits.idleTimeoutMs, (socket) => socket.destroy());
  if (perAddress) limitConnectionsPerAddress(server, limits.connectionsPerAddress, logger);
  return {
    server,
    drain(timeoutMs, logger) {
      closing = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          logger.warn({ timeout_ms: timeoutMs }, 'closing connections still open after the shutdown timeout');
          server.closeAllConnections();
        }, timeoutMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}

/** Closes a new connection at once when its address already holds `max`; logged once a minute per address. */
function limitConnectionsPerAddress(server: Server, max: number, logger: Logger): void {
  const open = new Map<string, number>();
  const warned = new Map<string, number>();
  server.on('connection', (socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = open.get(address) ?? 0;
    if (count >= max) {
      const now = Date.now();
      if ((warned.get(address) ?? 0) < now - 60_000) {
        warned.set(address, now);
        if (warned.size > 10_000) warned.clear();
        logger.warn({ ip: address, max }, 'too many connections from one address: new ones are closed');
      }
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

/** Listens on the configured port; a clear message for a port in use or not allowed. */
async function listen(server: Server, config: Config): Promise<AddressInfo> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${config.host ?? '*'}:${config.port}`;
    const message =
      code === 'EADDRINUSE'
        ? `Port ${config.port} is already in use (${where}). Stop the other process or set PORT (or --port).`
        : code === 'EACCES'
          ? `Not allowed to listen on ${where}. Use a port above 1023 (PORT or --port).`
          : `Cannot listen on ${where}: ${(error as Error).message}`;
    throw new ServerStartError(message, { cause: error });
  }
  return server.address() as AddressInfo;
}

/** Opens the store and starts sending as `mode` says; closes the store again when sending cannot start. */
async function openAndSend(
  config: Config,
  options: StartServerOptions,
  logger: Logger,
  wrap: (store: Store) => Store = (store) => store,
): Promise<{ store: Store; sending: Sending }> {
  let store: Store;
  try {
    store = wrap(await openStore(config, { poolSize: config.poolSize, ...(options.app?.now ? { now: options.app.now } : {}) }));
  } catch (error) {
    throw new ServerStartError((error as Error).message, { cause: error });
  }
  try {
    const sending = await startSending({
      store,
      config: config.send,
      mode: options.send ?? { mode: 'schedule' },
      logger,
      retentionDays: config.retentionDays,
      ...(options.sender ? { sender: options.sender } : {}),
    });
    return { store, sending };
  } catch (error) {
    await store.close();
    throw new ServerStartError((error as Error).message, { cause: error });
  }
}

/**
 * Opens the store, builds the app with `createApp` and listens on `config.port`
 * (`config.host`), sending conversions as `options.send` says (schedule by
 * default; `off` for `pruuv serve --no-worker`). On SIGINT/SIGTERM (unless
 * `handleSignals: false`) it closes gracefully: stop accepting, finish in-flight
 * requests and a pass in progress, then close the store.
 *
 * @throws {ServerStartError} when the port is taken, the database cannot be opened, or stored credentials cannot be read.
 */
export async function startServer(config: Config, options: StartServerOptions = {}): Promise<RunningServer> {
  const logger =
    options.logger ?? createLogger({ level: config.logLevel, ...(config.logPretty !== undefined ? { pretty: config.logPretty } : {}) });
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  const ops = config.ops ?? DEFAULT_OPS_CONFIG;
  const mode = options.send ?? { mode: 'schedule' };
  let metrics: Metrics | undefined;
  const instrument = (raw: Store): Store => {
    if (!ops.metrics) return raw;
    metrics = createMetrics({
      store: raw,
      ...(options.app?.now ? { now: options.app.now } : {}),
      ...(mode.mode !== 'interval' ? { cron: config.send.cron } : {}),
      ...(ops.metricsToken !== undefined ? { token: ops.metricsToken } : {}),
    });
    return metrics.instrument(raw);
  };
  const { store, sending } = await openAndSend(config, options, logger, instrument);
  const readiness = createReadiness(store, { timeoutMs: ops.readyTimeoutMs });
  const now = options.app?.now ?? (() => new Date());
  // Throttled and held beacons: logged and stored once per window, and at shutdown.
  const beaconReport = createBeaconReport({ store, logger, now });
  // The overview shows the next pass: the cron (also when a `pruuv worker` sends instead), or the demo's interval.
  const sendSchedule = mode.mode === 'interval' ? { everyMs: mode.everyMs } : { cron: config.send.cron };
  const dashboard = options.app?.dashboard;
  const appOptions: AppOptions = {
    store,
    logger,
    scriptPath: config.scriptPath,
    ingestPath: config.ingestPath,
    trustProxy: config.trustProxy,
    beaconLimits: createBeaconLimits(config.pixelLimits),
    beaconSignals: config.pixelHold,
    beaconReport,
    send: config.send,
    ...(config.publicUrl !== undefined ? { publicUrl: config.publicUrl } : {}),
    ...(config.oauth !== undefined ? { oauth: config.oauth } : {}),
    ...options.app,
    dashboard:
      dashboard === false
        ? false
        : {
            sendSchedule,
            settings: { cron: config.send.cron, retentionDays: config.retentionDays, ...(config.send.keyRing !== undefined ? { keyRing: config.send.keyRing } : {}) },
            ...(typeof dashboard === 'object' ? dashboard : {}),
          },
  };
  if (config.adminToken !== undefined) appOptions.adminToken = config.adminToken;
  if (metrics !== undefined) appOptions.metrics = metrics;
  // `/metrics` on the public port, unless it has a port of its own.
  const publicMetrics = ops.metricsPort === undefined ? metrics : undefined;
  const app = createApp(appOptions);
  const logRequest = requestLogger(logger);
  const limits = { ...DEFAULT_CONNECTION_LIMITS, connectionsPerAddress: config.connectionsPerAddress, ...options.limits };
  const perAddress = !config.trustProxy && limits.connectionsPerAddress > 0;
  // Health probes are answered before the app: no log line per probe.
  const http = drainableServer(
    (req, res) => {
      if (handleHealth(readiness, req, res) || publicMetrics?.handle(req, res)) return;
      logRequest(req, res, () => app(req, res));
    },
    limits,
    perAddress,
    logger,
  );
  let address: AddressInfo;
  let metricsServer: OpsServer | undefined;
  try {
    address = await listen(http.server, config);
    if (metrics !== undefined && ops.metricsPort !== undefined) {
      const scrape = metrics;
      metricsServer = await startOpsServer({
        port: ops.metricsPort,
        ...(config.host !== undefined ? { host: config.host } : {}),
        what: 'PRUUV_METRICS_PORT',
        handle: (req, res) => scrape.handle(req, res),
      });
    }
  } catch (error) {
    http.server.close();
    await sending.stop();
    await store.close();
    throw error instanceof ServerStartError ? error : new ServerStartError((error as Error).message, { cause: error });
  }
  const url = displayUrl(address, config.host);
  const reportTimer = setInterval(() => void beaconReport.flush(now()), BEACON_REPORT_WINDOW_MS);
  reportTimer.unref();
  logger.info({ url, db: store.location, admin_api: config.adminToken !== undefined, worker: sending.sender !== undefined }, 'collector listening');

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // Out of the load balancer first (/readyz 503), then the drain.
      readiness.shutDown();
      if (ops.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, ops.shutdownDelayMs));
      // A pass in progress gets the same grace; cut short, its leased rows are resent later.
      await Promise.all([http.drain(shutdownTimeoutMs, logger), settleWithin(sending.stop(), shutdownTimeoutMs)]);
      clearInterval(reportTimer);
      await beaconReport.flush(now());
      await metricsServer?.close();
      await store.close();
      logger.info('collector stopped');
    })();
    return closed;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down');
    close().then(
      () => {
        process.exitCode ??= 0;
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  if (options.handleSignals ?? true) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  const running: RunningServer = { url, port: address.port, store, readiness, close };
  if (sending.sender !== undefined) running.sender = sending.sender;
  if (metrics !== undefined) running.metrics = metrics;
  if (metricsServer !== undefined) running.metricsPort = metricsServer.port;
  return running;
}
