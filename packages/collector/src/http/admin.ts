import { createAuthThrottle, type AuthThrottle } from '../domain/rate-limit.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { eventQuerySchema, webhookUrl } from '../domain/admin-input.js';
import { createConnections } from '../domain/connections.js';
import {
  createClient,
  setClientSettings,
  createStage,
  listEvents,
  listStages,
  OperationError,
  rotateStageToken,
} from '../domain/operations.js';
import { validationDetails } from '../domain/schemas.js';
import { beaconSummary, releaseHeld } from '../domain/held-events.js';
import { googleStatusQuerySchema, listGoogleStatus, listSends, sendQuerySchema } from '../domain/send-lists.js';
import { asStorageUnavailable, InvalidInputError } from '../errors.js';
import type { Store } from '../store/types.js';
import { sendError, sendValidationFailed } from './http.js';

/** Dependencies of the admin API router. */
export interface AdminRouterDeps {
  store: Store;
  /** Bearer token of the admin API. Defaults to `undefined`: the admin API answers 404 for everything. */
  adminToken?: string;
  logger?: Logger;
  /** Clock of the throttle. Defaults to `() => new Date()`. */
  now?: () => Date;
  /** Failed tokens per address before 429. Defaults to 10 in 10 minutes. */
  throttle?: AuthThrottle;
}

/** HTTP status of each {@link OperationError} kind. */
const STATUS: Record<OperationError['kind'], number> = { invalid: 400, not_found: 404, conflict: 409 };

/**
 * Compares a presented bearer token with the configured one in constant time. Both sides are
 * hashed first so `timingSafeEqual` gets equal lengths and the length of the real token does
 * not leak either.
 */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  const presented = match?.[1] ?? '';
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && presented !== '';
}

