/**
 * A client-side token bucket, so the sender stays under Data Manager's
 * 300 ingest requests per minute per Cloud project
 * (google-data-manager.md §7) instead of learning it from 429s.
 */

/** Hands out request slots. */
export interface TokenBucket {
  /**
   * Reserves one request slot and returns how long to wait before using it,
   * in ms (`0`: go now). Reservations queue: the 301st caller in a minute waits
   * for the first refill.
   */
  take(): number;
}

/** Options of {@link createTokenBucket}. */
export interface TokenBucketOptions {
  /** Burst size and requests per interval. Defaults to `300`. */
  capacity?: number;
  /** Interval in ms over which `capacity` tokens refill. Defaults to `60_000`. */
  intervalMs?: number;
  /** Defaults to `() => new Date()`. */
  now?: () => Date;
}

/**
 * A bucket that starts full and refills continuously (300/min = one token
 * every 200 ms). Share one per Google Cloud project (per OAuth client).
 */
export function createTokenBucket(options: TokenBucketOptions = {}): TokenBucket {
  const capacity = options.capacity ?? 300;
  const intervalMs = options.intervalMs ?? 60_000;
  const now = options.now ?? (() => new Date());
  const perMs = capacity / intervalMs;
  let tokens = capacity;
  let last = now().getTime();
  return {
    take() {
      const t = now().getTime();
      tokens = Math.min(capacity, tokens + Math.max(0, t - last) * perMs);
      last = t;
      tokens -= 1;
      // Negative tokens are reservations already handed out.
      return tokens >= 0 ? 0 : Math.ceil(-tokens / perMs);
    },
  };
}
