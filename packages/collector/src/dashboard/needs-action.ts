/**
 * What needs a person's action, across the clients a user sees: each check reads
 * through the Store with the scope's client id (all clients for admin and staff),
 * never everything then filtered.
 */
import type { Platform } from '@pruuv/sender';
import { STAGE_EVENTS_PER_HOUR } from '../domain/rate-limit.js';
import type { Store } from '../store/types.js';
import type { Scope } from './scope.js';

/** A stage is quiet after this long without an event. */
export const QUIET_AFTER_MS = 7 * 86_400_000;

/** A stage is near its hourly quota from this share of it on. */
export const NEAR_LIMIT_SHARE = 0.8;

/**
 * The conversions a paused connection holds back are counted up to this many: the count reads
 * every waiting row (no index holds them by connection: one would cost every admission three
 * entries), so a pause of days would otherwise cost the page a read of days of backlog.
 */
export const WAITING_COUNT_CAP = 10_000;

/** One thing to act on. */
export type ActionItem =
  /** A connection paused on an auth or permission error, and the conversions it holds back (`more`: at least `waiting`). */
  | { kind: 'paused'; client_id: string; platform: Platform; reason?: string; waiting: number; more: boolean }
  /** A stage with no event for {@link QUIET_AFTER_MS}: `last_event_at` absent when it never had one (then `created_at` says since when). */
  | { kind: 'quiet'; client_id: string; stage_id: string; stage: string; last_event_at?: string; created_at: string }
  /** A stage with at least {@link NEAR_LIMIT_SHARE} of its hourly quota used in the last hour. */
  | { kind: 'near_limit'; client_id: string; stage_id: string; stage: string; last_hour: number; limit: number }
  /** Conversions whose retries stopped (`dead`) since `since`. */
  | { kind: 'dead'; client_id: string; count: number; since: string }
  /** Beacons held for lacking a browser's signals (`domain/beacon-signals.ts`): their conversions wait for a release. */
  | { kind: 'held'; client_id: string; count: number; oldest: string }
  /** Beacons answered 429 by the pixel limits since `since` (ISO 8601): per address, and over the site's budget. */
  | { kind: 'throttled'; client_id: string; address: number; site: number; since: string }
  /** An OAuth token that expires soon (see {@link expiringTokens}). */
  | { kind: 'token_expiring'; client_id: string; platform: Platform; expires_at: string };

/** A grant that needs the user is shown this long before the day it stops working. Defaults to 7 days. */
export const TOKEN_WARNING_MS = 7 * 86_400_000;

/**
 * OAuth grants that only the user can renew (a Google app in Testing status, a
 * Meta long-lived user token, a grant Google gave an end) within
 * {@link TOKEN_WARNING_MS}, or already past it. Grants the runtime renews by
 * itself (a refresh token) never show here; pasted credentials have no grant.
 */
export async function expiringTokens(store: Store, scope: Scope, now: Date): Promise<ActionItem[]> {
  const grants = await store.oauth.grants(scope.all ? {} : { client_id: scope.clientId });
  return grants
    .filter((g) => g.user_action_by !== undefined && Date.parse(g.user_action_by) - now.getTime() <= TOKEN_WARNING_MS)
    .map((g) => ({ kind: 'token_expiring', client_id: g.client_id, platform: g.platform, expires_at: g.user_action_by as string }));
}

/** Throttled beacons are counted over this long before now. */
export const THROTTLED_WINDOW_MS = 86_400_000;

/** Everything that needs action in `scope` at `now`; dead sends counted from the UTC day `since`. */
export async function needsAction(store: Store, scope: Scope, now: Date, since: string): Promise<ActionItem[]> {
  const clientId = scope.all ? undefined : scope.clientId;
  const throttledSince = new Date(now.getTime() - THROTTLED_WINDOW_MS);
  const [held, stages, activity, dead, tokens, heldBeacons, throttled] = await Promise.all([
    store.outbox.held({ ...(clientId === undefined ? {} : { client_id: clientId }), upTo: WAITING_COUNT_CAP }),
    store.stages.list(clientId),
    store.stats.stageActivity({ ...(clientId === undefined ? {} : { client_id: clientId }), now }),
    store.stats.sendTotals({ status: 'dead', from: since, ...(clientId === undefined ? {} : { client_id: clientId }) }),
    expiringTokens(store, scope, now),
    // Both read small tables or a partial index of held events only; filtered to the scope here.
    store.events.heldCounts(),
    store.throttles.counts(throttledSince),
  ]);
  const items: ActionItem[] = held.map((h) => ({
    kind: 'paused',
    client_id: h.client_id,
    platform: h.platform,
    ...(h.reason !== undefined ? { reason: h.reason } : {}),
    waiting: h.waiting,
    more: h.waiting >= WAITING_COUNT_CAP,
  }));
  items.push(...tokens);
  const byId = new Map(stages.map((s) => [s.id, s]));
  const nearLimit = Math.ceil(STAGE_EVENTS_PER_HOUR * NEAR_LIMIT_SHARE);
  for (const a of activity) {
    const stage = byId.get(a.stage_id);
    if (stage === undefined) continue;
    if (a.last_hour >= nearLimit) {
      items.push({ kind: 'near_limit', client_id: a.client_id, stage_id: a.stage_id, stage: stage.name, last_hour: a.last_hour, limit: STAGE_EVENTS_PER_HOUR });
    }
    const quietSince = Date.parse(a.last_event_at ?? stage.created_at);
    if (now.getTime() - quietSince >= QUIET_AFTER_MS) {
      items.push({
        kind: 'quiet',
        client_id: a.client_id,
        stage_id: a.stage_id,
        stage: stage.name,
        ...(a.last_event_at !== undefined ? { last_event_at: a.last_event_at } : {}),
        created_at: stage.created_at,
      });
    }
  }
  for (const d of dead) if (d.count > 0) items.push({ kind: 'dead', client_id: d.client_id, count: d.count, since });
  const inScope = (id: string): boolean => clientId === undefined || id === clientId;
  for (const h of heldBeacons) if (inScope(h.client_id)) items.push({ kind: 'held', client_id: h.client_id, count: h.held, oldest: h.oldest });
  for (const t of throttled) {
    if (inScope(t.client_id) && t.address + t.site > 0) {
      items.push({ kind: 'throttled', client_id: t.client_id, address: t.address, site: t.site, since: throttledSince.toISOString() });
    }
  }
  return items;
}
