/**
 * Meta's rows of the retry table. Meta is classified by `error.code`, not the
 * HTTP status: codes 17 and 190 came back as HTTP 500 (platforms.md §1.7).
 * Sources: M-ERR, M-MKT, RS-FB in platforms.md §0.
 */
import type { RetryRule } from '../../retry-rules.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** In the order the README prints them. */
export const META_RETRY_RULES: readonly RetryRule[] = [
  { key: 'meta:1', platform: 'meta', verdict: 'retry', reason: 'transient', why: 'API Unknown: "Possibly a temporary issue due to downtime. Wait and retry" (M-ERR).' },
  { key: 'meta:2', platform: 'meta', verdict: 'retry', reason: 'transient', why: 'API Service: temporary downtime (M-ERR).' },
  { key: 'meta:4', platform: 'meta', verdict: 'retry', reason: 'rate_limited', minDelayMs: 15 * MINUTE_MS, why: 'App throttling: long backoff (M-ERR).' },
  { key: 'meta:17', platform: 'meta', verdict: 'retry', reason: 'rate_limited', minDelayMs: 15 * MINUTE_MS, why: 'User request limit reached: long backoff (M-ERR).' },
  { key: 'meta:341', platform: 'meta', verdict: 'retry', reason: 'rate_limited', minDelayMs: 15 * MINUTE_MS, why: 'Application limit reached (M-ERR).' },
  { key: 'meta:368', platform: 'meta', verdict: 'retry', reason: 'temporarily_blocked', minDelayMs: HOUR_MS, why: 'Temporarily blocked for policy violations: "Wait and retry", slowly (M-ERR).' },
  { key: 'meta:613', platform: 'meta', verdict: 'retry', reason: 'rate_limited', minDelayMs: 15 * MINUTE_MS, why: 'Rate limit exceeded (M-MKT).' },
  { key: 'meta:80004', platform: 'meta', verdict: 'retry', reason: 'rate_limited', minDelayMs: 15 * MINUTE_MS, why: 'Too many calls to this ad account (M-MKT).' },
  { key: 'meta:21009', platform: 'meta', verdict: 'retry', reason: 'transient', why: 'Data set upload temporarily not ready (RS-FB).' },
  { key: 'meta:events_received_short', platform: 'meta', verdict: 'retry', reason: 'events_received_short', why: 'HTTP 200 but events_received < events sent: which ones is unknown, so resend all; Meta deduplicates the rest (platforms.md §1.7).' },
  { key: 'meta:100/33', platform: 'meta', verdict: 'pause', reason: 'permission', why: 'Pixel does not exist or the token cannot reach it (RS-FB): fix the Pixel ID or token.' },
  { key: 'meta:100', platform: 'meta', verdict: 'split', reason: 'invalid_event', why: 'Invalid parameter: "If any event … is invalid, we reject the entire batch" (platforms.md §1.2).' },
  { key: 'meta:190', platform: 'meta', verdict: 'pause', reason: 'auth', why: 'Access token invalid or expired: re-authenticate (M-ERR).' },
  { key: 'meta:102', platform: 'meta', verdict: 'pause', reason: 'auth', why: 'Session invalid: re-authenticate (M-ERR).' },
  { key: 'meta:3', platform: 'meta', verdict: 'pause', reason: 'permission', why: 'Missing capability (M-ERR).' },
  { key: 'meta:10', platform: 'meta', verdict: 'pause', reason: 'permission', why: 'Permission denied (M-ERR).' },
  { key: 'meta:200-299', platform: 'meta', verdict: 'pause', reason: 'permission', why: 'Permission errors (M-ERR).' },
  { key: 'meta:transient', platform: 'meta', verdict: 'retry', reason: 'transient', why: 'Any other code with is_transient: true (RS-FB).' },
];
