/**
 * `GET /metrics` in the Prometheus text format (prom-client), off unless
 * `PRUUV_METRICS` is set. Counters are this process's since it started;
 * gauges are read from the database at each scrape, so every collector and
 * worker on one database reports the same values (alert on `max`, not `sum`).
 *
 * Labels never come from a request: the route is the pattern the request
 * matched (`/api/webhooks/funnel/:stageId`, never the URL), the stage is one
 * read from the database after the request was authenticated (operators create
 * stages: their number is bounded by the configuration), platforms, outcomes
 * and reasons are fixed sets. No reference, token, address or PII.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PLATFORM_IDS } from '@pruuv/sender';
import { Cron } from 'croner';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { bearerToken } from '../http/webhook.js';
import type { Admission, NewEvent, OutboxCommit, Store } from '../store/types.js';

/** Why a pixel beacon was not stored: a fixed set, the `reason` label of `pruuv_pixel_beacons_total`. */
export const BEACON_DROP_REASONS = ['unknown_site', 'origin_not_allowed', 'invalid', 'unknown_stage', 'duplicate', 'rate_limited', 'throttled'] as const;

/**
 * What became of one pixel beacon: `accepted` (stored), `held` (stored, held until released:
 * it lacked a browser's signals), or why it was dropped (`throttled`: the pixel's per-address
 * or per-site limit, answered 429).
 */
export type BeaconOutcome = 'accepted' | 'held' | (typeof BEACON_DROP_REASONS)[number];

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Where the gauges are read at each scrape. */
  store: Store;
  /** Clock. Defaults to `() => new Date()`. */
  now?: () => Date;
  /** The send schedule (`PRUUV_SEND_CRON`, UTC), for `pruuv_send_next_pass_timestamp_seconds`. Defaults to none: the gauge is left out. */
  cron?: string;
  /** Bearer token `/metrics` requires. Defaults to none. */
  token?: string;
  /** Node's process metrics (CPU, memory, event-loop lag, heap). Defaults to `true`. */
  processMetrics?: boolean;
}

/** One process's metrics. */
export interface Metrics {
  /** The prom-client registry (for tests and embedding). */
  readonly registry: Registry;
  /** Express middleware, first in the app: each request's route pattern, status and duration. */
  http(req: Request, res: Response, next: NextFunction): void;
  /** Counts a pixel beacon. */
  beacon(outcome: BeaconOutcome): void;
  /** The same store, its admissions and send outcomes counted. */
  instrument<S extends Store>(store: S): S;
  /** Answers `GET /metrics` (401 without the token when one is set); `false` for any other request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The pattern of the route a request matched, never its URL. */
function routeOf(req: Request, status: number): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path === 'string') return `${req.baseUrl}${path}` || '/';
  return status === 404 ? 'unmatched' : 'other';
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Compares in constant time: hashes first, so lengths do not show either. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const given = bearerToken(header);
  return timingSafeEqual(digest(given ?? ''), digest(token)) && given !== undefined;
}

