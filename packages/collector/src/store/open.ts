/**
 * Opens the store the configuration names: the SQLite file by default, or a
 * PostgreSQL server when `PRUUV_DATABASE_URL` (`--database-url`) is set.
 */
import { CollectorError } from '../errors.js';
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
    throw new StoreOpenError('PostgreSQL is not available in this build.');
  }
  return openSqliteStore(target.dbFile, options.now ? { now: options.now } : {});
}
