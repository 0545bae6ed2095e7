/**
 * Meta Conversions API (platforms.md §1): the definition the registry lists.
 */
import { directSender } from '../../exchange.js';
import type { PlatformAdapter } from '../adapter.js';
import { META_CONNECTION, type MetaConnection } from './connection.js';
import { checkMeta, META_MAX_EVENT_AGE_MS, type MetaPlan } from './eligibility.js';
import { buildMetaRequest, META_API_VERSION, META_BASE_URL, META_MAX_BATCH } from './request.js';
import { metaOAuth } from './oauth.js';
import { classifyMetaResponse } from './response.js';
import { META_RETRY_RULES } from './retry-rules.js';

/** Meta: one dataset (Pixel) per connection, clicks as `fbc`, a 48 h `event_id` dedup window. */
export const meta: PlatformAdapter<MetaConnection, MetaPlan, 'meta', 'meta'> = {
  id: 'meta',
  name: 'Meta',
  clickIds: ['fbclid'],
  cookieIds: ['fbc', 'fbp'],
  connection: META_CONNECTION,
  urls: { meta: META_BASE_URL },
  versions: { meta: META_API_VERSION },
  maxBatch: META_MAX_BATCH,
  // No validate-only mode, and test_event_code events are not dropped (platforms.md §1.2): a dry run never reaches Meta.
  dryRun: 'build-only',
  windowedDedup: true,
  retryRules: META_RETRY_RULES,
  check: checkMeta,
  retryDeadline: ({ eventTime }) => ({
    // Meta refuses events older than 7 days (platforms.md §1.3).
    at: eventTime.getTime() + META_MAX_EVENT_AGE_MS,
    reason: 'event_too_old',
    message: 'The next try would be more than 7 days after the conversion; Meta would reject it.',
  }),
  open: (connection, ctx) =>
    directSender<MetaPlan>(
      ctx,
      (plans) => buildMetaRequest(connection, plans, { baseUrl: ctx.urls.meta, version: ctx.versions.meta }),
      (res, plans) => classifyMetaResponse(res, plans.length, ctx.now()),
    ),
  // Connect with OAuth: Facebook Login for Business, then a dataset (oauth.md §3).
  oauth: metaOAuth,
};
