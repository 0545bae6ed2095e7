/**
 * A store of either engine for a test that runs on both: a new SQLite file or a new PostgreSQL
 * database (embedded, through the testkit), raw reads of what it stored, and a close that removes it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newTestDatabase } from '@pruuv/testkit/database';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { openDb } from '../../src/store/sqlite/db.js';
import { createSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';

/** What {@link openEngineStore} gives. */
export interface EngineStore {
  store: Store;
  /** Rows of a query written with `$1…` placeholders (SQLite's `?` on SQLite). */
  rows(sql: string, ...params: unknown[]): Promise<Array<Record<string, unknown>>>;
  /** Closes the store and removes its file or database. */
  close(): Promise<void>;
}

/** Opens a new store of `engine` named after `name`, on the test's clock, with the hourly quota out of the way. */
export async function openEngineStore(engine: 'sqlite' | 'postgres', name: string, now: () => Date): Promise<EngineStore> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), `pruuv-${name}-`));
    const db = openDb(join(dir, 'store.db'));
    return {
      store: createSqliteStore(db, { now, perHour: 10_000_000 }),
      rows: async (sql, ...params) => db.prepare(sql.replace(/\$\d+/g, '?')).all(...params) as Array<Record<string, unknown>>,
      async close() {
        if (db.open) db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const database = await newTestDatabase(`pruuv_${name.replace(/-/g, '_')}`);
  const store = await openPostgresStore(database.url, { now, perHour: 10_000_000 });
  return {
    store,
    rows: async (sql, ...params) => (await store.pool.query(sql, params)).rows as Array<Record<string, unknown>>,
    async close() {
      await store.close();
      await database.drop();
    },
  };
}