/** Creates the registry and its metrics. */
export function createMetrics(options: MetricsOptions): Metrics {
  const now = options.now ?? (() => new Date());
  const registry = new Registry();
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'pruuv_' });
    // It labels the Node version: nothing a scraper needs to know.
    registry.removeSingleMetric('pruuv_nodejs_version_info');
  }
  const registers = [registry];

  const requests = new Histogram({
    name: 'pruuv_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status, and how long they took (_count: the requests).',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const events = new Counter({
    name: 'pruuv_events_total',
    help: 'Funnel events by stage and source: stored, duplicate (answered, not stored) or rate_limited (429, the stage over its hourly quota).',
    labelNames: ['stage_id', 'stage_key', 'source', 'result'] as const,
    registers,
  });
  const beacons = new Counter({
    name: 'pruuv_pixel_beacons_total',
    help: 'Pixel beacons: accepted (stored, or stored and held), or dropped with a reason from a fixed set.',
    labelNames: ['outcome', 'reason'] as const,
    registers,
  });
  const sends = new Counter({
    name: 'pruuv_send_attempts_total',
    help: 'Conversion send outcomes by platform: sent, failed, retrying, dead or skipped.',
    labelNames: ['platform', 'outcome'] as const,
    registers,
  });

  // One read of the database per scrape, shared by every gauge.
  let reading: Promise<Snapshot> | undefined;
  interface Snapshot {
    ok: boolean;
    gauges?: Awaited<ReturnType<Store['monitor']['gauges']>>;
    lastPass?: Date;
    at: Date;
  }
  const snapshot = (): Promise<Snapshot> => {
    reading ??= (async (): Promise<Snapshot> => {
      const at = now();
      try {
        const [gauges, runs] = await Promise.all([options.store.monitor.gauges(at), options.store.runs.recent(5)]);
        const finished = runs.find((r) => r.finished_at !== undefined)?.finished_at;
        return { ok: true, gauges, at, ...(finished !== undefined ? { lastPass: new Date(finished) } : {}) };
      } catch {
        return { ok: false, at };
      }
    })().finally(() => {
      setImmediate(() => (reading = undefined));
    });
    return reading;
  };

  new Gauge({
    name: 'pruuv_database_up',
    help: '1 when the gauges could be read from the database at this scrape, 0 when not (the other pruuv_ gauges then keep their last values).',
    registers,
    async collect() {
      this.set((await snapshot()).ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pruuv_outbox_due_rows',
    help: 'Outbox rows pending or retrying whose due time has come.',
    registers,
    async collect() {
      const s = await snapshot();
      if (s.gauges) this.set(s.gauges.outbox_due);
    },
  });
  new Gauge({
    name: 'pruuv_outbox_oldest_due_age_seconds',
    help: 'How long the oldest due outbox row has been due; 0 when none is.',
    registers,
    async collect() {
      const s = await snapshot();
      if (!s.gauges) return;
      const oldest = s.gauges.oldest_due_at;
      this.set(oldest === undefined ? 0 : Math.max(0, (s.at.getTime() - Date.parse(oldest)) / 1000));
    },
  });
  new Gauge({
    name: 'pruuv_connections_paused',
    help: 'Connections paused by an auth or permission error, per platform, until a person fixes the credentials.',
    labelNames: ['platform'] as const,
    registers,
    async collect() {
      const s = await snapshot();
      if (!s.gauges) return;
      for (const platform of PLATFORM_IDS) this.set({ platform }, 0);
      for (const { platform, count } of s.gauges.paused_connections) this.set({ platform }, count);
    },
  });
  new Gauge({
    name: 'pruuv_database_size_bytes',
    help: 'Bytes the database takes: the SQLite file and its WAL, or pg_database_size.',
    registers,
    async collect() {
      const s = await snapshot();
      if (s.gauges) this.set(s.gauges.database_bytes);
    },
  });
  new Gauge({
    name: 'pruuv_send_last_pass_timestamp_seconds',
    help: 'When the last scheduled send pass finished (Unix time); absent before the first.',
    registers,
    async collect() {
      const s = await snapshot();
      if (s.lastPass !== undefined) this.set(s.lastPass.getTime() / 1000);
    },
  });
  if (options.cron !== undefined) {
    const cron = new Cron(options.cron, { paused: true, timezone: 'UTC' });
    new Gauge({
      name: 'pruuv_send_next_pass_timestamp_seconds',
      help: 'When the next scheduled send pass starts (Unix time), from PRUUV_SEND_CRON.',
      registers,
      collect() {
        const next = cron.nextRun(now());
        if (next) this.set(next.getTime() / 1000);
      },
    });
  }

  const countAdmission = (event: NewEvent, admission: Admission): void => {
    const result = admission.status === 'stored' ? 'stored' : admission.status === 'rate_limited' ? 'rate_limited' : 'duplicate';
    events.inc({ stage_id: event.stage_id, stage_key: event.stage_key, source: event.source, result });
  };

  return {
    registry,
    http(req, res, next) {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const status = res.statusCode;
        requests.observe(
          { method: METHODS.has(req.method) ? req.method : 'other', route: routeOf(req, status), status: String(status) },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      });
      next();
    },
    beacon(outcome) {
      beacons.inc(
        outcome === 'accepted' ? { outcome: 'accepted', reason: 'stored' } : outcome === 'held' ? { outcome: 'accepted', reason: 'held' } : { outcome: 'dropped', reason: outcome },
      );
    },
    instrument<S extends Store>(store: S): S {
      const events = new Proxy(store.events, {
        get(target, key) {
          if (key === 'admit') {
            return async (event: NewEvent, at: Date): Promise<Admission> => {
              const admission = await target.admit(event, at);
              countAdmission(event, admission);
              return admission;
            };
          }
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const outbox = new Proxy(store.outbox, {
        get(target, key) {
          if (key === 'commit') {
            return async (input: OutboxCommit): Promise<void> => {
              await target.commit(input);
              for (const record of input.records) sends.inc({ platform: record.platform, outcome: record.status });
            };
          }
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      return { ...store, events, outbox };
    },
    handle(req, res) {
      const path = (req.url ?? '').split('?', 1)[0];
      if (path !== '/metrics') return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: 'Method not allowed' }));
        return true;
      }
      if (options.token !== undefined && !tokenMatches(req.headers.authorization, options.token)) {
        res.writeHead(401, { 'Content-Type': 'application/json; charset=utf-8', 'WWW-Authenticate': 'Bearer', 'Cache-Control': 'no-store' });
        res.end(JSON.stringify({ error: 'Unauthorized' }));
        return true;
      }
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        () => {
          res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ error: 'Internal error' }));
        },
      );
      return true;
    },
  };
}
