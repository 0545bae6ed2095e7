/** PostgreSQL counts of beacons refused by the pixel limits (`beacon_throttles`, migration 008). */
import type { BeaconThrottleStore } from '../types.js';
import type { StorePool } from './pool.js';

/** Creates the throttle counts. Several collectors add to the same window's row. */
export function createThrottles(db: StorePool): BeaconThrottleStore {
  return {
    async record(rows, windowStart) {
      const kept = rows.filter((r) => r.count > 0);
      if (kept.length === 0) return;
      await db.query(
        `INSERT INTO beacon_throttles (client_id, window_start, scope, count)
         SELECT v.client_id, $1, v.scope, v.count FROM unnest($2::text[], $3::text[], $4::bigint[]) AS v(client_id, scope, count)
         ON CONFLICT (client_id, window_start, scope) DO UPDATE SET count = beacon_throttles.count + excluded.count`,
        [windowStart, kept.map((r) => r.client_id), kept.map((r) => r.scope), kept.map((r) => r.count)],
      );
    },
    async counts(since) {
      const { rows } = await db.query<{ client_id: string; address: string; site: string }>(
        `SELECT client_id,
           sum(CASE scope WHEN 'address' THEN count ELSE 0 END) AS address,
           sum(CASE scope WHEN 'site' THEN count ELSE 0 END) AS site
         FROM beacon_throttles WHERE window_start >= $1 GROUP BY client_id ORDER BY client_id`,
        [since],
      );
      return rows.map((r) => ({ client_id: r.client_id, address: Number(r.address), site: Number(r.site) }));
    },
  };
}
