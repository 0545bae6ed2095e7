/**
 * `POST /api/webhooks/funnel/:stageId`, the funnel webhook (webhook-api.md).
 *
 * Checks, in order (each answer is the first that applies):
 *
 * | step | answer |
 * | --- | --- |
 * | address with 20 failed tries for this stage id (100 over all) in 10 min | 429 `{ error: "Rate limit exceeded" }` + `Retry-After` |
 * | unknown stage id | 404 `{ error: "Stage not found" }` |
 * | missing or wrong bearer token | 401 `{ error: "Unauthorized" }` |
 * | content type not `application/json` (UTF-8) | 415 `{ error: "Unsupported Media Type" }` |
 * | body over 64 KB | 413 `{ error: "Payload too large" }` |
 * | malformed JSON, invalid or unknown field | 400 `{ error: "Validation failed", details }` |
 * | same reference at this stage within 60 s | 200 `{ received: true, duplicate: true }` |
 * | 1,000 events stored for this stage in the last hour | 429 `{ error: "Rate limit exceeded" }` + `Retry-After` |
 * | database full or locked | 503 `{ error: "Service unavailable" }` + `Retry-After` |
 * | stored (committed before answering) | 200 `{ received: true, event_id }` |
 *
 * The dedup comes before the hourly quota so that a retry of an event already
 * stored is answered "done" rather than 429 (duplicates never count).
 */
import type { IRouter, NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { eventFromWebhook, withDataTimestamp } from '../domain/event-input.js';
import type { WebhookAuthThrottle } from '../domain/rate-limit.js';
import { validationDetails, webhookPayloadSchema } from '../domain/schemas.js';
import type { Stage, Store } from '../store/types.js';
import { parseJsonBody, rawBody, requireContentType, sendError, sendValidationFailed } from './http.js';

/** Dependencies of the webhook router. */
export interface WebhookDeps {
  store: Store;
  now: () => Date;
  logger: Logger;
  throttle: WebhookAuthThrottle;
}

/** `Authorization: Bearer <token>` → the token; the scheme is case-insensitive (RFC 9110 §11.1). */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer[ \t]+(\S{1,512})[ \t]*$/i.exec(header);
  return match?.[1];
}

/**
 * Adds the webhook route to `router`. The app passes itself rather than mounting a
 * router of its own: every request crosses each mounted router (bench/ingest.mjs).
 */
export function addWebhookRoutes(router: IRouter, deps: WebhookDeps): void {
  const { store, now, logger, throttle } = deps;

  const authenticate = async (req: Request<{ stageId: string }>, res: Response, next: NextFunction): Promise<void> => {
    const stageId = req.params.stageId;
    const stage = await store.stages.get(stageId);
    const token = bearerToken(req.get('authorization'));
    // The right token always passes: a stranger's wrong tokens from a shared address cannot lock a CRM out.
    // An unknown stage id takes the same path as a wrong token (a hash compared, the throttle, a log line),
    // so the answer time does not tell which stage ids exist (soak/token-timing.test.ts).
    const valid = token !== undefined && (await store.stages.verifyToken(stageId, token));
    if (stage && valid) {
      res.locals['stage'] = stage;
      next();
      return;
    }
    const address = req.ip ?? 'unknown';
    const nowMs = now().getTime();
    const blockedFor = throttle.blockedFor(address, stageId, nowMs);
    if (blockedFor !== undefined) {
      sendError(res, 429, 'Rate limit exceeded', blockedFor);
      return;
    }
    throttle.fail(address, stageId, nowMs);
    logger.info({ stage_id: stageId.slice(0, 64), ip: address }, stage ? 'webhook: unauthorized' : 'webhook: unknown stage');
    if (stage) sendError(res, 401, 'Unauthorized');
    else sendError(res, 404, 'Stage not found');
  };

  router.post(
    '/api/webhooks/funnel/:stageId',
    authenticate,
    requireContentType(['application/json']),
    rawBody,
    async (req: Request, res: Response) => {
      const stage = res.locals['stage'] as Stage;
      const body = parseJsonBody(req.body);
      if (!body.ok) {
        sendValidationFailed(res, body.details);
        return;
      }
      const parsed = webhookPayloadSchema.safeParse(body.value);
      if (!parsed.success) {
        sendValidationFailed(res, validationDetails(parsed.error));
        return;
      }
      const at = now();
      // The client's default country matters only for a phone without its own calling code: read it then only.
      const needsCountry = parsed.data.phone !== undefined && parsed.data.phone_country_code === undefined;
      const client = needsCountry ? await store.clients.get(stage.client_id) : undefined;
      const event = withDataTimestamp(await eventFromWebhook(parsed.data, stage, client), at);
      const admission = await store.events.admit(event, at);
      switch (admission.status) {
        case 'stored':
          logger.debug({ stage_id: stage.id, event_id: admission.event.id, inherited: admission.event.inherited }, 'webhook: stored');
          res.json({ received: true, event_id: admission.event.id });
          return;
        case 'duplicate':
        case 'duplicate_event_id':
          res.json({ received: true, duplicate: true });
          return;
        case 'rate_limited':
          logger.warn({ stage_id: stage.id }, 'webhook: stage over its hourly quota');
          sendError(res, 429, 'Rate limit exceeded', admission.retry_after_seconds);
          return;
      }
    },
  );
}
