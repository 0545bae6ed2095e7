/**
 * `pruuv db vacuum` on SQLite: rewrites the file in `auto_vacuum = INCREMENTAL` mode, so the
 * retention sweeps give freed pages back from then on (`PRAGMA incremental_vacuum`), and drops
 * the pages free now. Files created by this version are in that mode already; older ones change
 * only with a VACUUM (sqlite.org/pragma.html#pragma_auto_vacuum), which rewrites the whole file
 * under an exclusive lock and needs as much free disk again: an operator's choice, never a
 * migration run at start (migration 014).
 */
import { statSync } from 'node:fs';
import type { Db } from './db.js';

/** What a vacuum did. */
export interface VacuumReport {
  /** `auto_vacuum` before: `none`, `full` or `incremental`. */
  mode_before: 'none' | 'full' | 'incremental';
  /** The file's size before and after, in bytes (the main file, after a checkpoint). */
  bytes_before: number;
  bytes_after: number;
  duration_ms: number;
}

const MODES = ['none', 'full', 'incremental'] as const;

/** Sets incremental auto-vacuum and runs VACUUM on an open database; waits for other writers as `busy_timeout` says. */
export function vacuumSqlite(db: Db): VacuumReport {
  const started = Date.now();
  const size = (): number => {
    db.pragma('wal_checkpoint(TRUNCATE)');
    return statSync(db.name).size;
  };
  const mode = MODES[db.pragma('auto_vacuum', { simple: true }) as number] ?? 'none';
  const bytesBefore = size();
  db.pragma('auto_vacuum = INCREMENTAL');
  db.exec('VACUUM');
  return { mode_before: mode, bytes_before: bytesBefore, bytes_after: size(), duration_ms: Date.now() - started };
}
