/**
 * Google (platforms.md §3, google-data-manager.md): the definition the
 * registry lists. Two APIs behind one connection: Data Manager
 * `events:ingest` (the default) and the Ads API `uploadClickConversions`;
 * the Data Manager diagnostics (`data-manager-status.ts`) read what became of
 * a batch afterwards.
 */
import { GOOGLE_TOKEN_URL } from '../../oauth.js';
import type { PlatformAdapter } from '../adapter.js';
import { GOOGLE_ADS_API_VERSION, GOOGLE_ADS_BASE_URL, GOOGLE_MAX_BATCH } from './ads.js';
import { GOOGLE_CONNECTION, type GoogleConnection } from './connection.js';
import { DATA_MANAGER_API_VERSION, DATA_MANAGER_BASE_URL, DATA_MANAGER_MAX_BATCH } from './data-manager.js';
import { checkGoogle, conversionActionOf, GOOGLE_CLICK_IDS, GOOGLE_MAX_CLICK_AGE_MS, type GooglePlan } from './eligibility.js';
import { GOOGLE_DELIVERY_CHECKS } from './diagnostics.js';
import { googleOAuth } from './oauth.js';
import { GOOGLE_RETRY_RULES } from './retry-rules.js';
import { DATA_MANAGER_RATE_LIMIT, openGoogle, type GoogleUrl, type GoogleVersion } from './sender.js';

/** Google: one customer and conversion action per connection, clicks as gclid, wbraid or gbraid, `orderId`/`transactionId` dedup. */
export const google: PlatformAdapter<GoogleConnection, GooglePlan, GoogleUrl, GoogleVersion> = {
  id: 'google',
  name: 'Google',
  clickIds: GOOGLE_CLICK_IDS,
  cookieIds: [],
  connection: GOOGLE_CONNECTION,
  urls: { googleAds: GOOGLE_ADS_BASE_URL, dataManager: DATA_MANAGER_BASE_URL, oauthToken: GOOGLE_TOKEN_URL },
  versions: { googleAds: GOOGLE_ADS_API_VERSION, dataManager: DATA_MANAGER_API_VERSION },
  // Both APIs take 2,000 (platforms.md §3.2, google-data-manager.md §3).
  maxBatch: Math.min(GOOGLE_MAX_BATCH, DATA_MANAGER_MAX_BATCH),
  rateLimits: { dataManager: DATA_MANAGER_RATE_LIMIT },
  // Both APIs take `validateOnly`: Google checks the request and stores nothing.
  dryRun: 'validate-only',
  // orderId deduplicates with no stated window (platforms.md §3.2, google-data-manager.md §6).
  windowedDedup: false,
  retryRules: GOOGLE_RETRY_RULES,
  check: checkGoogle,
  // One conversion action per batch: Data Manager takes one destination per request.
  batchKey: conversionActionOf,
  retryDeadline: ({ eventTime, clickTime }) => ({
    // The limit is the 90-day click window (platforms.md §3.6).
    at: (clickTime ?? eventTime).getTime() + GOOGLE_MAX_CLICK_AGE_MS,
    reason: 'click_window_passed',
    message: 'The next try would be more than 90 days after the click; Google would reject it.',
  }),
  open: openGoogle,
  // Data Manager answers 200 before it matches a click: what became of each batch is read later.
  deliveryChecks: GOOGLE_DELIVERY_CHECKS,
  // Connect with OAuth: PKCE, Ads accounts under managers, conversion actions (oauth.md §2).
  oauth: googleOAuth,
};
