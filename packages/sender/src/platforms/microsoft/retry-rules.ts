/**
 * Microsoft's rows of the retry table (microsoft-ads.md §4.3, §9). Request
 * faults carry a numeric `Code` in `Errors` (AdApiFaultDetail) or
 * `OperationErrors` (ApiFaultDetail); per-conversion errors come back with
 * HTTP 200 as `PartialErrors` by `Index`. A 109 (or a first 401) is answered
 * by one token refresh and resend in `sender.ts`; the rows below judge what
 * is left after it. Source: MS-ERR unless noted.
 */
import type { RetryRule } from '../../retry-rules.js';

const MINUTE_MS = 60_000;

/** In the order the README prints them. */
export const MICROSOFT_RETRY_RULES: readonly RetryRule[] = [
  { key: 'microsoft:0', platform: 'microsoft', verdict: 'retry', reason: 'server_error', why: 'InternalError: transient.' },
  { key: 'microsoft:5612', platform: 'microsoft', verdict: 'retry', reason: 'transient', why: 'OfflineConversionsApplyFailed: "failed to send … to internal server"; same payload again.' },
  { key: 'microsoft:117', platform: 'microsoft', verdict: 'retry', reason: 'rate_limited', minDelayMs: MINUTE_MS, why: 'CallRateExceeded: per-user per-minute limit over a 60 s sliding window (MS-PROTO).' },
  { key: 'microsoft:5615', platform: 'microsoft', verdict: 'retry', reason: 'goal_too_new', minDelayMs: 2 * 60 * MINUTE_MS, why: 'OfflineConversionNotAcceptedForGoal: the goal is younger than 2 hours.' },
  { key: 'microsoft:click_too_recent', platform: 'microsoft', verdict: 'retry', reason: 'click_too_recent', why: 'The click is less than an hour old: Microsoft asks to wait an hour (MS-HELP); not sent, due again when the hour is over.' },
  { key: 'microsoft:109', platform: 'microsoft', verdict: 'pause', reason: 'auth', why: 'AuthenticationTokenExpired even after the one refresh: reconnect.' },
  { key: 'microsoft:105', platform: 'microsoft', verdict: 'pause', reason: 'auth', why: 'InvalidCredentials after the one refresh: wrong token, developer token, environment, or cid and aid swapped (GH Advertising-docs#1051).' },
  { key: 'microsoft:106', platform: 'microsoft', verdict: 'pause', reason: 'permission', why: 'UserIsNotAuthorized: the user cannot reach this account (GH #190).' },
  { key: 'microsoft:3101', platform: 'microsoft', verdict: 'pause', reason: 'auth', why: 'OAuthTokenInvalid: the grant is not msads.manage (GH #219); reconnect.' },
  { key: 'microsoft:invalid_grant', platform: 'microsoft', verdict: 'pause', reason: 'auth', why: 'The refresh token was revoked or expired (MS-OAUTH): reconnect.' },
  { key: 'microsoft:1102', platform: 'microsoft', verdict: 'pause', reason: 'account', why: 'CampaignServiceInvalidAccountId: fix the account id.' },
  { key: 'microsoft:1490', platform: 'microsoft', verdict: 'pause', reason: 'account', why: 'CampaignServiceInvalidCustomerId: fix the customer id.' },
  { key: 'microsoft:5613', platform: 'microsoft', verdict: 'pause', reason: 'permission', why: 'OfflineConversionPilotNotEnabledForCustomer: the feature is off for this customer.' },
  { key: 'microsoft:goal_not_found', platform: 'microsoft', verdict: 'pause', reason: 'goal_not_found', why: 'The goal check before sending found no active offline goal of that exact name (microsoft-ads.md §7.3): pick the goal again.' },
  { key: 'microsoft:goal_paused', platform: 'microsoft', verdict: 'pause', reason: 'goal_paused', why: 'The goal is not active: Microsoft would take the conversions and never count them (microsoft-ads.md §7.3).' },
  { key: 'microsoft:5606', platform: 'microsoft', verdict: 'fail', reason: 'goal_not_found', why: 'OfflineConversionNameInvalid: no offline goal of that name; check the goal (microsoft-ads.md §7.3).' },
  { key: 'microsoft:5603-5617', platform: 'microsoft', verdict: 'fail', reason: 'invalid_event', why: 'Click, name, time, value or currency refused (5603–5611, 5613, 5614, 5616, 5617): data, never retried.' },
  { key: 'microsoft:request', platform: 'microsoft', verdict: 'fail', reason: 'invalid_request', why: '5600/5601 (empty or > 1,000), 1029/1030 (missing header) and any other request fault: a bug, never retried.' },
  { key: 'microsoft:item', platform: 'microsoft', verdict: 'fail', reason: 'invalid_event', why: 'Any other per-conversion error (e.g. ConversionEmailAddressIsNotHashed).' },
];

/** The per-conversion codes of the `5603-5617` row. */
export const MICROSOFT_DATA_CODES: ReadonlySet<number> = new Set([5603, 5604, 5605, 5607, 5608, 5609, 5610, 5611, 5614, 5616, 5617]);
