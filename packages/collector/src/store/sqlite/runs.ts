/** SQLite ledger of scheduled send runs (`send_runs`): one row per cron slot. */
import type { SendRun, SendRunStore } from '../types.js';
import type { Db } from './db.js';

/** Creates the run ledger. `INSERT OR IGNORE`: whichever process inserts a slot runs it. */
export function createRuns(db: Db): SendRunStore {
  const claim = db.prepare('INSERT OR IGNORE INTO send_runs (slot, owner, trigger, started_at) VALUES (?, ?, ?, ?)');
  const finish = db.prepare('UPDATE send_runs SET finished_at = ?, summary = ? WHERE slot = ?');
  const recent = db.prepare<[number], { slot: string; owner: string; trigger: SendRun['trigger']; started_at: string; finished_at: string | null; summary: string | null }>(
    'SELECT slot, owner, trigger, started_at, finished_at, summary FROM send_runs ORDER BY slot DESC LIMIT ?',
  );
  return {
    async claimSlot({ slot, owner, trigger, now }) {
      return claim.run(slot.toISOString(), owner, trigger, now.toISOString()).changes === 1;
    },
    async finishSlot({ slot, now, summary }) {
      finish.run(now.toISOString(), JSON.stringify(summary), slot.toISOString());
    },
    async recent(limit) {
      return recent.all(limit).map((r) => {
        const run: SendRun = { slot: r.slot, owner: r.owner, trigger: r.trigger, started_at: r.started_at };
        if (r.finished_at !== null) run.finished_at = r.finished_at;
        if (r.summary !== null) run.summary = JSON.parse(r.summary) as Record<string, unknown>;
        return run;
      });
    },
  };
}
