/**
 * Rate limits of the collector:
 *
 * - the per-stage quota of webhook-api.md ("a maximum of 1,000 events per hour
 *   per funnel stage"), a sliding hour counted from the stored events themselves,
 *   so it is exact across restarts and across processes sharing the database
 *   (counted only when an upper bound kept per stage reaches the quota: `store/events.ts`);
 * - an in-memory throttle of failed webhook authentications per client address,
 *   which makes guessing tokens online pointless (a restart resets it; tokens
 *   have 238 bits, the throttle only keeps logs and CPU quiet).
 */

/** Accepted events per stage per sliding hour. webhook-api.md "Rate limits". */
export const STAGE_EVENTS_PER_HOUR = 1000;

/** The stage quota's window. */
export const STAGE_WINDOW_MS = 3_600_000;

/**
 * Seconds until the stage quota has a free slot again, given the receive time of
 * the event whose leaving the window frees it. At least 1: `Retry-After: 0` invites a hot loop.
 */
export function retryAfterSeconds(freeingEventMs: number, nowMs: number, windowMs: number = STAGE_WINDOW_MS): number {
  return Math.max(1, Math.ceil((freeingEventMs + windowMs - nowMs) / 1000));
}

/** Settings of {@link createAuthThrottle}. */
export interface AuthThrottleOptions {
  /** Failures from one address that trigger the throttle. Defaults to `20`. */
  maxFailures?: number;
  /** Window the failures are counted in. Defaults to `600_000` ms (10 minutes). */
  windowMs?: number;
  /** Addresses tracked at most; the oldest are forgotten beyond. Defaults to `10_000`. */
  maxAddresses?: number;
}

/** Counts failed authentications per key (an address, or an address and what it tried). */
export interface AuthThrottle {
  /** Seconds the key must wait when it has used up its failures in the window, `undefined` when it may try. */
  blockedFor(key: string, nowMs: number): number | undefined;
  /** Records a failed authentication. */
  fail(key: string, nowMs: number): void;
}

/** An in-memory sliding-window throttle of failed authentications. */
export function createAuthThrottle(options: AuthThrottleOptions = {}): AuthThrottle {
  const maxFailures = options.maxFailures ?? 20;
  const windowMs = options.windowMs ?? 600_000;
  const maxAddresses = options.maxAddresses ?? 10_000;
  // Failure times per address, oldest first, at most maxFailures kept.
  const failures = new Map<string, number[]>();

  const recent = (address: string, nowMs: number): number[] => {
    const times = (failures.get(address) ?? []).filter((t) => nowMs - t < windowMs);
    if (times.length === 0) failures.delete(address);
    else failures.set(address, times);
    return times;
  };

  return {
    blockedFor(address, nowMs) {
      const times = recent(address, nowMs);
      if (times.length < maxFailures) return undefined;
      // Blocked until the oldest counted failure leaves the window.
      return retryAfterSeconds(times[0]!, nowMs, windowMs);
    },
    fail(address, nowMs) {
      const times = recent(address, nowMs);
      times.push(nowMs);
      if (times.length > maxFailures) times.shift();
      failures.delete(address); // re-insert: Map order is then least recently failed first
      failures.set(address, times);
      if (failures.size > maxAddresses) {
        const oldest = failures.keys().next().value;
        if (oldest !== undefined) failures.delete(oldest);
      }
    },
  };
}

/**
 * The webhook's guard against token guessing. A request with the right token
 * for its stage always passes (the token is checked first, in constant time),
 * so a stranger sharing a CRM's egress address cannot lock the CRM out. Wrong
 * tokens are counted per address and stage (20 in 10 minutes by default) and
 * per address over every stage (100 in 10 minutes); past either, wrong tokens
 * get 429 instead of 401. Tokens are 250 random bits: the throttle slows
 * guessing that cannot succeed anyway, and keeps it out of the logs' way.
 */
export interface WebhookAuthThrottle {
  /** Seconds to wait before another wrong token from `address` for `stageId` is even checked, or `undefined`. */
  blockedFor(address: string, stageId: string, nowMs: number): number | undefined;
  fail(address: string, stageId: string, nowMs: number): void;
}

/** Settings of {@link createWebhookAuthThrottle}. */
export interface WebhookAuthThrottleOptions {
  /** Wrong tokens per address and stage. Defaults to `20`. */
  perStage?: number;
  /** Wrong tokens per address over every stage. Defaults to `100`. */
  perAddress?: number;
  /** Defaults to `600_000` ms (10 minutes). */
  windowMs?: number;
}

export function createWebhookAuthThrottle(options: WebhookAuthThrottleOptions = {}): WebhookAuthThrottle {
  const windowMs = options.windowMs ?? 600_000;
  const perStage = createAuthThrottle({ maxFailures: options.perStage ?? 20, windowMs });
  const perAddress = createAuthThrottle({ maxFailures: options.perAddress ?? 100, windowMs });
  const key = (address: string, stageId: string): string => `${address}\u0000${stageId}`;
  return {
    blockedFor(address, stageId, nowMs) {
      const a = perStage.blockedFor(key(address, stageId), nowMs);
      const b = perAddress.blockedFor(address, nowMs);
      return a === undefined ? b : b === undefined ? a : Math.max(a, b);
    },
    fail(address, stageId, nowMs) {
      perStage.fail(key(address, stageId), nowMs);
      perAddress.fail(address, nowMs);
    },
  };
}
