/**
 * Opens the store the configuration names: the SQLite file by default, or a
 * PostgreSQL server when `PRUUV_DATABASE_URL` (`--database-url`) is set.
 */
import { CollectorError, MigrationError, SchemaTooNewError } from '../errors.js';
import { describeUrl, openPostgresStore } from './postgres/index.js';
import { openSqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

/** Where the store is. */
export interface StoreTarget {
  /** SQLite file, used when `databaseUrl` is unset. */
  dbFile: string;
  /** `postgres://…` or `postgresql://…`. Defaults to `undefined`: the SQLite file. */
  databaseUrl?: string;
}

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Clock for `created_at` times. Defaults to `() => new Date()`. */
  now?: () => Date;
  /** PostgreSQL connections per process. Defaults to `10`. */
  poolSize?: number;
}

/** The database cannot be opened or reached at start; the message names where (never a password). */
export class StoreOpenError extends CollectorError {
  override name = 'StoreOpenError';
}

/**
 * Opens and migrates the store.
 *
 * @throws {StoreOpenError} when the database cannot be opened, reached or migrated.
 * @throws {SchemaTooNewError} when it was migrated by a newer Pruuv.
 */
export async function openStore(target: StoreTarget, options: OpenStoreOptions = {}): Promise<Store> {
  if (target.databaseUrl !== undefined) {
    const where = describeUrl(target.databaseUrl);
    try {
      return await openPostgresStore(target.databaseUrl, {
        ...(options.now ? { now: options.now } : {}),
        ...(options.poolSize !== undefined ? { max: options.poolSize } : {}),
      });
    } catch (error) {
      if (error instanceof SchemaTooNewError || error instanceof MigrationError) throw error;
      const code = (error as { code?: unknown }).code;
      // What the server said, without anything of the URL (the driver's messages never hold the password).
      const why = error instanceof Error ? error.message : String(error);
      throw new StoreOpenError(
        `Cannot reach the PostgreSQL database ${where}${typeof code === 'string' ? ` (${code})` : ''}: ${why}. Check PRUUV_DATABASE_URL and that the server is running.`,
        { cause: error },
      );
    }
  }
  try {
    return openSqliteStore(target.dbFile, options.now ? { now: options.now } : {});
  } catch (error) {
    if (error instanceof SchemaTooNewError || error instanceof MigrationError) throw error;
    throw new StoreOpenError(`Cannot open the SQLite database '${target.dbFile}': ${(error as Error).message}. Check PRUUV_DB.`, { cause: error });
  }
}
