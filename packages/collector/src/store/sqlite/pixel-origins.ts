/** SQLite storage of the last pixel hit per (client, page origin): the dashboard's install check. */
import type { PixelOrigin, PixelOriginStore } from '../types.js';
import type { Db } from './db.js';

/** Creates the pixel-origins part of the store. */
export function createPixelOrigins(db: Db): PixelOriginStore {
  // ISO 8601 UTC text compares as time: MAX keeps the later of two processes' writes.
  const upsert = db.prepare(
    `INSERT INTO pixel_origins (client_id, origin, last_seen_at) VALUES (?, ?, ?)
     ON CONFLICT (client_id, origin) DO UPDATE SET last_seen_at = MAX(last_seen_at, excluded.last_seen_at)`,
  );
  const ofClient = db.prepare<[string], PixelOrigin>(
    'SELECT client_id, origin, last_seen_at FROM pixel_origins WHERE client_id = ? ORDER BY origin',
  );
  const all = db.prepare<[], PixelOrigin>('SELECT client_id, origin, last_seen_at FROM pixel_origins ORDER BY client_id, origin');
  return {
    async seen(clientId, origin, at) {
      upsert.run(clientId, origin, at.toISOString());
    },
    async list(filter = {}) {
      return filter.client_id !== undefined ? ofClient.all(filter.client_id) : all.all();
    },
  };
}
