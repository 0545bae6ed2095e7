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
 * A beacon from an allowed origin is recorded as the origin's last pixel hit
 * (at most once a minute per origin and process, `domain/pixel-seen.ts`).
 *
 * Then, like the webhook: 400 on invalid fields, 404 for an unknown stage key,
 * a resend of a stored `event_id` → 200 `{ received: true, event_id, duplicate: true }`,
 * the 60-second dedup, the stage's hourly quota (429), and 503 when the database is unavailable.
 */
import { randomUUID } from 'node:crypto';
import type { IRouter, NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { eventFromBeacon, withDataTimestamp } from '../domain/event-input.js';
import { createPixelSeen } from '../domain/pixel-seen.js';
import { trackPayloadSchema, validationDetails } from '../domain/schemas.js';
import { reissueCookies } from './cookies.js';
import type { BeaconOutcome } from '../ops/metrics.js';
import type { Store } from '../store/types.js';
import { parseJsonBody, rawBody, requireContentType, sendError, sendValidationFailed } from './http.js';

/** Dependencies of the ingest router. */
export interface IngestDeps {
  store: Store;
  now: () => Date;
  logger: Logger;
  /** Path of the ingest endpoint. */
  path: string;
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
  const { store, now, logger, path } = deps;
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
      const admission = await store.events.admit(withDataTimestamp(eventFromBeacon(payload, stage, facts), at), at);
      counted(admission.status === 'stored' ? 'accepted' : admission.status === 'rate_limited' ? 'rate_limited' : 'duplicate');
      switch (admission.status) {
        case 'stored':
          res.json({ received: true, event_id: admission.event.id });
          return;
        case 'duplicate_event_id':
          res.json({ received: true, event_id: admission.event_id, duplicate: true });
          return;
        case 'duplicate':
          res.json({ received: true, duplicate: true });
          return;
        case 'rate_limited':
          logger.warn({ stage_id: stage.id }, 'ingest: stage over its hourly quota');
          sendError(res, 429, 'Rate limit exceeded', admission.retry_after_seconds);
          return;
      }
    },
  );
}
