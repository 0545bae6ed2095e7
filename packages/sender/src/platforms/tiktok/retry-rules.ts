/**
 * TikTok's rows of the retry table. Errors arrive as HTTP 200 with
 * `code != 0` (platforms.md §4.3). Source: RS-TT in platforms.md §0.
 */
import type { RetryRule } from '../../retry-rules.js';

/** In the order the README prints them. */
export const TIKTOK_RETRY_RULES: readonly RetryRule[] = [
  { key: 'tiktok:40001', platform: 'tiktok', verdict: 'pause', reason: 'permission', why: 'No permission to operate this pixel: fix the token (RS-TT).' },
  { key: 'tiktok:40102', platform: 'tiktok', verdict: 'pause', reason: 'auth', why: 'Access token expired (oauth.md §4.4, UNCONFIRMED): reconnect.' },
  { key: 'tiktok:40104', platform: 'tiktok', verdict: 'pause', reason: 'auth', why: 'Access token expired (oauth.md §4.4, UNCONFIRMED): reconnect.' },
  { key: 'tiktok:40105', platform: 'tiktok', verdict: 'pause', reason: 'auth', why: '"access token is missing or incorrect" (oauth.md §4.4): revoked or wrong, reconnect.' },
  { key: 'tiktok:40002', platform: 'tiktok', verdict: 'split', reason: 'invalid_event', why: 'Invalid parameter rejects the whole request (platforms.md §4.3).' },
  { key: 'tiktok:40100', platform: 'tiktok', verdict: 'retry', reason: 'rate_limited', why: '"Too many requests. Please retry in some time." (RS-TT).' },
  { key: 'tiktok:40700', platform: 'tiktok', verdict: 'retry', reason: 'transient', why: 'Retried as a 500 by RudderStack (RS-TT).' },
  { key: 'tiktok:5xxxx', platform: 'tiktok', verdict: 'retry', reason: 'server_error', why: 'TikTok system errors.' },
  { key: 'tiktok:other', platform: 'tiktok', verdict: 'fail', reason: 'invalid_request', why: 'Any other non-zero code.' },
];
