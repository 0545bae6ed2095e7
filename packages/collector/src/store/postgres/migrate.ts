/**
 * PostgreSQL migrations: the `.sql` files of `migrations/postgres/`, each in its
 * own transaction, recorded in `schema_migrations`, applied under a session
 * advisory lock so that collectors and workers starting at once never race (the
 * second waits, then finds them applied). A database that records a migration
 * this code does not have was written by a newer Pruuv and is refused.
 */
import { MigrationError } from '../../errors.js';
import { migrationsDir, newerSchemaError, readMigrations } from '../migrations.js';
import type { StorePool } from './pool.js';

/** The package's `migrations/postgres/` folder. */
export const POSTGRES_MIGRATIONS_DIR = migrationsDir('postgres');

/** The advisory lock key of migrations: "pruuv" in ASCII, read as a number. */
export const MIGRATION_LOCK = 0x7072_7575_76;

/** Runs the pending migrations of `dir`; returns the names it ran. */
export async function migratePostgres(store: StorePool, dir: string = POSTGRES_MIGRATIONS_DIR): Promise<string[]> {
  const known = readMigrations(dir);
  const client = await store.pool.connect();
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL)');
      const { rows } = await client.query<{ name: string }>('SELECT name FROM schema_migrations');
      const applied = new Set(rows.map((r) => r.name));
      const newer = [...applied].filter((name) => !known.some((m) => m.name === name));
      if (newer.length > 0) throw newerSchemaError('PostgreSQL database', newer);
      const ran: string[] = [];
      for (const { name, sql } of known) {
        if (applied.has(name)) continue;
        try {
          await client.query('BEGIN');
          await client.query(sql);
          await client.query('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, now())', [name]);
          await client.query('COMMIT');
        } catch (cause) {
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
          throw new MigrationError(name, { cause });
        }
        ran.push(name);
      }
      return ran;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {
        broken = true;
      });
    }
  } finally {
    client.release(broken);
  }
}
