/**
 * `GET /healthz` and `GET /readyz`, a few lines of our own rather than
 * `@godaddy/terminus` or `lightship`: both wrap what server.ts already does
 * (a drain with a timeout, signal handling) and would bring their own shutdown
 * and logging policy to reconcile with ours; what is left (two routes, a flag
 * and one database check) fits in this file.
 *
 * | path | 200 when | 503 when |
 * | --- | --- | --- |
 * | `/healthz` | the process answers (no database work) | never |
 * | `/readyz` | the database answers within the timeout (on SQLite: its write lock can be taken), its schema is this version's, and the process is not shutting down | any of those fails; `reason` says which |
 *
 * The bodies hold a status word and, when not ready, a reason from a fixed set:
 * no version, path or host, so a probe from outside learns nothing else.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../store/types.js';

/** Why `/readyz` fails: a fixed set. */
export type NotReadyReason = 'shutting_down' | 'database' | 'schema';

/** What `/readyz` answers. */
export type ReadyState = { ready: true } | { ready: false; reason: NotReadyReason };

/** The readiness of one process. */
export interface Readiness {
  /** Whether {@link Readiness.shutDown} was called. */
  readonly shuttingDown: boolean;
  /** From now on `/readyz` fails with `shutting_down`. Called first on SIGTERM, before the drain. */
  shutDown(): void;
  /** Checks the database (one check at a time: concurrent probes share it). */
  check(): Promise<ReadyState>;
}

/** Options of {@link createReadiness}. */
export interface ReadinessOptions {
  /** How long the database may take to answer. Defaults to `1000` ms. */
  timeoutMs?: number;
}

/** Readiness over `store`. */
export function createReadiness(store: Store, options: ReadinessOptions = {}): Readiness {
  const timeoutMs = options.timeoutMs ?? 1000;
  let shuttingDown = false;
  let inFlight: Promise<ReadyState> | undefined;
  const run = async (): Promise<ReadyState> => {
    const db = await store.monitor.ready(timeoutMs);
    if (shuttingDown) return { ready: false, reason: 'shutting_down' };
    if (db.ready) return { ready: true };
    return { ready: false, reason: db.reason === 'schema' ? 'schema' : 'database' };
  };
  return {
    get shuttingDown() {
      return shuttingDown;
    },
    shutDown() {
      shuttingDown = true;
    },
    check() {
      if (shuttingDown) return Promise.resolve({ ready: false, reason: 'shutting_down' });
      inFlight ??= run().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
  };
}

function answer(res: ServerResponse, status: number, body: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(text);
}

/** The paths answered by {@link handleHealth}. */
export const HEALTH_PATHS = ['/healthz', '/readyz'] as const;

/**
 * Answers `GET`/`HEAD /healthz` and `/readyz`; returns `false`, answering nothing, for any
 * other request. Runs before the app (no request log line per probe, no security middleware).
 */
export function handleHealth(readiness: Readiness, req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? '').split('?', 1)[0];
  if (path !== '/healthz' && path !== '/readyz') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    answer(res, 405, { error: 'Method not allowed' });
    return true;
  }
  if (path === '/healthz') {
    answer(res, 200, { status: 'ok' });
    return true;
  }
  readiness.check().then(
    (state) => (state.ready ? answer(res, 200, { status: 'ready' }) : answer(res, 503, { status: 'not ready', reason: state.reason })),
    () => answer(res, 503, { status: 'not ready', reason: 'database' }),
  );
  return true;
}
