/**
 * Errors of the collector. Every error it throws is a {@link CollectorError},
 * one subclass per failure kind; messages say what failed and where, and for a
 * user's mistake, how to fix it.
 */

/** Base class of every error the collector throws. */
export class CollectorError extends Error {
  override name = 'CollectorError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A migration file failed to apply; the database is left at the previous migration. */
export class MigrationError extends CollectorError {
  override name = 'MigrationError';
  constructor(
    /** File name of the migration, e.g. `001_init.sql`. */
    readonly migration: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Migration ${migration} failed: ${options?.cause instanceof Error ? options.cause.message : String(options?.cause)}`,
      options,
    );
  }
}

/**
 * The database was migrated by a newer version of Pruuv. Refused at start, never
 * written to: an older schema reader could corrupt what it does not know.
 */
export class SchemaTooNewError extends CollectorError {
  override name = 'SchemaTooNewError';
}

/** A value given to the store (CLI, admin API) is invalid; the message says how to fix it. */
export class InvalidInputError extends CollectorError {
  override name = 'InvalidInputError';
}

/**
 * The database cannot take a write right now (disk full, locked by another
 * writer past the busy timeout, a PostgreSQL server unreachable or its pool
 * exhausted past the wait). Answered with 503 and `Retry-After`: the sender
 * keeps the event and tries again, so nothing is lost.
 */
export class StorageUnavailableError extends CollectorError {
  override name = 'StorageUnavailableError';
  constructor(
    /** The engine's error code, e.g. `SQLITE_BUSY`, `SQLITE_FULL`, `ECONNREFUSED`, `57P01`. */
    readonly code: string,
    /** Seconds the caller should wait before retrying. */
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(`Database unavailable (${code}); retry in ${retryAfterSeconds} s`, options);
  }
}

/**
 * Maps a database error to {@link StorageUnavailableError} when it is one a retry
 * can cure (SQLite: disk full, busy, locked); returns `undefined` for any other
 * error. The PostgreSQL store maps its own (`store/postgres/errors.ts`).
 */
export function asStorageUnavailable(error: unknown): StorageUnavailableError | undefined {
  if (error instanceof StorageUnavailableError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  // Extended codes keep the primary code as prefix (SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED_SHAREDCACHE…).
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StorageUnavailableError(code, 1, { cause: error });
  }
  // A full disk is not cured in a second; a minute lets an operator (or log rotation) free space.
  if (code === 'SQLITE_FULL') return new StorageUnavailableError(code, 60, { cause: error });
  return undefined;
}
