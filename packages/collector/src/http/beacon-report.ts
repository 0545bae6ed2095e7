/**
 * What the pixel path refused or held, made visible once per window: one log line per site
 * (counts and reasons only: never a body, an address or a user agent) and the throttle counts
 * added to the store (`beacon_throttles`), where `pruuv events held`, the admin API and the
 * dashboard read them. Held events need no such write: they are rows of `events` already.
 *
 * The ingest route counts; `server.ts` calls {@link BeaconReport.flush} every window and on
 * shutdown (an app built by `createApp` alone counts, and flushes when asked).
 */
import type { Logger } from 'pino';
import type { ThrottleScope } from '../domain/beacon-limits.js';
import type { HoldReason } from '../domain/beacon-signals.js';
import type { Store } from '../store/types.js';

/** Default window of the report: one minute. */
export const BEACON_REPORT_WINDOW_MS = 60_000;

/** Counts of one site in the current window. */
interface SiteCounts {
  address: number;
  site: number;
  held: Partial<Record<HoldReason, number>>;
}

/** The counts of the pixel path, flushed once per window. */
export interface BeaconReport {
  /** A beacon of `clientId` refused with 429 by the `scope` limit. */
  throttled(clientId: string, scope: ThrottleScope): void;
  /** A beacon of `clientId` stored held for `reason`. */
  held(clientId: string, reason: HoldReason): void;
  /**
   * Logs the window's counts per site (warn), adds the throttle counts to the store and opens a
   * new window. A store that cannot take the write is logged; the counts are then lost, never retried.
   */
  flush(now: Date): Promise<void>;
}

/** Creates the report. `now` opens the first window. */
export function createBeaconReport(deps: { store: Store; logger: Logger; now: () => Date }): BeaconReport {
  const { store, logger } = deps;
  let sites = new Map<string, SiteCounts>();
  let windowStart = deps.now();
  const of = (clientId: string): SiteCounts => {
    let counts = sites.get(clientId);
    if (counts === undefined) sites.set(clientId, (counts = { address: 0, site: 0, held: {} }));
    return counts;
  };
  return {
    throttled(clientId, scope) {
      of(clientId)[scope]++;
    },
    held(clientId, reason) {
      const held = of(clientId).held;
      held[reason] = (held[reason] ?? 0) + 1;
    },
    async flush(now) {
      const window = sites;
      const start = windowStart;
      sites = new Map();
      windowStart = now;
      if (window.size === 0) return;
      const seconds = Math.max(1, Math.round((now.getTime() - start.getTime()) / 1000));
      for (const [client_id, c] of window) {
        const held = Object.values(c.held).reduce((n, k) => n + k, 0);
        logger.warn(
          { client_id, seconds, throttled_address: c.address, throttled_site: c.site, held, held_reasons: c.held },
          'pixel: beacons throttled (429) or held',
        );
      }
      const rows = [...window].flatMap(([client_id, c]) => [
        { client_id, scope: 'address' as const, count: c.address },
        { client_id, scope: 'site' as const, count: c.site },
      ]);
      try {
        await store.throttles.record(rows, start);
      } catch (error) {
        logger.error({ err: error }, 'pixel: throttle counts not stored');
      }
    },
  };
}
