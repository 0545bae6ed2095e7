/**
 * Microsoft Advertising offline conversions (microsoft-ads.md): the definition
 * the registry lists. ApplyOfflineConversions over REST, matched by msclkid;
 * no dedup field, so every field is a pure function of the stored event and
 * of the connection's fields frozen at the first attempt (`request.ts`,
 * `frozen.ts`), and a retry is byte-identical. A connection whose `api` is
 * `uet-capi` takes the UET Conversions API instead (`capi-*.ts`, §8): the
 * path is the connection's, decided here, one per connection.
 */
import type { PlatformAdapter } from '../adapter.js';
import { checkMicrosoftCapi } from './capi-eligibility.js';
import { MICROSOFT_CAPI_URL, type MicrosoftCapiPlan } from './capi-request.js';
import { MICROSOFT_CAPI_RETRY_RULES } from './capi-retry-rules.js';
import { openMicrosoftCapi } from './capi-sender.js';
import { unmatchedClickId } from './click-id.js';
import { MICROSOFT_CONNECTION, usesUetCapi, type MicrosoftConnection } from './connection.js';
import { checkMicrosoft, MICROSOFT_MAX_AGE_MS, type MicrosoftPlan } from './eligibility.js';
import {
  MICROSOFT_API_VERSION,
  MICROSOFT_CAMPAIGN_SANDBOX_URL,
  MICROSOFT_CAMPAIGN_URL,
  MICROSOFT_CUSTOMER_SANDBOX_URL,
  MICROSOFT_CUSTOMER_URL,
  MICROSOFT_MAX_BATCH,
  MICROSOFT_TOKEN_URL,
} from './request.js';
import { MICROSOFT_FROZEN } from './frozen.js';
import { microsoftOAuth } from './oauth.js';
import { ACCEPTED_MESSAGE } from './response.js';
import { MICROSOFT_RETRY_RULES } from './retry-rules.js';
import { openMicrosoft, type MicrosoftUrl, type MicrosoftVersion } from './sender.js';

/** A Microsoft send on either path: offline conversions, or the UET Conversions API (`api: 'uet-capi'`). */
export type MicrosoftAnyPlan = MicrosoftPlan | MicrosoftCapiPlan;

/** Microsoft: one customer, account and offline goal per connection, clicks as msclkid, no dedup field; or one UET tag. */
export const microsoft: PlatformAdapter<MicrosoftConnection, MicrosoftAnyPlan, MicrosoftUrl, MicrosoftVersion> = {
  id: 'microsoft',
  name: 'Microsoft',
  clickIds: ['msclkid'],
  cookieIds: [],
  connection: MICROSOFT_CONNECTION,
  urls: {
    microsoftCampaign: MICROSOFT_CAMPAIGN_URL,
    microsoftCampaignSandbox: MICROSOFT_CAMPAIGN_SANDBOX_URL,
    microsoftCustomer: MICROSOFT_CUSTOMER_URL,
    microsoftCustomerSandbox: MICROSOFT_CUSTOMER_SANDBOX_URL,
    microsoftToken: MICROSOFT_TOKEN_URL,
    microsoftCapi: MICROSOFT_CAPI_URL,
  },
  versions: { microsoft: MICROSOFT_API_VERSION },
  maxBatch: MICROSOFT_MAX_BATCH,
  // ApplyOfflineConversions has no validate-only mode: a dry run is built here and not sent.
  dryRun: 'build-only',
  // Duplicates (same click, goal, time, hashes) are ignored with no stated window (microsoft-ads.md §5).
  windowedDedup: false,
  retryRules: [...MICROSOFT_RETRY_RULES, ...MICROSOFT_CAPI_RETRY_RULES],
  // Every conversion Microsoft's offline API takes is only "accepted" (microsoft-ads.md §4.4).
  sentMessage: ACCEPTED_MESSAGE,
  check: (event, connection, overrides, now) =>
    connection !== undefined && usesUetCapi(connection) ? checkMicrosoftCapi(event, connection, now) : checkMicrosoft(event, connection, overrides, now),
  retryDeadline: ({ eventTime, clickTime }) => ({
    // ConversionTime within 90 days of now, and of the click (MS-OC, MS-HELP).
    at: Math.min(eventTime.getTime(), clickTime?.getTime() ?? Number.POSITIVE_INFINITY) + MICROSOFT_MAX_AGE_MS,
    reason: 'click_window_passed',
    message: 'The next try would be more than 90 days after the Microsoft click or the conversion; Microsoft would not import it.',
  }),
  // The 7 days of the UET path are checked by its eligibility on every attempt (capi-eligibility.ts):
  // the deadline above sees no connection.
  open: (connection, ctx) => (usesUetCapi(connection) ? openMicrosoftCapi(connection, ctx) : openMicrosoft(connection, ctx)),
  // No validate-only mode and no test code: a test conversion goes with a click that belongs to no click.
  testClickId: unmatchedClickId,
  // Offline conversions only: the UET path's dedup key is the event id, nothing else to freeze.
  frozenFields: MICROSOFT_FROZEN,
  oauth: microsoftOAuth,
};
