import { statSync } from 'node:fs';
import { readMigrations } from '../migrations.js';
import type { MonitorStore, Platform, StoreGauges, StoreReadiness, TableSize } from '../types.js';
import { retryWhileBusy } from './busy.js';
import { SQLITE_MIGRATIONS_DIR, type Db } from './db.js';

/**
 * Readiness and the scrape-time gauges on SQLite. Readiness takes the write lock for an
 * instant (`BEGIN IMMEDIATE; ROLLBACK`, nothing written): in WAL mode reads go through while
 * another process holds the lock, so only a write tells whether webhooks would be stored.
 * It tries without any synchronous wait (`busy_timeout = 0` for that statement), again from
 * timers until `timeoutMs`, so a held lock never freezes the event loop.
 */
export function createMonitor(db: Db, migrationsDir: string = SQLITE_MIGRATIONS_DIR): MonitorStore {
  const known = readMigrations(migrationsDir).map((m) => m.name);
  const applied = db.prepare('SELECT name FROM schema_migrations ORDER BY name');
  const due = db.prepare(
    "SELECT COUNT(*) AS n, MIN(due_at) AS oldest FROM outbox WHERE status IN ('pending', 'retrying') AND due_at <= ?",
  );
  const tableNames = db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  // better-sqlite3 compiles SQLite with SQLITE_ENABLE_DBSTAT_VTAB (its deps/defines.gypi): pages per
  // table or index, summed by dbstat itself (`aggregate = TRUE`), indexes counted with their table.
  const pages = db.prepare(
    `SELECT m.tbl_name AS tbl, SUM(s.pgsize) AS bytes FROM dbstat AS s JOIN sqlite_master AS m ON m.name = s.name
     WHERE s.aggregate = TRUE GROUP BY m.tbl_name`,
  );
  const paused = db.prepare("SELECT platform, COUNT(*) AS n FROM connections WHERE status = 'paused' GROUP BY platform ORDER BY platform");

  const tryWriteLock = async (): Promise<void> => {
    // Our own transaction in progress (a group commit) already holds the lock.
    if (db.inTransaction) return;
    const before = db.pragma('busy_timeout', { simple: true }) as number;
    db.pragma('busy_timeout = 0');
    try {
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
    } finally {
      db.pragma(`busy_timeout = ${before}`);
    }
  };

  const fileBytes = (file: string): number => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  };

  return {
    async ready(timeoutMs: number): Promise<StoreReadiness> {
      if (!db.open) return { ready: false, reason: 'unavailable' };
      try {
        const names = (applied.all() as Array<{ name: string }>).map((r) => r.name);
        if (names.length !== known.length || names.some((name, i) => name !== known[i])) return { ready: false, reason: 'schema' };
        await retryWhileBusy(tryWriteLock, timeoutMs);
        return { ready: true };
      } catch {
        // The lock held past the timeout (SQLITE_BUSY), or the file unreadable.
        return { ready: false, reason: 'unavailable' };
      }
    },
    async gauges(now: Date): Promise<StoreGauges> {
      const d = due.get(now.toISOString()) as { n: number; oldest: string | null };
      const gauges: StoreGauges = {
        outbox_due: d.n,
        paused_connections: (paused.all() as Array<{ platform: Platform; n: number }>).map((r) => ({ platform: r.platform, count: r.n })),
        // The file and its write-ahead log: what the disk holds (an in-memory database: 0).
        database_bytes: db.memory ? 0 : fileBytes(db.name) + fileBytes(`${db.name}-wal`),
      };
      if (d.oldest !== null) gauges.oldest_due_at = d.oldest;
      return gauges;
    },
    async tables(): Promise<TableSize[]> {
      const bytes = new Map((pages.all() as Array<{ tbl: string; bytes: number }>).map((r) => [r.tbl, r.bytes]));
      return (tableNames.all() as Array<{ name: string }>).map(({ name }) => ({
        table: name,
        // Names come from sqlite_master, quoted: never input.
        rows: (db.prepare(`SELECT COUNT(*) AS n FROM "${name.replaceAll('"', '""')}"`).get() as { n: number }).n,
        bytes: bytes.get(name) ?? 0,
      }));
    },
  };
}
