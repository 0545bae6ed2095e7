/**
 * `POST {ingestPath}` (default `/e`): the pixel's beacon.
 *
 * The pixel posts `text/plain` JSON with credentials, so browsers send no CORS
 * preflight; allowed origins get `Access-Control-Allow-Origin: <origin>` with
 * credentials so the pixel can read the answer. `application/json` is accepted
 * too (with a preflight, answered by `OPTIONS`).
 *
 * Events from an unknown site key, or from an origin the site's client does not
 * list, are dropped with the same 200 an accepted event gets and nothing stored:
 * the sender learns nothing (logged at debug for the site owner).
 *
 * Then the pixel path's own limits (`domain/beacon-limits.ts`): past the token bucket of
 * the client address and site, or the site's budget, 429 `{ error: "Rate limit exceeded" }`
 * with `Retry-After` (the pixel keeps the event in its outbox and sends it again later).
 * Beacons never count against the stage's hourly quota: that quota is the webhook's.
 *
 * A beacon within the limits is recorded as the origin's last pixel hit
 * (at most once a minute per origin and process, `domain/pixel-seen.ts`).
 *
 * Then, like the webhook: 400 on invalid fields, 404 for an unknown stage key,
 * a resend of a stored `event_id` → 200 `{ received: true, event_id, duplicate: true }`,
 * the 60-second dedup, and 503 when the database is unavailable.
 *
 * A beacon without a browser's signals (`domain/beacon-signals.ts`: a bot's User-Agent, no
 * `Sec-Fetch-*` headers) is stored HELD and answered like any other (the sender learns
 * nothing): its sends wait until an admin releases it.
 */
