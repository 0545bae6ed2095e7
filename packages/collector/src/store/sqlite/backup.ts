/**
 * `pruuv db backup` and `pruuv db restore` on SQLite.
 *
 * A backup is taken with SQLite's online backup API (sqlite.org/backup.html,
 * better-sqlite3's `db.backup()`) on a connection of its own, while collectors
 * keep running: it reads one consistent snapshot (a read transaction: in WAL
 * mode writers are never blocked), so every event acknowledged before the
 * backup began is in it. Copying the file with `cp` instead can miss what is
 * still in the `-wal` file, or catch a page half-written. The copy is written
 * to `FILE.partial`, checked (`PRAGMA integrity_check`, every table's row
 * count), switched to a single self-contained file (rollback journal, no
 * `-wal`), and only then renamed to `FILE`.
 *
 * A restore refuses a database another connection has open: leaving WAL mode
 * needs the only connection (sqlite.org/wal.html#persistence_of_wal_mode), so
 * that switch, tried without waiting, tells whether a collector, worker or CLI
 * still uses it. The database it replaces is kept next to it.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CollectorError } from '../../errors.js';
import { readMigrations } from '../migrations.js';
import { SQLITE_MIGRATIONS_DIR } from './db.js';

/** A backup or restore that cannot be made or did not verify; nothing was overwritten. */
export class BackupError extends CollectorError {
  override name = 'BackupError';
}

/** Rows per table of a verified copy. */
export interface CopyCheck {
  /** `ok`: `PRAGMA integrity_check` found nothing wrong. */
  integrity: 'ok';
  tables: Array<{ table: string; rows: number }>;
  /** The last migration recorded in the copy. */
  schema: string;
}

/** What a backup made. */
export interface BackupReport extends CopyCheck {
  file: string;
  bytes: number;
  duration_ms: number;
}

/**
 * Opens `file` read-only, checks its integrity and counts every table's rows.
 *
 * @throws {BackupError} when it is not a SQLite database of Pruuv, or is damaged.
 */
export function verifySqliteCopy(file: string): CopyCheck {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new BackupError(`Cannot open '${file}' as a SQLite database: ${(error as Error).message}`, { cause: error });
  }
  try {
    let problems: string[];
    try {
      problems = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
    } catch (error) {
      throw new BackupError(`'${file}' is not a readable SQLite database: ${(error as Error).message}`, { cause: error });
    }
    if (problems.length !== 1 || problems[0] !== 'ok') {
      throw new BackupError(`'${file}' fails the integrity check: ${problems.slice(0, 3).join('; ')}`);
    }
    const names = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map(
      (r) => r.name,
    );
    if (!names.includes('schema_migrations')) throw new BackupError(`'${file}' is not a Pruuv database (no schema_migrations table).`);
    const tables = names.map((table) => ({
      table,
      rows: (db.prepare(`SELECT COUNT(*) AS n FROM "${table.replaceAll('"', '""')}"`).get() as { n: number }).n,
    }));
    const last = db.prepare('SELECT MAX(name) AS name FROM schema_migrations').get() as { name: string | null };
    return { integrity: 'ok', tables, schema: last.name ?? '' };
  } finally {
    db.close();
  }
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies the live database `source` to `target` with the online backup API, verifies the copy,
 * and renames it into place.
 *
 * @throws {BackupError} when `source` is missing, `target` exists, or the copy does not verify.
 */
export async function backupSqlite(source: string, target: string): Promise<BackupReport> {
  const started = Date.now();
  if (!existsSync(source)) throw new BackupError(`No SQLite database at '${source}'. Check PRUUV_DB (or --db).`);
  if (existsSync(target)) throw new BackupError(`'${target}' already exists: choose a new file name, a backup never overwrites one.`);
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const db = new Database(source, { fileMustExist: true });
  try {
    // The backup reads under a shared lock; a writer's checkpoint may need a moment.
    db.pragma('busy_timeout = 5000');
    // Every page in one step: one read transaction, so the copy is one snapshot even while
    // other processes write (smaller steps restart whenever another connection commits).
    await db.backup(partial, { progress: ({ totalPages }) => Math.max(totalPages, 100) });
  } catch (error) {
    rmSync(partial, { force: true });
    throw new BackupError(`The backup of '${source}' failed: ${(error as Error).message}`, { cause: error });
  } finally {
    db.close();
  }
  try {
    // One self-contained file: no -wal or -shm to keep with it.
    const copy = new Database(partial, { fileMustExist: true });
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    const check = verifySqliteCopy(partial);
    fsyncFile(partial);
    renameSync(partial, target);
    const bytes = statSync(target).size;
    return { ...check, file: target, bytes, duration_ms: Date.now() - started };
  } catch (error) {
    rmSync(partial, { force: true });
    throw error instanceof BackupError ? error : new BackupError(`The copy at '${partial}' could not be checked: ${(error as Error).message}`, { cause: error });
  }
}

/** What a restore did. */
export interface RestoreReport extends CopyCheck {
  file: string;
  /** Where the database it replaced was moved; absent when there was none. */
  previous?: string;
}

/**
 * Replaces the database `target` with the backup `backup`, after checking the backup (integrity,
 * a schema this version knows) and that no connection has `target` open. The replaced database
 * is renamed `TARGET.before-restore-<time>`.
 *
 * @throws {BackupError} when the backup does not verify, is from a newer version, or `target` is in use.
 */
export function restoreSqlite(backup: string, target: string, now: Date = new Date()): RestoreReport {
  const check = verifySqliteCopy(backup);
  const known = new Set(readMigrations(SQLITE_MIGRATIONS_DIR).map((m) => m.name));
  const recorded = (() => {
    const db = new Database(backup, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT name FROM schema_migrations').all() as Array<{ name: string }>).map((r) => r.name);
    } finally {
      db.close();
    }
  })();
  const newer = recorded.filter((name) => !known.has(name));
  if (newer.length > 0) {
    throw new BackupError(`'${backup}' was made by a newer version of Pruuv (it has ${newer.join(', ')}): restore it with that version.`);
  }
  let previous: string | undefined;
  if (existsSync(target)) {
    const db = new Database(target, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 0');
      let mode: unknown;
      try {
        // Fails (locked), or stays `wal`, while any other connection has the file open.
        mode = db.pragma('journal_mode = DELETE', { simple: true });
      } catch {
        mode = 'busy';
      }
      if (mode !== 'delete') {
        throw new BackupError(
          `The database '${target}' is in use (a collector, worker or command has it open): stop them (systemctl stop pruuv pruuv-worker), then restore again.`,
        );
      }
    } finally {
      db.close();
    }
    previous = `${target}.before-restore-${now.toISOString().replaceAll(':', '-')}`;
    renameSync(target, previous);
  }
  const partial = `${target}.restoring`;
  const source = new Database(backup, { readonly: true, fileMustExist: true });
  try {
    source.exec(`VACUUM INTO '${partial.replaceAll("'", "''")}'`);
  } catch (error) {
    if (previous !== undefined) renameSync(previous, target);
    rmSync(partial, { force: true });
    throw new BackupError(`Cannot write '${partial}': ${(error as Error).message}. '${target}' is unchanged.`, { cause: error });
  } finally {
    source.close();
  }
  fsyncFile(partial);
  for (const leftover of [`${target}-wal`, `${target}-shm`]) rmSync(leftover, { force: true });
  renameSync(partial, target);
  const report: RestoreReport = { ...check, file: target };
  if (previous !== undefined) report.previous = previous;
  return report;
}
