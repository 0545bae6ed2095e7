import type { Config } from '../config.js';
import { startServer, type RunningServer } from '../http/server.js';
import { createLogger } from '../logger.js';
import { startWorker, type RunningWorker } from '../send/worker.js';
import type { CliOutput } from './output.js';

/** Options of `pruuv serve`. */
export interface ServeOptions {
  /** `--json`: JSON log lines even on a TTY. */
  json?: boolean;
  /** `false` with `--no-worker`: HTTP only, no send schedule in this process. Defaults to `true`. */
  worker?: boolean;
}

function loggerFor(config: Config, json: boolean | undefined) {
  const pretty = json === true ? false : config.logPretty;
  return createLogger({ level: config.logLevel, ...(pretty !== undefined ? { pretty } : {}) });
}

/**
 * `pruuv serve [--port N] [--no-worker]`: runs the collector until SIGINT/SIGTERM: the HTTP
 * server and, unless `--no-worker`, the send schedule. Logs go to stdout (JSON lines, or pretty
 * on a TTY unless `--json`); with `--json` the first line is the `collector listening` log
 * object carrying the `url`.
 */
export async function serve(config: Config, options: ServeOptions, output: CliOutput): Promise<RunningServer> {
  void output; // Everything `serve` prints is a log line.
  return startServer(config, { logger: loggerFor(config, options.json), send: options.worker === false ? { mode: 'off' } : { mode: 'schedule' } });
}

/**
 * `pruuv worker [--health-port N]`: the send runtime alone (the schedule's passes, retries and
 * Google diagnostics) until SIGINT/SIGTERM; with `--health-port`, `/healthz` and `/readyz` on
 * that port. Logs like `serve`.
 */
export async function worker(config: Config, options: { json?: boolean; healthPort?: number }): Promise<RunningWorker> {
  return startWorker(config, { logger: loggerFor(config, options.json), ...(options.healthPort !== undefined ? { healthPort: options.healthPort } : {}) });
}
