/**
 * TikTok Events API 2.0 (platforms.md §4): the definition the registry lists.
 */
import { directSender } from '../../exchange.js';
import type { PlatformAdapter } from '../adapter.js';
import { TIKTOK_CONNECTION, type TikTokConnection } from './connection.js';
import { checkTikTok, type TikTokPlan } from './eligibility.js';
import { buildTikTokRequest, TIKTOK_API_VERSION, TIKTOK_BASE_URL, TIKTOK_MAX_BATCH } from './request.js';
import { tiktokOAuth } from './oauth.js';
import { classifyTikTokResponse } from './response.js';
import { TIKTOK_RETRY_RULES } from './retry-rules.js';

/** TikTok: one Pixel Code per connection, clicks as `ttclid`, a 48 h `event_id` dedup window. */
export const tiktok: PlatformAdapter<TikTokConnection, TikTokPlan, 'tiktok', 'tiktok'> = {
  id: 'tiktok',
  name: 'TikTok',
  clickIds: ['ttclid'],
  cookieIds: ['ttp'],
  connection: TIKTOK_CONNECTION,
  urls: { tiktok: TIKTOK_BASE_URL },
  versions: { tiktok: TIKTOK_API_VERSION },
  maxBatch: TIKTOK_MAX_BATCH,
  // The Events API has no validate-only mode (platforms.md §4.2 lists none): a dry run is built here and not sent.
  dryRun: 'build-only',
  windowedDedup: true,
  retryRules: TIKTOK_RETRY_RULES,
  check: checkTikTok,
  open: (connection, ctx) =>
    directSender<TikTokPlan>(
      ctx,
      (plans) => buildTikTokRequest(connection, plans, { baseUrl: ctx.urls.tiktok, version: ctx.versions.tiktok }),
      (res) => classifyTikTokResponse(res, ctx.now()),
    ),
  // Connect with OAuth: advertiser authorization, then an advertiser and its pixel (oauth.md §4).
  oauth: tiktokOAuth,
};
