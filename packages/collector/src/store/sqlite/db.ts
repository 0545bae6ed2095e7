/**
 * Opens the collector's SQLite database and brings its schema up to date.
 * Migrations are the `.sql` files of the package's `migrations/sqlite/` folder,
 * run in file-name order, each once, recorded in `schema_migrations`. A database
 * that records a migration this code does not have was written by a newer
 * Pruuv: it is refused, never written to.
 */
import { setBusyWait, SYNC_BUSY_WAIT_MS } from './busy.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MigrationError } from '../../errors.js';
import { migrationsDir, newerSchemaError, readMigrations } from '../migrations.js';

/** A better-sqlite3 connection. */
export type Db = Database.Database;

/** First line of a migration that must run with foreign keys off (a table rebuild). */
const FOREIGN_KEYS_OFF = '-- pruuv: foreign-keys off';

/** The package's `migrations/sqlite/` folder. */
export const SQLITE_MIGRATIONS_DIR = migrationsDir('sqlite');

/** Options of {@link openDb}. */
export interface OpenDbOptions {
  /**
   * How long a write waits for another connection's write lock before failing
   * with `SQLITE_BUSY` (answered 503 with `Retry-After`). Defaults to `5000` ms.
   * The store waits from timers, never blocking the event loop for more than
   * `SYNC_BUSY_WAIT_MS` at a time (busy.ts); migrations at start wait synchronously.
   */
  busyTimeoutMs?: number;
  /** Folder of `.sql` migrations. Defaults to the package's `migrations/sqlite/`. */
  migrationsDir?: string;
}

/**
 * Opens (creating its folder) the SQLite file, sets WAL, foreign keys and the
 * busy timeout, and runs the pending migrations. `':memory:'` opens an in-memory database.
 *
 * @throws {SchemaTooNewError} when the file was migrated by a newer Pruuv.
 * @throws {MigrationError} when a migration fails (the database stays at the one before).
 */
export function openDb(file: string, options: OpenDbOptions = {}): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    // Before anything is written: a new file is created in INCREMENTAL mode, so retention sweeps can
    // give freed pages back (`PRAGMA incremental_vacuum`). An existing file is left as it is (a file
    // this version refuses must not change): its mode changes with `pruuv db vacuum` (migration 014).
    if (db.pragma('page_count', { simple: true }) === 0) db.pragma('auto_vacuum = INCREMENTAL');
    // WAL: readers never block the writer and the writer never blocks readers.
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before the 200 is sent, even across a power cut.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    migrate(db, options.migrationsDir ?? SQLITE_MIGRATIONS_DIR);
    // From now on the event loop is serving: wait for the lock in short synchronous tries (busy.ts).
    const waitMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
    db.pragma(`busy_timeout = ${Math.min(SYNC_BUSY_WAIT_MS, waitMs)}`);
    setBusyWait(db, waitMs);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Runs the migrations of `dir` not yet recorded in `schema_migrations`, each in its
 * own `BEGIN IMMEDIATE` transaction (so two processes opening one file at once apply
 * each migration once: the second waits for the lock, then sees it recorded).
 * Returns the names it ran.
 */
export function migrate(db: Db, dir: string = SQLITE_MIGRATIONS_DIR): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const known = readMigrations(dir);
  const appliedNow = (): Set<string> =>
    new Set((db.prepare('SELECT name FROM schema_migrations').all() as { name: string }[]).map((r) => r.name));
  const newer = [...appliedNow()].filter((name) => !known.some((m) => m.name === name));
  if (newer.length > 0) throw newerSchemaError('SQLite database', newer);
  const record = db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)');
  const ran: string[] = [];
  for (const { name, sql } of known) {
    // A migration that rebuilds a table runs with foreign keys off (they cannot change inside a
    // transaction), and checks them before it commits (sqlite.org/lang_altertable.html#otheralter).
    const keysOff = sql.startsWith(FOREIGN_KEYS_OFF);
    if (keysOff && !appliedNow().has(name)) db.pragma('foreign_keys = OFF');
    try {
      const applied = db
        .transaction(() => {
          if (appliedNow().has(name)) return false;
          db.exec(sql);
          if (keysOff) {
            const broken = db.pragma('foreign_key_check') as unknown[];
            if (broken.length > 0) throw new Error(`${broken.length} row(s) would break a foreign key`);
          }
          record.run(name, new Date().toISOString());
          return true;
        })
        .immediate();
      if (applied) ran.push(name);
    } catch (cause) {
      throw new MigrationError(name, { cause });
    } finally {
      if (keysOff) db.pragma('foreign_keys = ON');
    }
  }
  return ran;
}
