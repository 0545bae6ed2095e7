/**
 * The "is the pixel installed?" record: the last pixel hit per (client, page
 * origin), written for the dashboard. A write per beacon would double the
 * ingest's writes for a figure people read in minutes, so each process writes
 * a (client, origin) at most once per interval, remembering in memory when it
 * last did; the store keeps the later time when processes overlap. The map
 * holds one entry per allowed origin that sent a beacon: bounded by the
 * clients' configuration, not by callers.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/types.js';

/** How often a process writes the same (client, origin). Defaults to one minute. */
export const PIXEL_SEEN_INTERVAL_MS = 60_000;

/** Records a pixel hit; does nothing when this process wrote the same (client, origin) within the interval. */
export type PixelSeen = (clientId: string, origin: string, at: Date) => Promise<void>;

/**
 * Creates the recorder of one process. A failed write is logged and forgotten
 * (the next beacon tries again): it must never fail the beacon itself.
 */
export function createPixelSeen(store: Store, logger: Logger, intervalMs = PIXEL_SEEN_INTERVAL_MS): PixelSeen {
  const written = new Map<string, number>();
  return async (clientId, origin, at) => {
    // Client ids never hold a space (`cli_` + base62).
    const key = `${clientId} ${origin}`;
    const last = written.get(key);
    const ms = at.getTime();
    if (last !== undefined && ms - last < intervalMs && ms >= last) return;
    // Taken before the write: concurrent beacons of the same origin do not all write.
    written.set(key, ms);
    try {
      await store.pixelOrigins.seen(clientId, origin, at);
    } catch (error) {
      written.delete(key);
      logger.warn({ err: error, client_id: clientId }, 'ingest: could not record the pixel hit for the dashboard');
    }
  };
}
