/** PostgreSQL storage of the last pixel hit per (client, page origin): the dashboard's install check. */
import type { PixelOrigin, PixelOriginStore } from '../types.js';
import type { StorePool } from './pool.js';

interface Row {
  client_id: string;
  origin: string;
  last_seen_at: Date;
}

const toOrigin = (row: Row): PixelOrigin => ({ client_id: row.client_id, origin: row.origin, last_seen_at: row.last_seen_at.toISOString() });

/** Creates the pixel-origins part of the store. */
export function createPixelOrigins(db: StorePool): PixelOriginStore {
  return {
    async seen(clientId, origin, at) {
      // GREATEST keeps the later of two processes' writes.
      await db.query(
        `INSERT INTO pixel_origins (client_id, origin, last_seen_at) VALUES ($1, $2, $3)
         ON CONFLICT (client_id, origin) DO UPDATE SET last_seen_at = GREATEST(pixel_origins.last_seen_at, excluded.last_seen_at)`,
        [clientId, origin, at],
      );
    },
    async list(filter = {}) {
      const { rows } =
        filter.client_id !== undefined
          ? await db.query<Row>('SELECT client_id, origin, last_seen_at FROM pixel_origins WHERE client_id = $1 ORDER BY origin', [filter.client_id])
          : await db.query<Row>('SELECT client_id, origin, last_seen_at FROM pixel_origins ORDER BY client_id, origin');
      return rows.map(toOrigin);
    },
  };
}
