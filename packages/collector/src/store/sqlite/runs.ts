/** SQLite ledger of scheduled send runs (`send_runs`): one row per cron slot. */
import type { SendRunStore } from '../types.js';
import type { Db } from './db.js';

/** Creates the run ledger. `INSERT OR IGNORE`: whichever process inserts a slot runs it. */
export function createRuns(db: Db): SendRunStore {
  const claim = db.prepare('INSERT OR IGNORE INTO send_runs (slot, owner, trigger, started_at) VALUES (?, ?, ?, ?)');
  const finish = db.prepare('UPDATE send_runs SET finished_at = ?, summary = ? WHERE slot = ?');
  return {
    async claimSlot({ slot, owner, trigger, now }) {
      return claim.run(slot.toISOString(), owner, trigger, now.toISOString()).changes === 1;
    },
    async finishSlot({ slot, now, summary }) {
      finish.run(now.toISOString(), JSON.stringify(summary), slot.toISOString());
    },
  };
}
