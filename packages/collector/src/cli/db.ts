import { CopyError, copySqliteToPostgres, type CopyReport } from '../store/copy.js';
import { openPostgresStore } from '../store/postgres/index.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { StoreOpenError } from '../store/open.js';
import { backupSqlite, restoreSqlite, type BackupReport, type RestoreReport } from '../store/sqlite/backup.js';
import { retentionCutoff } from '../domain/retention.js';
import { sweepRetention, type SweepReport } from '../ops/retention-sweep.js';
import { openDb } from '../store/sqlite/db.js';
import { vacuumSqlite, type VacuumReport } from '../store/sqlite/vacuum.js';
import type { Store, TableSize } from '../store/types.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { emit, table, type CliOutput } from './output.js';

/** Options of `pruuv db copy`. */
export interface DbCopyOptions {
  /** The SQLite file to read (`--db`, `PRUUV_DB`). */
  from: string;
  /** The PostgreSQL database to fill (`--to`). */
  to: string;
  /** Progress lines go here (stderr for the bin), never the data. */
  progress?: (line: string) => void;
}

/**
 * `pruuv db copy --to postgres://…`: copies the SQLite database (`--db`/`PRUUV_DB`) into an
 * empty PostgreSQL database (migrating it first), in one transaction, and checks the row count
 * of every table. Credentials stay encrypted (the same `PRUUV_ENCRYPTION_KEY` opens them) and
 * tokens stay hashed. JSON: `{ tables, total, duration_ms }`.
 */
