/**
 * The pixel path's own limits, apart from the webhook's per-stage quota (which counts webhook
 * events only, so a flood of beacons can never lock a CRM out of its stage):
 *
 * - a token bucket per client address and site: `burst` beacons at once, then `perMinute`;
 * - a token bucket per site over every address: `sitePerHour` beacons at once, refilled at
 *   `sitePerHour` an hour, the ceiling a flood from many addresses meets.
 *
 * Past either, `/e` answers 429 with `Retry-After`; the pixel keeps the event in its outbox
 * (7 days, 50 events) and sends it again on the visitor's next page load of the site.
 *
 * Why the defaults (burst 60, 60 a minute, 10,000 an hour per site): the pixel sends no page
 * views, only `track()` calls (a lead form, a purchase: one to a few per visit), and on each
 * page load it resends its whole outbox at once, at most 50 events after a collector outage.
 * A burst of 60 takes a full outbox plus ten `track()` calls from one address; 60 a minute
 * (3,600 an hour) keeps an office or a carrier NAT with hundreds of the site's visitors behind
 * one address well under the limit. One forging address is held to 60 + 1 a second; many
 * addresses to the site's budget.
 *
 * In memory, per process: a restart starts every bucket full, and N collectors behind a load
 * balancer allow N times the limits (set the variables divided by N).
 */

/** Settings of {@link createTokenBuckets}. */
export interface TokenBucketOptions {
  /** Tokens a full bucket holds: the burst. */
  capacity: number;
  /** Tokens added per second, up to `capacity`. */
  refillPerSecond: number;
  /** Buckets kept at most; the least recently used are forgotten beyond (a forgotten bucket is full again). Defaults to `100_000`. */
  maxKeys?: number;
}

/** Token buckets by key. */
export interface TokenBuckets {
  /** Takes one token from `key`'s bucket: `undefined` when taken, else the seconds until one is there (at least 1). */
  take(key: string, nowMs: number): number | undefined;
}

/** In-memory token buckets (the bucket of RFC 2697's token bucket meter, one per key). */
export function createTokenBuckets(options: TokenBucketOptions): TokenBuckets {
  const { capacity, refillPerSecond } = options;
  const maxKeys = options.maxKeys ?? 100_000;
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  return {
    take(key, nowMs) {
      const bucket = buckets.get(key);
      const elapsed = bucket === undefined ? 0 : Math.max(0, nowMs - bucket.atMs) / 1000;
      const tokens = bucket === undefined ? capacity : Math.min(capacity, bucket.tokens + elapsed * refillPerSecond);
      buckets.delete(key); // re-inserted last: Map order is then least recently used first
      if (tokens >= 1) {
        buckets.set(key, { tokens: tokens - 1, atMs: nowMs });
        if (buckets.size > maxKeys) {
          const oldest = buckets.keys().next().value;
          if (oldest !== undefined) buckets.delete(oldest);
        }
        return undefined;
      }
      buckets.set(key, { tokens, atMs: nowMs });
      // At least 1: `Retry-After: 0` invites a hot loop.
      return Math.max(1, Math.ceil((1 - tokens) / refillPerSecond));
    },
  };
}

/** The pixel limits' settings (`PRUUV_PIXEL_BURST`, `PRUUV_PIXEL_PER_MINUTE`, `PRUUV_PIXEL_SITE_PER_HOUR`). */
export interface BeaconLimitSettings {
  /** Beacons one address may send a site at once. Defaults to `60`. */
  burst: number;
  /** Beacons per minute one address may send a site after its burst. Defaults to `60`. */
  perMinute: number;
  /** Beacons per hour a site takes over every address (also its burst). Defaults to `10_000`. */
  sitePerHour: number;
}

/** The defaults of {@link BeaconLimitSettings}. */
export const DEFAULT_BEACON_LIMITS: Readonly<BeaconLimitSettings> = { burst: 60, perMinute: 60, sitePerHour: 10_000 };

/** Which limit refused a beacon. */
export type ThrottleScope = 'address' | 'site';

/** The verdict of {@link BeaconLimits.take}. */
export type BeaconVerdict = { ok: true } | { ok: false; scope: ThrottleScope; retryAfterSeconds: number };

/** The pixel path's limits. */
export interface BeaconLimits {
  /** Counts one beacon of `clientId` from `address` against both limits. */
  take(address: string, clientId: string, nowMs: number): BeaconVerdict;
}

/**
 * The key of an address: IPv4 as it is; IPv6 by its /64 (one household or phone gets a whole
 * /64, RFC 6177, so a per-address limit on full IPv6 addresses would limit nothing);
 * IPv4-mapped IPv6 (`::ffff:192.0.2.1`, a dual-stack socket) as the IPv4 address.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.toLowerCase().split('%')[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Creates the pixel limits. */
export function createBeaconLimits(settings: BeaconLimitSettings = DEFAULT_BEACON_LIMITS): BeaconLimits {
  const perAddress = createTokenBuckets({ capacity: settings.burst, refillPerSecond: settings.perMinute / 60 });
  const perSite = createTokenBuckets({ capacity: settings.sitePerHour, refillPerSecond: settings.sitePerHour / 3600 });
  return {
    take(address, clientId, nowMs) {
      const byAddress = perAddress.take(`${addressKey(address)}\u0000${clientId}`, nowMs);
      if (byAddress !== undefined) return { ok: false, scope: 'address', retryAfterSeconds: byAddress };
      const bySite = perSite.take(clientId, nowMs);
      if (bySite !== undefined) return { ok: false, scope: 'site', retryAfterSeconds: bySite };
      return { ok: true };
    },
  };
}
