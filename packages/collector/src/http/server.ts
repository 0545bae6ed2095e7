import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import { CollectorError, SchemaTooNewError } from '../errors.js';
import { createLogger, requestLogger, type Logger } from '../logger.js';
import { startSendInterval, startSendSchedule } from '../send/schedule.js';
import { createSender, type Sender, type SenderOptions } from '../send/sender.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { createApp, type AppOptions } from './app.js';

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
  send?: { mode: 'schedule' } | { mode: 'interval'; everyMs: number } | { mode: 'off' };
  /** Sender seams (a test `fetch` or clock, timeouts). */
  sender?: Partial<Omit<SenderOptions, 'store' | 'config' | 'logger'>>;
}

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
  /**
   * Stops accepting connections, lets in-flight requests finish (up to `shutdownTimeoutMs`),
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

/**
 * Opens the database, builds the app with `createApp` and listens on `config.port`
 * (`config.host`). On SIGINT/SIGTERM (unless `handleSignals: false`) it closes gracefully:
 * stop accepting, finish in-flight requests, then close the database.
 *
 * @throws {ServerStartError} when the port is taken or the database cannot be opened.
 */
export async function startServer(config: Config, options: StartServerOptions = {}): Promise<RunningServer> {
  const logger =
    options.logger ?? createLogger({ level: config.logLevel, ...(config.logPretty !== undefined ? { pretty: config.logPretty } : {}) });
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;

  let store: Store;
  try {
    store = await openStore(config, options.app?.now ? { now: options.app.now } : {});
  } catch (error) {
    if (error instanceof SchemaTooNewError) throw new ServerStartError(error.message, { cause: error });
    throw new ServerStartError(`Cannot open the database '${config.dbFile}': ${(error as Error).message}. Check PRUUV_DB.`, { cause: error });
  }
  const sendMode = options.send ?? { mode: 'schedule' };
  let sender: Sender | undefined;
  if (sendMode.mode !== 'off') {
    try {
      // Refuses stored credentials it cannot decrypt: fail now, not at the first pass.
      sender = await createSender({ store, config: config.send, logger, ...options.sender });
    } catch (error) {
      await store.close();
      throw new ServerStartError((error as Error).message, { cause: error });
    }
  }
  const appOptions: AppOptions = {
    store,
    logger,
    scriptPath: config.scriptPath,
    ingestPath: config.ingestPath,
    trustProxy: config.trustProxy,
    ...options.app,
  };
  if (config.adminToken !== undefined) appOptions.adminToken = config.adminToken;
  const app = createApp(appOptions);
  const logRequest = requestLogger(logger);

  let closing = false;
  // Responses in progress, so a shutdown can end their keep-alive connections with them.
  const inFlight = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      // The connection is idle now; during a shutdown, do not wait for its keep-alive timeout.
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
    // A keep-alive connection may carry new requests after `server.close()`: end it with this response.
    if (closing) res.setHeader('Connection', 'close');
    logRequest(req, res, () => app(req, res));
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await store.close();
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

  const address = server.address() as AddressInfo;
  const url = displayUrl(address, config.host);
  logger.info({ url, db: store.location, admin_api: config.adminToken !== undefined }, 'collector listening');

  let sending: { stop(): Promise<void> } | undefined;
  if (sender !== undefined && sendMode.mode === 'schedule') {
    const schedule = startSendSchedule({ store, cron: config.send.cron, sender, logger });
    logger.info({ cron: config.send.cron, next: schedule.nextSlot()?.toISOString() }, 'send schedule started (UTC)');
    sending = schedule;
  } else if (sender !== undefined && sendMode.mode === 'interval') {
    sending = startSendInterval({ sender, everyMs: sendMode.everyMs, logger });
  }

  let closed: Promise<void> | undefined;
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

  function close(): Promise<void> {
    closed ??= new Promise<void>((resolve, reject) => {
      closing = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const timer = setTimeout(() => {
        logger.warn({ timeout_ms: shutdownTimeoutMs }, 'closing connections still open after the shutdown timeout');
        server.closeAllConnections();
      }, shutdownTimeoutMs);
      timer.unref();
      // A pass in progress gets the same grace; cut short, its leased rows are resent later.
      const sendingStopped = sending === undefined ? Promise.resolve() : settleWithin(sending.stop(), shutdownTimeoutMs);
      server.close(async () => {
        clearTimeout(timer);
        await sendingStopped;
        try {
          await store.close();
          logger.info('collector stopped');
          resolve();
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      server.closeIdleConnections();
    });
    return closed;
  }

  if (options.handleSignals ?? true) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  const running: RunningServer = { url, port: address.port, store, close };
  if (sender !== undefined) running.sender = sender;
  return running;
}

/** Resolves when `promise` settles or after `ms`, whichever comes first; never rejects. */
function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