export async function dbCopy(options: DbCopyOptions, output: CliOutput): Promise<CopyReport> {
  const source = openSqliteStore(options.from);
  try {
    let target;
    try {
      target = await openPostgresStore(options.to);
    } catch (error) {
      throw new StoreOpenError(`Cannot reach the PostgreSQL database given to --to: ${(error as Error).message}`, { cause: error });
    }
    try {
      let last = '';
      const report = await copySqliteToPostgres(source, target, {
        progress: (name, rows) => {
          if (name !== last) options.progress?.(`copying ${name}…`);
          last = name;
          if (rows % 50_000 === 0) options.progress?.(`  ${name}: ${rows} rows`);
        },
      });
      emit(output, report, () =>
        [
          `Copied ${report.total} rows from ${source.location} to ${target.location} in ${(report.duration_ms / 1000).toFixed(1)} s; every table's count matches.`,
          '',
          table(['TABLE', 'ROWS'], report.tables.map((t) => [t.table, String(t.rows)])),
          '',
          'Next: set PRUUV_DATABASE_URL to the new database (keep PRUUV_ENCRYPTION_KEY as it is) and restart the collector.',
        ].join('\n'),
      );
      return report;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** The `pg_dump` and `pg_restore` lines for a PostgreSQL database (the README has them too). */
export const PG_DUMP_HINT =
  'PostgreSQL is backed up with its own tools, while the collectors run: pg_dump --format=custom --file=pruuv.dump "$PRUUV_DATABASE_URL" ' +
  '(restore into an empty database with pg_restore --no-owner --dbname="$PRUUV_DATABASE_URL" pruuv.dump).';

/** Where `pruuv db backup` and `restore` work: the configured database. */
export interface DbTarget {
  /** The SQLite file (`--db`, `PRUUV_DB`). */
  dbFile: string;
  /** Set when the collector runs on PostgreSQL: these commands then print the `pg_dump` line. */
  databaseUrl?: string;
}

function tablesOf(report: { tables: Array<{ table: string; rows: number }> }): string {
  return table(['TABLE', 'ROWS'], report.tables.map((t) => [t.table, String(t.rows)]));
}

/**
 * `pruuv db backup FILE`: a consistent online copy of the SQLite database into the new file
 * `FILE`, while collectors run, verified (`integrity_check`, every table's row count). On
 * PostgreSQL it fails with the `pg_dump` line to use instead. JSON: `{ file, bytes, integrity,
 * schema, tables, duration_ms }`.
 */
export async function dbBackup(target: DbTarget, file: string, output: CliOutput): Promise<BackupReport> {
  if (target.databaseUrl !== undefined) throw new CliError(PG_DUMP_HINT, EXIT_USAGE);
  const report = await backupSqlite(target.dbFile, file);
  const rows = report.tables.reduce((n, t) => n + t.rows, 0);
  emit(output, report, () =>
    [
      `Backed up ${target.dbFile} to ${report.file} (${report.bytes} bytes, ${rows} rows, schema ${report.schema}) in ${(report.duration_ms / 1000).toFixed(1)} s; integrity check: ok.`,
      '',
      tablesOf(report),
      '',
      'Keep PRUUV_ENCRYPTION_KEY with it (elsewhere): the credentials in the copy are encrypted with it.',
    ].join('\n'),
  );
  return report;
}

/**
 * `pruuv db restore FILE`: replaces the SQLite database with the backup `FILE` once it verifies,
 * refusing while any process has the database open; the replaced file is kept as
 * `DB.before-restore-<time>`. JSON: `{ file, previous?, integrity, schema, tables }`.
 */
export async function dbRestore(target: DbTarget, file: string, output: CliOutput): Promise<RestoreReport> {
  if (target.databaseUrl !== undefined) throw new CliError(PG_DUMP_HINT, EXIT_USAGE);
  const report = restoreSqlite(file, target.dbFile);
  emit(output, report, () =>
    [
      `Restored ${file} into ${report.file} (schema ${report.schema}); integrity check: ok.`,
      report.previous !== undefined ? `The database it replaced is kept as ${report.previous}.` : 'There was no database there before.',
      '',
      tablesOf(report),
      '',
      'Next: start the collector (migrations newer than the backup run at start).',
    ].join('\n'),
  );
  return report;
}

export { CopyError };

/** Options of `pruuv db prune`. */
export interface DbPruneOptions {
  /** The retention in days (`--days`, else `PRUUV_RETENTION_DAYS`). */
  days: number;
  /** Count what would go, remove nothing (`--dry-run`). */
  dryRun: boolean;
  /** Events per transaction (`--batch`). Defaults to `100`. */
  batch?: number;
}

/**
 * `pruuv db prune [--days N] [--dry-run] [--batch N]`: the retention sweep `pruuv serve` and `pruuv worker`
 * run daily, now: events received more than N days ago whose sends all ended more than N days ago go,
 * with their outbox rows and audit records, a batch per transaction. JSON: the sweep's counts, or
 * `{ before, removable }` for a dry run.
 */
export async function dbPrune(store: Store, options: DbPruneOptions, output: CliOutput): Promise<SweepReport | { before: string; removable: number }> {
  if (options.dryRun) {
    const before = retentionCutoff(new Date(), options.days);
    const removable = await store.retention.removable(before);
    const report = { before: before.toISOString(), removable };
    emit(output, report, () =>
      `${removable} event(s) received before ${report.before} (${options.days} days), with their outbox rows and audit records, would be removed. Nothing was removed.`,
    );
    return report;
  }
  const report = await sweepRetention({ store, days: options.days, ...(options.batch !== undefined ? { batch: options.batch } : {}) });
  emit(output, report, () =>
    `Removed ${report.events} event(s) received before ${report.before} (${options.days} days), ${report.outbox} outbox row(s) and ${report.send_attempts} audit record(s) (and ${report.user_agents} user agent(s) no event names any more), in ${report.batches} transaction(s) and ${(report.duration_ms / 1000).toFixed(1)} s.` +
    (store.engine === 'sqlite' ? ` ${report.pages_reclaimed} page(s) given back to the file system.` : ' Autovacuum makes their space reusable.'),
  );
  return report;
}

/** `pruuv db stats`: rows and bytes (with indexes) per table, on either engine. JSON: `{ engine, tables, total_bytes }`. */
export async function dbStats(store: Store, output: CliOutput): Promise<{ engine: string; tables: TableSize[]; total_bytes: number }> {
  const tables = await store.monitor.tables();
  const report = { engine: store.engine, tables, total_bytes: tables.reduce((n, t) => n + t.bytes, 0) };
  emit(output, report, () =>
    [
      table(['TABLE', 'ROWS', 'BYTES'], tables.map((t) => [t.table, String(t.rows), String(t.bytes)])),
      '',
      `${report.total_bytes} bytes in all (${store.engine === 'sqlite' ? 'SQLite dbstat pages' : 'pg_total_relation_size'}, indexes included).`,
    ].join('\n'),
  );
  return report;
}

/**
 * `pruuv db vacuum`: rewrites the SQLite file in incremental auto-vacuum mode (see `store/sqlite/vacuum.ts`).
 * Writers wait for it: run it in a quiet hour. On PostgreSQL it fails with what autovacuum does instead.
 */
export async function dbVacuum(target: DbTarget, output: CliOutput): Promise<VacuumReport> {
  if (target.databaseUrl !== undefined) {
    throw new CliError('PostgreSQL reuses the space of removed rows through autovacuum (migration 009 makes it come sooner); there is nothing to run.', EXIT_USAGE);
  }
  const db = openDb(target.dbFile, { busyTimeoutMs: 60_000 });
  try {
    const report = vacuumSqlite(db);
    emit(output, report, () =>
      `Vacuumed ${target.dbFile}: ${report.bytes_before} → ${report.bytes_after} bytes in ${(report.duration_ms / 1000).toFixed(1)} s; auto_vacuum was ${report.mode_before}, now incremental (retention sweeps give space back).`,
    );
    return report;
  } finally {
    db.close();
  }
}
