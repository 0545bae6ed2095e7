import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import { startServer, type RunningServer } from '../http/server.js';
import type { CliOutput } from './output.js';

/** Options of `pruuv serve`. */
export interface ServeOptions {
  /** `--json`: JSON log lines even on a TTY. */
  json?: boolean;
}

/**
 * `pruuv serve [--port N]`: runs the collector until SIGINT/SIGTERM. Logs go to stdout
 * (JSON lines, or pretty on a TTY unless `--json`); with `--json` the first line is the
 * `collector listening` log object carrying the `url`.
 */
export async function serve(config: Config, options: ServeOptions, output: CliOutput): Promise<RunningServer> {
  void output; // Everything `serve` prints is a log line.
  const pretty = options.json === true ? false : config.logPretty;
  const logger = createLogger({ level: config.logLevel, ...(pretty !== undefined ? { pretty } : {}) });
  return startServer(config, { logger });
}
