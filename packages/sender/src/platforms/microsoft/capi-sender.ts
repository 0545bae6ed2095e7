/**
 * Sending through the UET Conversions API (microsoft-ads.md §8): the tag's
 * bearer token travels in the request, so there is no token refresh and no
 * goal check; a 401 pauses the connection until a person gives a new token.
 */
import { exchange } from '../../exchange.js';
import type { PlatformSender, SendContext } from '../adapter.js';
import type { MicrosoftConnection } from './connection.js';
import { buildCapiRequest, type MicrosoftCapiPlan } from './capi-request.js';
import { classifyCapiResponse } from './capi-response.js';
import type { MicrosoftUrl, MicrosoftVersion } from './sender.js';

/** Opens one `sendBatch` call on a connection whose `api` is `uet-capi`. */
export function openMicrosoftCapi(conn: MicrosoftConnection, ctx: SendContext<MicrosoftUrl, MicrosoftVersion>): PlatformSender<MicrosoftCapiPlan> {
  const base = ctx.urls.microsoftCapi;
  return {
    send: (plans) => exchange(ctx, buildCapiRequest(conn, plans, base), (res) => classifyCapiResponse(res, plans.length, ctx.now())),
    // A build-only dry run: the tag's token is not shown.
    preview: (plans) => {
      const req = buildCapiRequest(conn, plans, base);
      return { ...req, headers: { ...req.headers, authorization: 'Bearer [redacted]' } };
    },
  };
}
