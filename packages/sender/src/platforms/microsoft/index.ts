/**
 * Microsoft Advertising offline conversions (microsoft-ads.md): the definition
 * the registry lists. ApplyOfflineConversions over REST, matched by msclkid;
 * no dedup field, so every field is a pure function of the stored event and
 * of the connection's fields frozen at the first attempt (`request.ts`,
 * `frozen.ts`), and a retry is byte-identical.
 */
import type { PlatformAdapter } from '../adapter.js';
import { unmatchedClickId } from './click-id.js';
import { MICROSOFT_CONNECTION, type MicrosoftConnection } from './connection.js';
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

/** Microsoft: one customer, account and offline goal per connection, clicks as msclkid, no dedup field. */
export const microsoft: PlatformAdapter<MicrosoftConnection, MicrosoftPlan, MicrosoftUrl, MicrosoftVersion> = {
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
  },
  versions: { microsoft: MICROSOFT_API_VERSION },
  maxBatch: MICROSOFT_MAX_BATCH,
  // ApplyOfflineConversions has no validate-only mode: a dry run is built here and not sent.
  dryRun: 'build-only',
  // Duplicates (same click, goal, time, hashes) are ignored with no stated window (microsoft-ads.md §5).
  windowedDedup: false,
  retryRules: MICROSOFT_RETRY_RULES,
  // Every conversion Microsoft takes is only "accepted" (microsoft-ads.md §4.4).
  sentMessage: ACCEPTED_MESSAGE,
  check: checkMicrosoft,
  retryDeadline: ({ eventTime, clickTime }) => ({
    // ConversionTime within 90 days of now, and of the click (MS-OC, MS-HELP).
    at: Math.min(eventTime.getTime(), clickTime?.getTime() ?? Number.POSITIVE_INFINITY) + MICROSOFT_MAX_AGE_MS,
    reason: 'click_window_passed',
    message: 'The next try would be more than 90 days after the Microsoft click or the conversion; Microsoft would not import it.',
  }),
  open: openMicrosoft,
  // No validate-only mode and no test code: a test conversion goes with a click that belongs to no click.
  testClickId: unmatchedClickId,
  frozenFields: MICROSOFT_FROZEN,
  oauth: microsoftOAuth,
};
