/**
 * Objects that the requests of many `sendBatch` calls must share: one OAuth
 * token cache (a token is refreshed once, not once per batch) and one request
 * budget per rate-limited API (platforms.md §3.7, google-data-manager.md §7).
 * A send pass keeps one {@link Shared} for all its batches; a lone `sendBatch`
 * call gets its own. Either way the caller may pass them in through the
 * `sendBatch` option of the same name, and an adapter creates the missing ones
 * on first use.
 */
import type { TokenCache } from './oauth.js';
import type { TokenBucket } from './rate-limit.js';

/** The shareable objects, by the name of the `sendBatch` option that passes them in. */
export interface SharedServices {
  /** OAuth access tokens (Google). */
  tokenCache: TokenCache;
  /** Data Manager request slots: one budget per Google Cloud project. */
  dataManagerLimiter: TokenBucket;
}

/** One pass's (or one call's) shared objects. */
export interface Shared {
  /** The object under `key`: the one given or made earlier, else `create()`'s, kept for the next caller. */
  get<K extends keyof SharedServices>(key: K, create: () => SharedServices[K]): SharedServices[K];
}

/** A {@link Shared} that hands out the objects the caller passed in (e.g. `sendBatch`'s options) before making any. */
export function createShared(given: Partial<SharedServices>): Shared {
  const made: Partial<SharedServices> = {};
  return {
    get(key, create) {
      const have = made[key] ?? given[key] ?? create();
      made[key] = have;
      return have;
    },
  };
}
