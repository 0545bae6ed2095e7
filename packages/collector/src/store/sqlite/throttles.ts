/** SQLite counts of beacons refused by the pixel limits (`beacon_throttles`, migration 013). */
import type { ThrottleScope } from '../../domain/beacon-limits.js';
import type { BeaconThrottleStore, ThrottleCount } from '../types.js';
import type { Db } from './db.js';

/** Creates the throttle counts. Several collectors add to the same window's row. */
export function createThrottles(db: Db): BeaconThrottleStore {
  const add = db.prepare<[{ client_id: string; window_start: string; scope: ThrottleScope; count: number }]>(
    `INSERT INTO beacon_throttles (client_id, window_start, scope, count) VALUES (@client_id, @window_start, @scope, @count)
     ON CONFLICT (client_id, window_start, scope) DO UPDATE SET count = count + excluded.count`,
  );
  const since = db.prepare<[string], ThrottleCount>(
    `SELECT client_id,
       SUM(CASE scope WHEN 'address' THEN count ELSE 0 END) AS address,
       SUM(CASE scope WHEN 'site' THEN count ELSE 0 END) AS site
     FROM beacon_throttles WHERE window_start >= ? GROUP BY client_id ORDER BY client_id`,
  );
  const recordTx = db.transaction((rows: Parameters<BeaconThrottleStore['record']>[0], windowStart: string) => {
    for (const r of rows) if (r.count > 0) add.run({ client_id: r.client_id, window_start: windowStart, scope: r.scope, count: r.count });
  });
  return {
    async record(rows, windowStart) {
      recordTx.immediate(rows, windowStart.toISOString());
    },
    async counts(from) {
      return since.all(from.toISOString());
    },
  };
}
