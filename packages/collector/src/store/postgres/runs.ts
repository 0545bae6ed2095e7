/** PostgreSQL ledger of scheduled send runs (`send_runs`): one row per cron slot. */
import type { SendRunStore } from '../types.js';
import type { StorePool } from './pool.js';

/** Creates the run ledger. `ON CONFLICT DO NOTHING`: whichever process inserts a slot runs it, across every worker. */
export function createRuns(db: StorePool): SendRunStore {
  return {
    async claimSlot({ slot, owner, trigger, now }) {
      const { rowCount } = await db.query(
        'INSERT INTO send_runs (slot, owner, trigger, started_at) VALUES ($1, $2, $3, $4) ON CONFLICT (slot) DO NOTHING',
        [slot, owner, trigger, now],
      );
      return rowCount === 1;
    },
    async finishSlot({ slot, now, summary }) {
      await db.query('UPDATE send_runs SET finished_at = $1, summary = $2 WHERE slot = $3', [now, JSON.stringify(summary), slot]);
    },
  };
}
