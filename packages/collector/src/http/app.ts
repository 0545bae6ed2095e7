/**
 * The collector's HTTP app: the funnel webhook, the pixel's ingest endpoint and
 * script, the admin API and the optional demo site. `createApp` builds it and
 * never listens (`server.ts` does), so tests run it on port 0.
 */
import { createRequire } from 'node:module';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { pino, type Logger } from 'pino';
import { createBeaconLimits, type BeaconLimits } from '../domain/beacon-limits.js';
import { BEACON_SIGNALS, type BeaconSignal } from '../domain/beacon-signals.js';
import { createWebhookAuthThrottle, type AuthThrottle, type WebhookAuthThrottle } from '../domain/rate-limit.js';
import { asStorageUnavailable } from '../errors.js';
import type { SendConfig } from '../send/send-config.js';
import type { Store } from '../store/types.js';
import type { BeaconOutcome, Metrics } from '../ops/metrics.js';
import { createDashboardRouter, createOAuthCallbackRouter, type DashboardOptions, type DashboardSetup } from '../dashboard/index.js';
import type { OAuthConfig } from '../oauth-config.js';
import type { OAuthSetup } from '../domain/oauth.js';
import { createAdminRouter } from './admin.js';
import { createBeaconReport, type BeaconReport } from './beacon-report.js';
import { createDemoRouter } from './demo-static.js';
import { sendError, sendValidationFailed } from './http.js';
import { addIngestRoutes } from './ingest.js';
import { addScriptRoutes, loadPixelScript, type PixelScript } from './script.js';
import { precomputedHeaders } from './security-headers.js';
import { addWebhookRoutes } from './webhook.js';

/** Options of {@link createApp}. */
export interface AppOptions {
  /** The store (see `openStore`): every route reads and writes through it alone. */
  store: Store;
  /** Clock. Defaults to `() => new Date()`. */
  now?: () => Date;
  /** Logger. Defaults to a silent logger. */
  logger?: Logger;
  /** Bearer token of the admin API. Defaults to none: the admin API answers 404. */
  adminToken?: string;
  /** Path of the pixel script. Defaults to `/s.js`. */
  scriptPath?: string;
  /** Path of the pixel's ingest endpoint. Defaults to `/e`. */
  ingestPath?: string;
  /** Express's `trust proxy` setting (which `X-Forwarded-*` headers to believe). Defaults to `false`. */
  trustProxy?: boolean | string | number;
  /** The built pixel IIFE. Defaults to `@pruuv/pixel`'s `dist/pruuv.min.js`. */
  pixelScriptFile?: string;
  /** When set, this folder is served at `/demo/`. Defaults to none. */
  demoDir?: string;
  /** Replaces `DEMO_SITE_KEY` in the demo's HTML. */
  demoSiteKey?: string;
  /** Throttle of wrong webhook tokens. Defaults to 20 per address and stage, 100 per address, in 10 minutes. */
  authThrottle?: WebhookAuthThrottle;
  /** Throttle of wrong admin tokens. Defaults to 10 per address in 10 minutes. */
  adminThrottle?: AuthThrottle;
  /**
   * The pixel path's limits (per address and site, per site). Defaults to `createBeaconLimits()`:
   * a burst of 60 per address and site, then 60 a minute; 10,000 an hour per site.
   */
  beaconLimits?: BeaconLimits;
  /** The browser signals whose absence holds a beacon (`PRUUV_PIXEL_HOLD`). Defaults to all of `BEACON_SIGNALS`. */
  beaconSignals?: readonly BeaconSignal[];
  /** Counts of throttled and held beacons. Defaults to a report nobody flushes (`server.ts` passes its own). */
  beaconReport?: BeaconReport;
  /** The dashboard at `/dashboard`: `false` leaves it out; an object sets its session policy, sign-in limits, settings and the send schedule it shows. Defaults to on. */
  dashboard?: boolean | Pick<DashboardOptions, 'sessionPolicy' | 'signInLimits' | 'settings' | 'sendSchedule'>;
  /** Public base URL of the collector (`PRUUV_PUBLIC_URL`), in the dashboard's snippets and webhook URLs. Defaults to each request's own origin. */
  publicUrl?: string;
  /**
   * The dashboard's connections page: the key ring that encrypts credentials, and the platform URLs,
   * versions and the operator's connection fields (Microsoft's developer token and Azure app) its test
   * events go with (`config.send`). Defaults to no key ring (credentials cannot be saved), the real
   * platforms and no operator fields.
   */
  send?: Pick<SendConfig, 'keyRing' | 'urls' | 'versions' | 'connectionDefaults'> & Pick<DashboardSetup, 'fetch'>;
  /**
   * The OAuth apps of the Connections page's Connect buttons (`config.oauth`), with their callback at
   * `/oauth/:platform/callback`, and the timeout of each platform call of the flow. Defaults to none.
   */
  oauth?: OAuthConfig & Pick<OAuthSetup, 'timeoutMs'>;
  /** Requests and pixel beacons counted for `/metrics` (see `createMetrics`). Defaults to none. */
  metrics?: Metrics;
}

/** Default path of the pixel script: short, and free of words ad-block lists match. */
export const DEFAULT_SCRIPT_PATH = '/s.js';
/** Default path of the ingest endpoint. */
export const DEFAULT_INGEST_PATH = '/e';

