/**
 * Opens the collector's SQLite database and brings its schema up to date.
 * Migrations are the `.sql` files of the package's `migrations/` folder, run in
 * file-name order, each once, recorded in `schema_migrations`.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { MigrationError } from './errors.js';

/** A better-sqlite3 connection. */
export type Db = Database.Database;

/**
 * The package's `migrations/` folder. Resolved from this module's own location,
 * one level up, which is the package root both from `src/` (tests) and `dist/`.
 */
export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

/** Options of {@link openDb}. */
export interface OpenDbOptions {
  /**
   * How long a write waits for another connection's write lock before failing
   * with `SQLITE_BUSY` (answered 503 with `Retry-After`). Defaults to `5000` ms.
   */
  busyTimeoutMs?: number;
  /** Folder of `.sql` migrations. Defaults to the package's `migrations/`. */
  migrationsDir?: string;
}

/**
 * Opens (creating its folder) the SQLite file, sets WAL, foreign keys and the
 * busy timeout, and runs the pending migrations. `':memory:'` opens an in-memory database.
 */
export function openDb(file: string, options: OpenDbOptions = {}): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    // WAL: readers never block the writer and the writer never blocks readers.
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before the 200 is sent, even across a power cut.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    migrate(db, options.migrationsDir ?? MIGRATIONS_DIR);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Runs the migrations of `dir` not yet recorded in `schema_migrations`, each in its own transaction. */
export function migrate(db: Db, dir: string = MIGRATIONS_DIR): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT name FROM schema_migrations').all() as { name: string }[]).map((r) => r.name),
  );
  const record = db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)');
  const ran: string[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    if (applied.has(name)) continue;
    const sql = readFileSync(join(dir, name), 'utf8');
    try {
      db.transaction(() => {
        db.exec(sql);
        record.run(name, new Date().toISOString());
      }).immediate();
    } catch (cause) {
      throw new MigrationError(name, { cause });
    }
    ran.push(name);
  }
  return ran;
}
