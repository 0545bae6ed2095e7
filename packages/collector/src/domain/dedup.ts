/**
 * Deduplication of funnel events (webhook-api.md "Deduplication"): events with
 * the same reference at the same stage within 60 seconds are one event; only the
 * first is recorded, so a sender can retry safely on network errors.
 */

/** The dedup window. webhook-api.md: "within a 60-second window". */
export const DEDUP_WINDOW_MS = 60_000;

/**
 * The oldest receive time (ms) a stored event may have and still make a new one
 * a duplicate. The window is measured from the stored (first) event, not from the
 * last duplicate, which is never stored: 59 s later is a duplicate, 60 s later is new.
 */
export function dedupSinceMs(nowMs: number, windowMs: number = DEDUP_WINDOW_MS): number {
  return nowMs - windowMs + 1;
}
