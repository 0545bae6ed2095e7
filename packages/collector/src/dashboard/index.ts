/**
 * The dashboard, served by the collector at `/dashboard`: server-rendered pages
 * over the {@link Store}, for agency staff and their clients. This module wires
 * sign-in, sessions and the write checks; each page lives in `pages/`.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { ApiVersions, FetchLike, KeyRing, Platform, PlatformUrls } from '@pruuv/sender';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { PixelScriptInfo } from '../http/app.js';
import { asStorageUnavailable } from '../errors.js';
import { DEFAULT_SEND_CRON } from '../send/send-config.js';
import type { Store } from '../store/types.js';
import { loadAssets, serveAsset, type Assets } from './assets.js';
import { csrfTokenFor, DEFAULT_SESSION_POLICY, endSession, resumeSession, startSession, type LiveSession, type SessionPolicy } from './auth/sessions.js';
import { DEFAULT_SIGN_IN_LIMITS, signIn, type SignInLimits } from './auth/sign-in.js';
import { checkWrite, isLocalhost, isSecure, render, safeNext, securityHeaders, sessionCookie, setSessionCookie } from './http.js';
import { ErrorPage } from './pages/error.js';
import { oauthCallback } from './pages/oauth.js';
import { createOAuthFlow, type OAuthFlow, type OAuthSetup } from '../domain/oauth.js';
import { addPages } from './pages/index.js';
import type { DashboardSettings } from './pages/settings.js';
import { SignInPage } from './pages/sign-in.js';
import type { PageContext } from './views/layout.js';

/**
 * What the pages that set a client up (clients, connections, funnel webhooks) need
 * beyond the store: where the collector is reached, where the pixel is served, and
 * what storing credentials and sending test events take.
 */
export interface DashboardSetup {
  /** Public base URL (`PRUUV_PUBLIC_URL`) for snippets and webhook URLs. Defaults to each request's own origin. */
  publicUrl?: string;
  /** Where the pixel script is served (`app.locals.pixelScript`); `undefined` when it is not built. */
  pixelScript?: PixelScriptInfo;
  /** Path of the pixel's ingest endpoint. Defaults to `/e`. */
  ingestPath?: string;
  /** The key ring credentials are encrypted with (`PRUUV_ENCRYPTION_KEY`). Defaults to none: credentials cannot be stored. */
  keyRing?: KeyRing;
  /** Platform API base URLs and versions for test events. Defaults to the real platforms. */
  urls?: Partial<PlatformUrls>;
  versions?: Partial<ApiVersions>;
  /**
   * Connection fields the operator set for every connection of a platform (`PRUUV_MICROSOFT_DEVELOPER_TOKEN`,
   * `_CLIENT_ID`, `_CLIENT_SECRET`), filled into a test event's connection as a pass fills them; a
   * connection's own fields win. Defaults to none.
   */
  connectionDefaults?: Partial<Record<Platform, Readonly<Record<string, string>>>>;
  /** `fetch` of test events and of the OAuth flow. Defaults to the global one. */
  fetch?: FetchLike;
  /** The OAuth apps of the Connect buttons (`PRUUV_GOOGLE_OAUTH_CLIENT_ID`…). Defaults to none: no Connect button, credentials are pasted. */
  oauth?: OAuthSetup;
}

/**
 * How send passes are scheduled, for the overview: the cron of `PRUUV_SEND_CRON` (UTC), or
 * the demo's fixed interval.
 */
export type SendScheduleInfo = { cron: string } | { everyMs: number };

/** What the dashboard needs. */
export interface DashboardOptions {
  store: Store;
  now?: () => Date;
  logger?: Logger;
  sessionPolicy?: SessionPolicy;
  signInLimits?: SignInLimits;
  /** What the Settings page shows of the configuration. */
  settings?: DashboardSettings;
  setup?: DashboardSetup;
  /** Defaults to `{ cron: '0 3 * * *' }`, the default of `PRUUV_SEND_CRON`. */
  sendSchedule?: SendScheduleInfo;
}

