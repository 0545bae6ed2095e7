import { CopyError, copySqliteToPostgres, type CopyReport } from '../store/copy.js';
import { openPostgresStore } from '../store/postgres/index.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { StoreOpenError } from '../store/open.js';
import { backupSqlite, restoreSqlite, type BackupReport, type RestoreReport } from '../store/sqlite/backup.js';
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
