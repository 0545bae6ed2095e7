/**
 * The UET Conversions API's rows of the retry table (microsoft-ads.md §8, §9).
 * A 429, a 5xx and a request with no answer go by the shared rows (backoff,
 * `Retry-After` honoured), the resend carrying the same `eventId`. Rate
 * limits and token lifetime are not documented (UNCONFIRMED, §11.8). Source:
 * MS-CAPI unless noted.
 */
import type { RetryRule } from '../../retry-rules.js';

/** In the order the README prints them. */
export const MICROSOFT_CAPI_RETRY_RULES: readonly RetryRule[] = [
  {
    key: 'microsoft:capi-not-named', platform: 'microsoft', verdict: 'retry', reason: 'not_named',
    why: 'UET CAPI 400 with continueOnValidationError: no event was stored and only the first 10 errors are shown; an event not named goes again.',
  },
  { key: 'microsoft:capi-401', platform: 'microsoft', verdict: 'pause', reason: 'auth', why: 'UET CAPI Unauthorized: the tag\'s API token is wrong, revoked or for another tag; paste a new token or fetch it again.' },
  {
    key: 'microsoft:capi-403', platform: 'microsoft', verdict: 'pause', reason: 'permission',
    why: 'UET CAPI Forbidden (status UNCONFIRMED): the feature may be off for the account ("Not everyone has this feature yet", MS-HELP).',
  },
  { key: 'microsoft:capi-validation', platform: 'microsoft', verdict: 'fail', reason: 'invalid_event', why: 'UET CAPI ValidationError with isWarning false: the event\'s data, never retried.' },
  { key: 'microsoft:capi-request', platform: 'microsoft', verdict: 'fail', reason: 'invalid_request', why: 'UET CAPI 400 naming no event, or another 4xx: a bug, never retried.' },
];
