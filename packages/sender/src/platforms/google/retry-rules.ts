/**
 * Google's rows of the retry table, for the Ads API and Data Manager alike:
 * ConversionUploadError / QuotaError / InternalError names first, then the
 * `google.rpc` canonical status (platforms.md §3.5, google-data-manager.md §6).
 * Sources: G-PROTO, G-ERR, DM-ERR in platforms.md §0.
 */
import type { RetryRule } from '../../retry-rules.js';

const HOUR_MS = 3_600_000;

/** In the order the README prints them. */
export const GOOGLE_RETRY_RULES: readonly RetryRule[] = [
  { key: 'google:ORDER_ID_ALREADY_IN_USE', platform: 'google', verdict: 'delivered', reason: 'already_delivered', why: 'An earlier upload with this orderId (the event id) was counted (platforms.md §3.5).' },
  { key: 'google:CLICK_CONVERSION_ALREADY_EXISTS', platform: 'google', verdict: 'delivered', reason: 'already_delivered', why: 'This click + time was already uploaded (platforms.md §3.5).' },
  { key: 'google:TOO_RECENT_EVENT', platform: 'google', verdict: 'retry', reason: 'too_recent', minDelayMs: 6 * HOUR_MS, why: 'Click < 6 h old: "Retry after 6 hours" (G-PROTO).' },
  { key: 'google:TOO_RECENT_CONVERSION_ACTION', platform: 'google', verdict: 'retry', reason: 'too_recent', minDelayMs: 6 * HOUR_MS, why: 'Conversion action created < 6 h ago (G-PROTO).' },
  { key: 'google:TOO_MANY_CONVERSIONS_IN_REQUEST', platform: 'google', verdict: 'split', reason: 'batch_too_large', why: 'More than 2,000 rows: split and resend (platforms.md §3.5).' },
  { key: 'google:CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE', platform: 'google', verdict: 'pause', reason: 'not_allowlisted', why: 'Ads API closed to new offline-conversion integrations: permanent; switch the connection to Data Manager (google-data-manager.md §1).' },
  { key: 'google:IngestionMutateRequestsPerDayPerProject', platform: 'google', verdict: 'retry', reason: 'quota_daily', minDelayMs: HOUR_MS, why: 'Daily Data Manager quota spent: wait for the reset (time UNCONFIRMED, so try hourly) (google-data-manager.md §6).' },
  { key: 'google:RESOURCE_EXHAUSTED', platform: 'google', verdict: 'retry', reason: 'rate_limited', why: 'Quota: back off; retryDelay honoured (platforms.md §3.5, google-data-manager.md §6).' },
  { key: 'google:RESOURCE_TEMPORARILY_EXHAUSTED', platform: 'google', verdict: 'retry', reason: 'rate_limited', why: 'Quota (platforms.md §3.5).' },
  { key: 'google:TRANSIENT_ERROR', platform: 'google', verdict: 'retry', reason: 'transient', why: 'InternalError: "The user should retry" (G-PROTO).' },
  { key: 'google:INTERNAL_ERROR', platform: 'google', verdict: 'retry', reason: 'server_error', why: 'InternalError (G-PROTO).' },
  { key: 'google:INTERNAL', platform: 'google', verdict: 'retry', reason: 'server_error', why: 'HTTP 500 (G-ERR, DM-ERR).' },
  { key: 'google:UNKNOWN', platform: 'google', verdict: 'retry', reason: 'server_error', why: 'HTTP 500 (G-ERR).' },
  { key: 'google:UNAVAILABLE', platform: 'google', verdict: 'retry', reason: 'server_error', why: 'HTTP 503; Google\'s own clients retry it (google-data-manager.md §2).' },
  { key: 'google:DEADLINE_EXCEEDED', platform: 'google', verdict: 'retry', reason: 'timeout', why: 'HTTP 504; Google\'s own clients retry it.' },
  { key: 'google:ABORTED', platform: 'google', verdict: 'retry', reason: 'transient', why: 'HTTP 409 concurrency conflict (DM-ERR).' },
  { key: 'google:UNAUTHENTICATED', platform: 'google', verdict: 'pause', reason: 'auth', why: 'Token rejected even after one refresh: reconnect the account.' },
  { key: 'google:invalid_grant', platform: 'google', verdict: 'pause', reason: 'auth', why: 'Refresh token revoked or expired (platforms.md §3.7).' },
  { key: 'google:PERMISSION_DENIED', platform: 'google', verdict: 'pause', reason: 'permission', why: 'The credential cannot reach this account or action (DM-ERR).' },
  { key: 'google:authenticationError', platform: 'google', verdict: 'pause', reason: 'auth', why: 'AuthenticationError family (platforms.md §3.5).' },
  { key: 'google:authorizationError', platform: 'google', verdict: 'pause', reason: 'permission', why: 'AuthorizationError family (platforms.md §3.5).' },
  { key: 'google:INVALID_ARGUMENT', platform: 'google', verdict: 'split', reason: 'invalid_event', why: 'Data Manager fails the whole request for one bad event (google-data-manager.md §6): quarantine it.' },
  { key: 'google:other', platform: 'google', verdict: 'fail', reason: 'invalid_request', why: 'Any other error code (CLICK_NOT_FOUND, EXPIRED_EVENT, NOT_FOUND…): "Don\'t retry without addressing the issue" (DM-ERR).' },
];
