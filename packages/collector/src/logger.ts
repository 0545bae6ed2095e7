import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

/**
 * Keys whose values never reach a log line, wherever they appear (up to four levels deep):
 * credentials (bearer and webhook tokens, cookies, OAuth secrets of the platform
 * connections) and raw PII (email, phone). Keys are matched exactly, as pino's redaction does.
 */
export const REDACTED_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'token',
  'webhook_token',
  'admin_token',
  'adminToken',
  'password',
  'secret',
  'client_secret',
  'access_token',
  'refresh_token',
  'developer_token',
  'api_key',
  'email',
  'phone',
] as const;

/** pino `redact` paths for {@link REDACTED_KEYS}: each key at depth 0 to 3 (`key`, `*.key`, `*.*.key`, `*.*.*.key`). */
export const REDACT_PATHS: string[] = REDACTED_KEYS.flatMap((key) => {
  // Bracket notation for keys that are not identifiers (`set-cookie`).
  const segment = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const join = (prefix: string) => (segment.startsWith('[') ? `${prefix}${segment}` : prefix === '' ? segment : `${prefix}.${segment}`);
  return ['', '*', '*.*', '*.*.*'].map((prefix) => join(prefix));
});

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level. Defaults to `info`. */
  level?: LogLevel;
  /**
   * Human-readable output through pino-pretty. Defaults to `true` when stdout is a TTY, else
   * `false` (one JSON object per line). Falls back to JSON when pino-pretty is not installed.
   */
  pretty?: boolean;
  /** Where log lines go. Defaults to stdout. */
  destination?: DestinationStream;
}

/**
 * Creates the collector's pino logger: JSON lines by default, pretty on a TTY, with
 * credentials and PII redacted ({@link REDACT_PATHS}).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const base = {
    level,
    base: { service: 'pruuv-collector' },
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
  };
  let stream = options.destination;
  if (pretty) {
    const prettyStream = loadPretty(stream);
    if (prettyStream !== undefined) stream = prettyStream;
  }
  return stream === undefined ? pino(base) : pino(base, stream);
}

type PrettyFactory = (opts: { colorize?: boolean; ignore?: string; translateTime?: string }) => (line: string) => string;

/**
 * pino-pretty is an optional dependency: loaded synchronously (it is CommonJS) so
 * `createLogger` stays synchronous, and its formatter runs in-process rather than as a
 * worker transport, so lines are written (already redacted) before the process exits.
 */
function loadPretty(destination: DestinationStream | undefined): DestinationStream | undefined {
  let prettify: (line: string) => string;
  try {
    const require = createRequire(import.meta.url);
    const { prettyFactory } = require('pino-pretty') as { prettyFactory: PrettyFactory };
    prettify = prettyFactory({
      colorize: destination === undefined && process.stdout.isTTY === true,
      ignore: 'pid,hostname,service',
      translateTime: 'SYS:HH:MM:ss.l',
    });
  } catch {
    return undefined;
  }
  const target = destination ?? pino.destination({ dest: 1, sync: true });
  return { write: (line: string) => void target.write(prettify(line)) };
}

/** The request path without its query string (which may hold click ids), at most 200 characters. */
export function loggablePath(url: string | undefined): string {
  const path = (url ?? '/').split(/[?#]/, 1)[0] ?? '/';
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

/**
 * Connect-style middleware (also a plain `http` request wrapper) that logs one line per
 * request when the response finishes or the connection closes: method, path without the
 * query string, status and duration in ms. Never logs headers or bodies.
 */
export function requestLogger(logger: Logger) {
  return function logRequest(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const start = process.hrtime.bigint();
    // Capture now: routers rewrite `req.url` while the request is handled.
    const path = loggablePath((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url);
    const done = (): void => {
      const ms = Math.round(Number(process.hrtime.bigint() - start) / 1e5) / 10;
      const line = { method: req.method, path, status: res.statusCode, ms, ...(res.writableFinished ? {} : { aborted: true }) };
      if (res.statusCode >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    };
    // 'close' follows 'finish' on every answer and also ends an aborted one: one listener is enough.
    res.once('close', done);
    next();
  };
}
