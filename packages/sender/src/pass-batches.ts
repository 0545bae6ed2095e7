/**
 * How a send pass cuts its claimed rows into `sendBatch` calls: one group per
 * (client, platform) connection, then per Google conversion action, then at
 * most the platform's batch limit per call. Pure.
 */
import { GOOGLE_MAX_BATCH } from './google-ads.js';
import { META_MAX_BATCH } from './meta.js';
import type { ClaimedSend } from './outbox-store.js';
import { TIKTOK_MAX_BATCH } from './tiktok.js';
import type { Platform } from './types.js';

/**
 * Events per request: Meta 1,000 (platforms.md §1.2), TikTok 1,000
 * (platforms.md §4.3), Google 2,000 for both the Ads API and Data Manager
 * (platforms.md §3.5, google-data-manager.md §6).
 */
export const PLATFORM_BATCH_LIMITS: Readonly<Record<Platform, number>> = {
  meta: META_MAX_BATCH,
  google: GOOGLE_MAX_BATCH,
  tiktok: TIKTOK_MAX_BATCH,
};

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
 * Cuts one connection's rows into batches: per key of `keyOf` (the Google
 * conversion action, since Data Manager takes one destination per request),
 * then into chunks of at most `limit`.
 */
export function splitBatches(
  claims: readonly ClaimedSend[],
  limit: number,
  keyOf: (claim: ClaimedSend) => string = () => '',
): ClaimedSend[][] {
  const size = Math.max(1, Math.floor(limit));
  const byKey = new Map<string, ClaimedSend[]>();
  for (const claim of claims) {
    const key = keyOf(claim);
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [claim]);
    else list.push(claim);
  }
  const batches: ClaimedSend[][] = [];
  for (const list of byKey.values()) {
    for (let i = 0; i < list.length; i += size) batches.push(list.slice(i, i + size));
  }
  return batches;
}
