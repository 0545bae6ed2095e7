import { CopyError, copySqliteToPostgres, type CopyReport } from '../store/copy.js';
import { openPostgresStore } from '../store/postgres/index.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { StoreOpenError } from '../store/open.js';
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

export { CopyError };