/** What a page handler gets: the store, the clock, the send schedule and the signed-in context. */
export interface DashboardDeps {
  store: Store;
  now: () => Date;
  logger: Logger;
  assets: Assets;
  settings?: DashboardSettings;
  setup: DashboardSetup;
  sendSchedule: SendScheduleInfo;
  /** "Connect with OAuth" over the store, with the setup's apps. */
  oauth: OAuthFlow;
}

/** The signed-in context of a request, set by the session check. */
export function pageContext(res: Response): PageContext & { session: LiveSession } {
  return res.locals['dashboard'] as PageContext & { session: LiveSession };
}

/** The OAuth flow of a dashboard's setup (its apps, key ring, versions and `fetch`). */
function oauthFlowOf(store: Store, setup: DashboardSetup, now: () => Date): OAuthFlow {
  const oauth: OAuthSetup = { platforms: {}, ...setup.oauth };
  if (oauth.fetch === undefined && setup.fetch !== undefined) oauth.fetch = setup.fetch;
  if (oauth.versions === undefined && setup.versions !== undefined) oauth.versions = setup.versions;
  return createOAuthFlow(store, oauth, setup.keyRing, { now });
}

/**
 * Builds the router to mount at `/oauth`: `GET /oauth/:platform/callback`, where the
 * platforms send the browser back after consent (the redirect URI registered with each
 * app). It reads the dashboard's session cookie (SameSite=Lax: sent on this top-level GET).
 */
export function createOAuthCallbackRouter(options: DashboardOptions): Router {
  const store = options.store;
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? pino({ level: 'silent' });
  const policy = options.sessionPolicy ?? DEFAULT_SESSION_POLICY;
  const assets = loadAssets();
  const setup = options.setup ?? {};
  const oauth = oauthFlowOf(store, setup, now);
  const router = express.Router({ caseSensitive: true, strict: true });
  router.use(securityHeaders);
  router.get('/:platform/callback', async (req, res, next) => {
    try {
      const session = await resumeSession(store, sessionCookie(req), now(), policy);
      await oauthCallback(req, res, { oauth, assets, setup, logger, session });
    } catch (error) {
      next(error);
    }
  });
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const unavailable = asStorageUnavailable(error);
    if (unavailable !== undefined) {
      res.setHeader('Retry-After', String(unavailable.retryAfterSeconds));
      return render(res, ErrorPage({ assets, status: 503, message: 'The database cannot be reached right now. Start again in a moment.' }), 503);
    }
    logger.error({ err: error, path: req.path }, 'oauth callback: internal error');
    render(res, ErrorPage({ assets, status: 500, message: 'Something went wrong on our side; it has been logged. Nothing was saved: start again.' }), 500);
  });
  return router;
}

