/**
 * A small HTTP listener for operators: `pruuv worker --health-port` (health and,
 * when enabled, metrics) and `PRUUV_METRICS_PORT`. Anything it does not handle
 * answers 404.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CollectorError } from '../errors.js';

/** A listening operator port. */
export interface OpsServer {
  /** The bound port (useful with port `0`). */
  port: number;
  /** Stops it; open connections are cut (probes hold none for long). Idempotent. */
  close(): Promise<void>;
}

/** The operator port cannot listen (in use, not allowed). */
export class OpsServerError extends CollectorError {
  override name = 'OpsServerError';
}

/** Listens on `port` (`host`, every interface by default); `handle` returns `false` for requests it leaves alone (then 404). */
export async function startOpsServer(options: {
  port: number;
  host?: string;
  /** What the port is for, in error messages (`--health-port`). */
  what: string;
  handle: (req: IncomingMessage, res: ServerResponse) => boolean;
}): Promise<OpsServer> {
  const server = createServer((req, res) => {
    if (options.handle(req, res)) return;
    res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify({ error: 'Not found' }));
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new OpsServerError(
      code === 'EADDRINUSE'
        ? `Port ${options.port} (${options.what}) is already in use. Choose another one.`
        : `Cannot listen on port ${options.port} (${options.what}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  let closed: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