import { randomUUID } from 'node:crypto';
import type { IRouter, NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { BeaconLimits } from '../domain/beacon-limits.js';
import { holdReason, type BeaconSignal } from '../domain/beacon-signals.js';
import { eventFromBeacon, withDataTimestamp } from '../domain/event-input.js';
import { createPixelSeen } from '../domain/pixel-seen.js';
import { trackPayloadSchema, validationDetails } from '../domain/schemas.js';
import { reissueCookies } from './cookies.js';
import type { BeaconOutcome } from '../ops/metrics.js';
import type { NewEvent, Store } from '../store/types.js';
import type { BeaconReport } from './beacon-report.js';
import { parseJsonBody, rawBody, requireContentType, sendError, sendValidationFailed } from './http.js';

/** Dependencies of the ingest router. */
export interface IngestDeps {
  store: Store;
  now: () => Date;
  logger: Logger;
  /** Path of the ingest endpoint. */
  path: string;
  /** The token buckets per address and site, and per site. */
  limits: BeaconLimits;
  /** The browser signals whose absence holds a beacon. */
  signals: ReadonlySet<BeaconSignal>;
  /** Where refusals and holds are counted. */
  report: BeaconReport;
  /** Told what became of each beacon (the metrics). Defaults to nothing. */
  onBeacon?: (outcome: BeaconOutcome) => void;
}

/** Longest User-Agent stored. */
const MAX_USER_AGENT = 512;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function allowCors(res: Response, origin: string): void {
  res.set('Access-Control-Allow-Origin', origin);
  res.set('Access-Control-Allow-Credentials', 'true');
}

function denyCors(res: Response): void {
  res.removeHeader('Access-Control-Allow-Origin');
  res.removeHeader('Access-Control-Allow-Credentials');
}

/** Creates the ingest router. */
export function addIngestRoutes(router: IRouter, deps: IngestDeps): void {
  const { store, now, logger, path, limits, signals, report } = deps;
  const counted = (outcome: BeaconOutcome): void => deps.onBeacon?.(outcome);
  const pixelSeen = createPixelSeen(store, logger);

  /**
   * Before the body is read the site key is unknown: an origin listed by any
   * client gets CORS headers, so the pixel can read a 4xx (and not mistake it
   * for a network error to retry). Narrowed to the site's own origins below.
   */
  const cors = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    res.vary('Origin');
    const origin = req.get('origin');
    if (origin !== undefined && (await store.clients.anyAllowsOrigin(origin))) allowCors(res, origin);
    next();
  };

  router.options(path, cors, (req: Request, res: Response) => {
    if (res.get('Access-Control-Allow-Origin') !== undefined) {
      res.set('Access-Control-Allow-Methods', 'POST');
      res.set('Access-Control-Allow-Headers', 'Content-Type');
      res.set('Access-Control-Max-Age', '86400');
    }
    res.status(204).end();
  });

  router.post(
    path,
    cors,
    requireContentType(['text/plain', 'application/json']),
    rawBody,
    async (req: Request, res: Response) => {
      const body = parseJsonBody(req.body);
      if (!body.ok) {
        counted('invalid');
        sendValidationFailed(res, body.details);
        return;
      }
      const raw = (typeof body.value === 'object' && body.value !== null ? body.value : {}) as Record<string, unknown>;
      const origin = req.get('origin');
      const client = typeof raw['site'] === 'string' ? await store.clients.bySiteKey(raw['site']) : undefined;
      if (!client || origin === undefined || !client.origins.includes(origin)) {
        // Dropped: answer exactly like an accepted event, store nothing.
        logger.debug(
          { site: typeof raw['site'] === 'string' ? raw['site'].slice(0, 64) : undefined, origin, reason: client ? 'origin not allowed' : 'unknown site key' },
          'ingest: dropped',
        );
        counted(client ? 'origin_not_allowed' : 'unknown_site');
        denyCors(res);
        const id = raw['event_id'];
        res.json({ received: true, event_id: typeof id === 'string' && UUID.test(id) ? id : randomUUID() });
        return;
      }
      allowCors(res, origin);
      // Before any further work: a flood costs a lookup in memory per beacon. `req.ip` is the
      // client's address behind PRUUV_TRUST_PROXY, else the socket's.
      const verdict = limits.take(req.ip ?? 'unknown', client.id, now().getTime());
      if (!verdict.ok) {
        counted('throttled');
        report.throttled(client.id, verdict.scope);
        sendError(res, 429, 'Rate limit exceeded', verdict.retryAfterSeconds);
        return;
      }
      // The pixel is installed on this origin, whatever this beacon holds (the dashboard's check).
      await pixelSeen(client.id, origin, now());
      const parsed = trackPayloadSchema.safeParse(body.value);
      if (!parsed.success) {
        counted('invalid');
        sendValidationFailed(res, validationDetails(parsed.error));
        return;
      }
      const payload = parsed.data;
      const stage = await store.stages.byKey(client.id, payload.stage);
      if (!stage) {
        counted('unknown_stage');
        sendError(res, 404, 'Stage not found');
        return;
      }
      const cookies = reissueCookies({ cookieHeader: req.get('cookie'), pageOrigin: origin, requestHost: req.hostname });
      if (cookies.length > 0) res.append('Set-Cookie', cookies);

      const at = now();
      const facts: { client_ip?: string; user_agent?: string } = {};
      if (req.ip !== undefined) facts.client_ip = req.ip;
      const ua = req.get('user-agent');
      if (ua) facts.user_agent = ua.slice(0, MAX_USER_AGENT);
      const event: NewEvent = withDataTimestamp(eventFromBeacon(payload, stage, facts), at);
      const held = holdReason(
        { 'user-agent': ua, 'sec-fetch-site': req.get('sec-fetch-site'), 'sec-fetch-mode': req.get('sec-fetch-mode'), 'sec-fetch-dest': req.get('sec-fetch-dest') },
        signals,
      );
      if (held !== undefined) event.held_reason = held;
      const admission = await store.events.admit(event, at);
      counted(admission.status === 'stored' ? (held !== undefined ? 'held' : 'accepted') : admission.status === 'rate_limited' ? 'rate_limited' : 'duplicate');
      switch (admission.status) {
        case 'stored':
          if (held !== undefined) report.held(client.id, held);
          res.json({ received: true, event_id: admission.event.id });
          return;
        case 'duplicate_event_id':
          res.json({ received: true, event_id: admission.event_id, duplicate: true });
          return;
        case 'duplicate':
          res.json({ received: true, duplicate: true });
          return;
        case 'rate_limited':
          // Not reached: the stage quota counts webhook events only. Kept so a store that refuses is answered as such.
          sendError(res, 429, 'Rate limit exceeded', admission.retry_after_seconds);
          return;
      }
    },
  );
}
