/** PostgreSQL ledger of scheduled send runs (`send_runs`): one row per cron slot. */
import type { SendRun, SendRunStore } from '../types.js';
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
    async recent(limit) {
      const { rows } = await db.query<{ slot: Date; owner: string; trigger: SendRun['trigger']; started_at: Date; finished_at: Date | null; summary: Record<string, unknown> | null }>(
        'SELECT slot, owner, trigger, started_at, finished_at, summary FROM send_runs ORDER BY slot DESC LIMIT $1',
        [limit],
      );
      return rows.map((r) => {
        const run: SendRun = { slot: r.slot.toISOString(), owner: r.owner, trigger: r.trigger, started_at: r.started_at.toISOString() };
        if (r.finished_at !== null) run.finished_at = r.finished_at.toISOString();
        if (r.summary !== null) run.summary = r.summary;
        return run;
      });
    },
  };
}