/** Builds the router to mount at `/dashboard`. */
export function createDashboardRouter(options: DashboardOptions): Router {
  const store = options.store;
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? pino({ level: 'silent' });
  const policy = options.sessionPolicy ?? DEFAULT_SESSION_POLICY;
  const limits = options.signInLimits ?? DEFAULT_SIGN_IN_LIMITS;
  const assets = loadAssets();
  const setup = options.setup ?? {};
  const deps: DashboardDeps = {
    store,
    now,
    logger,
    assets,
    setup,
    oauth: oauthFlowOf(store, setup, now),
    sendSchedule: options.sendSchedule ?? { cron: DEFAULT_SEND_CRON },
    ...(options.settings !== undefined ? { settings: options.settings } : {}),
  };

  const router = express.Router({ caseSensitive: true, strict: true });
  router.use(securityHeaders);
  router.get('/assets/:name', serveAsset(assets));
  router.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 200 }));

  router.get('/sign-in', async (req, res) => {
    const next = safeNext(req.query['next']);
    if ((await resumeSession(store, sessionCookie(req), now(), policy)) !== undefined) return res.redirect(303, next);
    const noUsers = (await store.users.count()) === 0;
    render(res, SignInPage({ assets, next, insecure: !isSecure(req) && !isLocalhost(req), signedOut: req.query['signed-out'] === '1', noUsers }));
  });

  router.post('/sign-in', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const next = safeNext(body['next']);
    const email = typeof body['email'] === 'string' ? body['email'].slice(0, 254) : '';
    const password = typeof body['password'] === 'string' ? body['password'] : '';
    const refused = checkWrite(req, undefined);
    if (refused !== undefined) return render(res, SignInPage({ assets, next, email, error: refused }), 403);
    const result = await signIn(store, { email, password, address: req.ip ?? 'unknown' }, now(), limits);
    if (!result.ok) {
      logger.info({ reason: result.reason }, 'dashboard: sign-in refused');
      if (result.reason === 'throttled') {
        res.setHeader('Retry-After', String(result.retryAfterSeconds));
        const minutes = Math.ceil(result.retryAfterSeconds / 60);
        return render(res, SignInPage({ assets, next, email, error: `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` }), 429);
      }
      return render(res, SignInPage({ assets, next, email, error: 'Wrong email or password.' }), 401);
    }
    // A session id that existed before sign-in is never kept (fixation): always a new one.
    const previous = sessionCookie(req);
    if (previous !== undefined) await endSession(store, previous);
    const id = await startSession(store, result.user.id, now(), policy);
    setSessionCookie(req, res, id, Math.floor(policy.absoluteMs / 1000));
    logger.info({ user_id: result.user.id }, 'dashboard: signed in');
    res.redirect(303, next);
  });

  // Everything below needs a live session.
  router.use(async (req: Request, res: Response, next: NextFunction) => {
    const session = await resumeSession(store, sessionCookie(req), now(), policy);
    if (session === undefined) {
      if (sessionCookie(req) !== undefined) setSessionCookie(req, res, undefined, 0);
      if (req.method === 'GET' || req.method === 'HEAD') return res.redirect(303, `/dashboard/sign-in?next=${encodeURIComponent(safeNext(req.originalUrl))}`);
      return render(res, ErrorPage({ assets, status: 401, message: 'Your session has ended. Sign in again.' }), 401);
    }
    const { password_hash: _hash, ...user } = session.user;
    res.locals['dashboard'] = { user, csrf: csrfTokenFor(session.id), path: req.originalUrl.split('?')[0] ?? '', assets, session };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const refused = checkWrite(req, session);
      if (refused !== undefined) return render(res, ErrorPage({ assets, status: 403, message: refused }), 403);
    }
    next();
  });

  router.post('/sign-out', async (req, res) => {
    await endSession(store, pageContext(res).session.id);
    setSessionCookie(req, res, undefined, 0);
    res.redirect(303, '/dashboard/sign-in?signed-out=1');
  });

  router.post('/sign-out-everywhere', async (req, res) => {
    await store.sessions.removeForUser(pageContext(res).user.id);
    setSessionCookie(req, res, undefined, 0);
    res.redirect(303, '/dashboard/sign-in?signed-out=1');
  });

  addPages(router, deps);

  router.use((_req: Request, res: Response) => render(res, ErrorPage({ assets, status: 404, message: 'There is no such page.' }), 404));
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      res.end();
      return;
    }
    const unavailable = asStorageUnavailable(error);
    if (unavailable !== undefined) {
      res.setHeader('Retry-After', String(unavailable.retryAfterSeconds));
      return render(res, ErrorPage({ assets, status: 503, message: 'The database cannot be reached right now. Try again in a moment.' }), 503);
    }
    const status = (error as { status?: unknown } | undefined)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return render(res, ErrorPage({ assets, status, message: 'The request could not be read.' }), status);
    }
    logger.error({ err: error, path: req.path }, 'dashboard: internal error');
    render(res, ErrorPage({ assets, status: 500, message: 'Something went wrong on our side; it has been logged.' }), 500);
  });
  return router;
}
