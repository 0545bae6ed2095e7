/**
 * Versioned migrations, one folder per engine (`migrations/sqlite/`,
 * `migrations/postgres/` at the package root, shipped with the package): `.sql`
 * files applied in file-name order, each once, recorded by name in the engine's
 * `schema_migrations` table.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SchemaTooNewError } from '../errors.js';

/** The package root: the folder holding this package's package.json, from `src/` and `dist/` alike. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json of @pruuv/collector not found above its modules');
    dir = up;
  }
  return dir;
}

/** The migrations folder of an engine. */
export function migrationsDir(engine: 'sqlite' | 'postgres'): string {
  return join(packageRoot(), 'migrations', engine);
}

/** One migration file. */
export interface Migration {
  /** File name, e.g. `001_init.sql`: the key recorded in `schema_migrations`. */
  name: string;
  sql: string;
}

/** The `.sql` files of `dir`, in the order they apply. */
export function readMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') }));
}

/** The error for a database that records migrations this code does not have. */
export function newerSchemaError(what: string, unknown: readonly string[]): SchemaTooNewError {
  return new SchemaTooNewError(
    `The ${what} was migrated by a newer version of Pruuv (it has ${unknown.join(', ')}, which this version does not know). ` +
      'Run the newer version, or restore a backup taken before the upgrade; this version never writes to it.',
  );
}