/** The `@pruuv/pixel` script-tag build. */
export function defaultPixelScriptFile(): string {
  return createRequire(import.meta.url).resolve('@pruuv/pixel/pruuv.min.js');
}

/** Where the pixel script is served, once the app is built: `app.locals.pixelScript`. */
export interface PixelScriptInfo {
  path: string;
  versionedPath: string;
  etag: string;
}

/** Builds the app. Never listens. */
export function createApp(opts: AppOptions): express.Express {
  const now = opts.now ?? (() => new Date());
  const logger = opts.logger ?? pino({ level: 'silent' });
  const scriptPath = opts.scriptPath ?? DEFAULT_SCRIPT_PATH;
  const ingestPath = opts.ingestPath ?? DEFAULT_INGEST_PATH;

  const app = express();
  app.disable('x-powered-by');
  // No ETag on JSON answers: they answer POSTs or change with every call, so a
  // validator only costs a SHA-1 of each body. The pixel script sets its own strong ETag.
  app.set('etag', false);
  app.set('trust proxy', opts.trustProxy ?? false);
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  if (opts.metrics !== undefined) app.use(opts.metrics.http);

  let script: PixelScript | undefined;
  try {
    script = loadPixelScript(opts.pixelScriptFile ?? defaultPixelScriptFile(), scriptPath);
    app.locals['pixelScript'] = { path: script.path, versionedPath: script.versionedPath, etag: script.etag } satisfies PixelScriptInfo;
  } catch (error) {
    logger.error({ err: error }, `pixel script not found: ${scriptPath} answers 404 (build it with npm run build -w @pruuv/pixel)`);
  }

  // The script and ingest must stay usable cross-site: no helmet there (its
  // Cross-Origin-Resource-Policy: same-origin would block the script tag).
  const crossSite = new Set([ingestPath, scriptPath, ...(script ? [script.versionedPath] : [])]);
  // Same headers as helmet() sets per request, computed once (see security-headers.ts).
  const strict = precomputedHeaders(helmet());
  // The demo pages use inline scripts (the pre-load stub).
  const demo = helmet({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", "'unsafe-inline'"] } } });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (crossSite.has(req.path)) next();
    else if (opts.demoDir !== undefined && (req.path === '/demo' || req.path.startsWith('/demo/'))) demo(req, res, next);
    else strict(req, res, next);
  });

  // Registered on the app itself, not as mounted routers: each mounted router is
  // entered by every request that gets past it (bench/ingest.mjs).
  const metrics = opts.metrics;
  addIngestRoutes(app, {
    store: opts.store,
    now,
    logger,
    path: ingestPath,
    limits: opts.beaconLimits ?? createBeaconLimits(),
    signals: new Set(opts.beaconSignals ?? BEACON_SIGNALS),
    report: opts.beaconReport ?? createBeaconReport({ store: opts.store, logger, now }),
    ...(metrics ? { onBeacon: (o: BeaconOutcome) => metrics.beacon(o) } : {}),
  });
  if (script) addScriptRoutes(app, script);
  addWebhookRoutes(app, { store: opts.store, now, logger, throttle: opts.authThrottle ?? createWebhookAuthThrottle() });
  const adminDeps: Parameters<typeof createAdminRouter>[0] = { store: opts.store, logger, now };
  if (opts.adminThrottle !== undefined) adminDeps.throttle = opts.adminThrottle;
  if (opts.adminToken !== undefined) adminDeps.adminToken = opts.adminToken;
  app.use('/api/admin', createAdminRouter(adminDeps));
  if (opts.demoDir !== undefined) app.use('/demo', createDemoRouter(opts.demoDir, opts.demoSiteKey));
  if (opts.dashboard !== false) {
    const settings = typeof opts.dashboard === 'object' ? opts.dashboard : {};
    const setup: DashboardSetup = { ingestPath, ...opts.send };
    if (script) setup.pixelScript = app.locals['pixelScript'] as PixelScriptInfo;
    if (opts.publicUrl !== undefined) setup.publicUrl = opts.publicUrl;
    if (opts.oauth !== undefined) setup.oauth = { ...opts.oauth };
    app.use('/dashboard', createDashboardRouter({ store: opts.store, now, logger, ...settings, setup }));
    app.use('/oauth', createOAuthCallbackRouter({ store: opts.store, now, logger, ...settings, setup }));
  }

  app.use((_req: Request, res: Response) => sendError(res, 404, 'Not found'));

  // One error handler, last: JSON answers only, never a stack trace.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      logger.error({ err: error, path: req.path }, 'error after the answer started');
      res.end();
      return;
    }
    const unavailable = asStorageUnavailable(error);
    if (unavailable) {
      logger.warn({ code: unavailable.code, path: req.path }, 'database unavailable: answered 503');
      sendError(res, 503, 'Service unavailable', unavailable.retryAfterSeconds);
      return;
    }
    const { status, type } = (error ?? {}) as { status?: unknown; type?: unknown };
    if (type === 'entity.too.large' || status === 413) return sendError(res, 413, 'Payload too large');
    if (type === 'encoding.unsupported' || type === 'charset.unsupported' || status === 415) {
      return sendError(res, 415, 'Unsupported Media Type');
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Body-parser and routing failures (aborted upload, bad percent-encoding…).
      return sendValidationFailed(res, { body: ['Unreadable request'] });
    }
    logger.error({ err: error, path: req.path }, 'internal error');
    sendError(res, 500, 'Internal error');
  });

  return app;
}
