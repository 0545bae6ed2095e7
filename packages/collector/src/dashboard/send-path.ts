/**
 * Which of a platform's paths an audit row went through, when its messages
 * tell: Microsoft's UET Conversions API labels every message of its path
 * (`CAPI_LABEL`), offline conversions accept with `ACCEPTED_MESSAGE`. The
 * audit log has no column for it; the messages are what the sender records.
 */
import { ACCEPTED_MESSAGE, CAPI_LABEL } from '@pruuv/sender/platforms';
import type { SendAttempt } from '../store/types.js';

/** `UET CAPI`, `offline`, or `undefined` when the row does not say (a skip, a network failure, another platform). */
export function sendPath(s: Pick<SendAttempt, 'platform' | 'message' | 'error_message'>): string | undefined {
  if (s.platform !== 'microsoft') return undefined;
  if ([s.message, s.error_message].some((m) => m?.startsWith(`${CAPI_LABEL}:`) === true)) return 'UET CAPI';
  if (s.message === ACCEPTED_MESSAGE) return 'offline';
  return undefined;
}
