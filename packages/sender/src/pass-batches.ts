/**
 * How a send pass cuts its claimed rows into `sendBatch` calls: one group per
 * (client, platform) connection, then per Google conversion action, then at
 * most the platform's batch limit per call. Pure.
 */
import type { ClaimedSend } from './outbox-store.js';
import { PLATFORMS, type Platform } from './platforms/index.js';

/**
 * Events per request, each adapter's `maxBatch`: Meta 1,000 (platforms.md §1.2),
 * TikTok 1,000 (platforms.md §4.3), Google 2,000 for both the Ads API and
 * Data Manager (platforms.md §3.5, google-data-manager.md §6).
 */
export const PLATFORM_BATCH_LIMITS: Readonly<Record<Platform, number>> = Object.fromEntries(
  PLATFORMS.map((p) => [p.id, p.maxBatch]),
) as Record<Platform, number>;

/** The claimed rows of one client on one platform. */
export interface ConnectionGroup {
  client_id: string;
  platform: Platform;
  claims: ClaimedSend[];
}

/** Groups rows per (client, platform), groups and rows in first-seen order. */
export function groupByConnection(claims: readonly ClaimedSend[]): ConnectionGroup[] {
  const groups = new Map<string, ConnectionGroup>();
  for (const claim of claims) {
    const key = `${claim.client_id}\u0000${claim.platform}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { client_id: claim.client_id, platform: claim.platform, claims: [] };
      groups.set(key, group);
    }
    group.claims.push(claim);
  }
  return [...groups.values()];
}

/**
 * Cuts one connection's rows into batches: per key of `keyOf` (the adapter's
 * `batchKey`: the Google conversion action, since Data Manager takes one
 * destination per request), keys in first-seen order, then into chunks of at
 * most `limit`. `sendBatch` cuts its events into requests the same way.
 */
export function splitBatches<T = ClaimedSend>(items: readonly T[], limit: number, keyOf: (item: T) => string = () => ''): T[][] {
  const size = Math.max(1, Math.floor(limit));
  const byKey = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [item]);
    else list.push(item);
  }
  const batches: T[][] = [];
  for (const list of byKey.values()) {
    for (let i = 0; i < list.length; i += size) batches.push(list.slice(i, i + size));
  }
  return batches;
}
