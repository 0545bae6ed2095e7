import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger } from 'pino';
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

const SENSITIVE: ReadonlySet<string> = new Set(REDACTED_KEYS);

/** What a redacted value is replaced with. */
export const CENSOR = '[Redacted]';

/** Object levels searched for {@link REDACTED_KEYS}: a key is censored at depth 0 to 3 (`key` … `a.b.c.key`). */
const MAX_DEPTH = 3;

/**
 * `value` with the value of every {@link REDACTED_KEYS} key, at depth 0 to 3 of objects and
 * arrays, replaced by {@link CENSOR}. Copies only what holds a censored key; returns `value`
 * itself when nothing is censored, and never changes it. An `Error` below the top level is
 * walked as the own enumerable properties its JSON holds.
 *
 * Written here instead of pino's `redact` option: with wildcard paths (one per key and depth),
 * pino ran its redaction over every value of every line, about 85 µs per request log line,
 * a tenth of a webhook request's CPU (bench/ingest.mjs); this walk costs well under 1 µs.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const clean = redactSecrets(item, depth + 1);
      if (clean !== item) (copy ??= [...value])[i] = clean;
    });
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | undefined;
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    const item = source[key];
    const clean = SENSITIVE.has(key) ? CENSOR : redactSecrets(item, depth + 1);
    if (clean !== item) (copy ??= { ...source })[key] = clean;
  }
  return (copy ?? value) as T;
}

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
 * credentials and PII redacted ({@link redactSecrets}: every line's fields, child loggers'
 * bindings, and the properties of a logged `err`).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const base = {
    level,
    base: { service: 'pruuv-collector' },
    formatters: {
      // The top-level `err` is left to its serializer (an Error's own properties are not enumerable
      // the same way) and redacted in the serializer's output.
      log: (object: Record<string, unknown>) => {
        const { err } = object;
        if (err === undefined) return redactSecrets(object);
        return { ...redactSecrets({ ...object, err: undefined }), err };
      },
    },
    serializers: { err: (error: unknown) => redactSecrets(pino.stdSerializers.err(error as Error), 1) },
  };
  let stream = options.destination;
  if (pretty) {
    const prettyStream = loadPretty(stream);
    if (prettyStream !== undefined) stream = prettyStream;
  }
  const logger = stream === undefined ? pino(base) : pino(base, stream);
  // pino formats a child's bindings once, without the formatters: redact them on the way in.
  // Children inherit this property, so grandchildren are covered too.
  const child = logger.child;
  logger.child = function redactedChild<L extends string = never>(this: Logger, bindings: Bindings, options?: ChildLoggerOptions<L>) {
    return child.call<Logger, [Bindings, ChildLoggerOptions<L> | undefined], Logger<L>>(this, redactSecrets(bindings), options);
  };
  return logger;
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