/** Origin of the request as the client sees it (honours `trust proxy` through `req.protocol`). */
function baseUrlOf(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/**
 * The admin HTTP API, mounted at `/api/admin` by `createApp`:
 *
 * | method | path | body | 2xx response |
 * | --- | --- | --- | --- |
 * | GET | /clients | | `{ clients }` |
 * | POST | /clients | `{ name, origins?, default_country? }` | 201 `{ client }` |
 * | PATCH | /clients/:id | `{ default_country }` (`null` clears it) | `{ client }` |
 * | GET | /clients/:id/stages | | `{ stages }` |
 * | POST | /clients/:id/stages | `{ key, name }` | 201 `{ stage, token, webhook_url }` |
 * | POST | /stages/:id/rotate-token | | `{ stage_id, token, webhook_url }` |
 * | GET | /events?client=&stage=&held=&limit= | | `{ events }` (`held=true`: held events not yet released) |
 * | POST | /events/release | `{ client?, event_ids? }` | `{ released }` (the ids whose sends are now due) |
 * | GET | /beacons?hours= | | `{ since, sites }`: held events and beacons throttled in the last `hours` (24) per site |
 * | GET | /sends?status=&platform=&client=&event=&limit= | | `{ sends }` (the conversion audit log, newest first) |
 * | GET | /google-status?status=&client=&limit= | | `{ requests }` (Google Data Manager diagnostics, newest first) |
 * | GET | /connections?client= | | `{ connections }` (status and settings, never secrets) |
 *
 * Errors are `{ error, details? }`: 400 invalid input, 401 `{ error: "Unauthorized" }`,
 * 404 unknown id or route, 409 duplicate stage key. Without an admin token every path is 404,
 * so an unconfigured collector does not even reveal that the API exists.
 */
export function createAdminRouter(deps: AdminRouterDeps): Router {
  const { store, adminToken, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const throttle = deps.throttle ?? createAuthThrottle({ maxFailures: 10 });
  const router = Router();

  router.use((req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    if (adminToken === undefined || adminToken === '') return sendError(res, 404, 'Not found');
    // The admin token is chosen by the operator and may be weak: a throttled address is not
    // even checked, so guessing stops at 10 tries per 10 minutes per address.
    const address = req.ip ?? 'unknown';
    const nowMs = now().getTime();
    const blockedFor = throttle.blockedFor(address, nowMs);
    if (blockedFor !== undefined) return sendError(res, 429, 'Rate limit exceeded', blockedFor);
    // Authenticate before parsing any body: nothing from an anonymous caller is read.
    if (!bearerMatches(req.get('authorization'), adminToken)) {
      throttle.fail(address, nowMs);
      // Logged once per window: when this failure is the one that blocks the address.
      if (throttle.blockedFor(address, nowMs) !== undefined) logger?.warn({ ip: address }, 'admin: failed tokens from this address, throttled');
      res.set('WWW-Authenticate', 'Bearer realm="pruuv-admin"');
      return sendError(res, 401, 'Unauthorized');
    }
    return next();
  });
  router.use(express.json({ limit: '16kb' }));

  router.get('/clients', async (_req, res) => {
    res.json({ clients: await store.clients.list() });
  });

  router.post('/clients', async (req, res) => {
    const client = await createClient(store, req.body ?? {});
    logger?.info({ client_id: client.id }, 'admin: client created');
    res.status(201).json({ client });
  });

  router.patch('/clients/:id', async (req, res) => {
    const client = await setClientSettings(store, req.params.id, req.body ?? {});
    logger?.info({ client_id: client.id }, 'admin: client settings changed');
    res.json({ client });
  });

  router.get('/clients/:id/stages', async (req, res) => {
    res.json({ stages: await listStages(store, req.params.id) });
  });

  router.post('/clients/:id/stages', async (req, res) => {
    const { stage, token } = await createStage(store, req.params.id, req.body ?? {});
    logger?.info({ client_id: stage.client_id, stage_id: stage.id }, 'admin: stage created');
    res.status(201).json({ stage, token, webhook_url: webhookUrl(baseUrlOf(req), stage.id) });
  });

  router.post('/stages/:id/rotate-token', async (req, res) => {
    const token = await rotateStageToken(store, req.params.id);
    logger?.info({ stage_id: req.params.id }, 'admin: webhook token rotated');
    res.json({ stage_id: req.params.id, token, webhook_url: webhookUrl(baseUrlOf(req), req.params.id) });
  });

  router.get('/events', async (req, res) => {
    const query = eventQuerySchema.safeParse(req.query);
    if (!query.success) {
      sendValidationFailed(res, validationDetails(query.error));
      return;
    }
    const filter: { client?: string; stage?: string; limit?: string } = {};
    if (query.data.client !== undefined) filter.client = query.data.client;
    if (query.data.stage !== undefined) filter.stage = query.data.stage;
    if (query.data.limit !== undefined) filter.limit = query.data.limit;
    const held = query.data.held === 'true';
    res.json({ events: await listEvents(store, { ...filter, held }) });
  });

  router.post('/events/release', async (req, res) => {
    const result = await releaseHeld(store, req.body ?? {}, now());
    logger?.info({ released: result.released.length }, 'admin: held events released');
    res.json(result);
  });

  router.get('/beacons', async (req, res) => {
    res.json(await beaconSummary(store, now(), typeof req.query['hours'] === 'string' ? req.query['hours'] : undefined));
  });

  const connections = createConnections(store);
  router.get('/sends', async (req, res) => {
    const query = sendQuerySchema.safeParse(req.query);
    if (!query.success) {
      sendValidationFailed(res, validationDetails(query.error));
      return;
    }
    res.json({ sends: await listSends(store, query.data) });
  });
  router.get('/google-status', async (req, res) => {
    const query = googleStatusQuerySchema.safeParse(req.query);
    if (!query.success) {
      sendValidationFailed(res, validationDetails(query.error));
      return;
    }
    res.json({ requests: await listGoogleStatus(store, query.data) });
  });
  router.get('/connections', async (req, res) => {
    const client = typeof req.query['client'] === 'string' && req.query['client'] !== '' ? req.query['client'] : undefined;
    res.json({ connections: await connections.list(client !== undefined ? { client_id: client } : {}) });
  });

  router.use((_req: Request, res: Response) => sendError(res, 404, 'Not found'));

  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof OperationError) {
      if (err.kind === 'invalid') return sendValidationFailed(res, err.details ?? { body: [err.message] });
      // Same wording as the webhook API's `{ error: "Stage not found" }` (webhook-api.md "Responses").
      const error = err.entity === 'client' ? 'Client not found' : err.entity === 'stage' ? 'Stage not found' : err.message;
      return sendError(res, STATUS[err.kind], error);
    }
    // The store's own validation, a backstop behind operations.ts.
    if (err instanceof InvalidInputError) return sendValidationFailed(res, { body: [err.message] });
    const unavailable = asStorageUnavailable(err);
    if (unavailable) return sendError(res, 503, 'Service unavailable', unavailable.retryAfterSeconds);
    // body-parser errors carry their HTTP status (400 bad JSON, 413 too large, 415 charset).
    const { status, type } = (err ?? {}) as { status?: unknown; type?: unknown };
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const error = type === 'entity.parse.failed' ? 'Invalid JSON' : type === 'entity.too.large' ? 'Payload too large' : 'Bad request';
      return sendError(res, status, error);
    }
    logger?.error({ err }, 'admin: internal error');
    return sendError(res, 500, 'Internal error');
  });

  return router;
}
