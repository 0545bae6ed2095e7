/**
 * One database per soak test, on either engine: a real SQLite file in a temp
 * dir, or a fresh database on the run's PostgreSQL 17 (the testkit's global
 * setup). The same checks read both through {@link SoakDatabase.query}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newTestDatabase } from '@pruuv/testkit/database';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore, type OpenStoreOptions, type StoreTarget } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';

export type Engine = 'sqlite' | 'postgres';
export const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];

export interface SoakDatabase {
  engine: Engine;
  /** A temp dir of the test's own (the SQLite file lives in it), removed by `drop`. */
  dir: string;
  target: StoreTarget;
  /** `PRUUV_DB` or `PRUUV_DATABASE_URL`, for `pruuv` child processes. */
  env: Record<string, string>;
  /** Opens (and migrates) a store on it. */
  open(options?: OpenStoreOptions): Promise<Store>;
  /** Runs a read-only query on a connection of its own; `?` placeholders on both engines. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Counts rows: `SELECT count(*) AS n …` as a number on both engines. */
  count(sql: string, params?: unknown[]): Promise<number>;
  drop(): Promise<void>;
}

export async function soakDatabase(engine: Engine): Promise<SoakDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'pruuv-soak-'));
  const dbFile = join(dir, 'pruuv.db');
  let target: StoreTarget = { dbFile };
  let drop = async (): Promise<void> => {};
  let query: SoakDatabase['query'];
  if (engine === 'postgres') {
    const db = await newTestDatabase('pruuv_soak');
    target = { dbFile, databaseUrl: db.url };
    drop = db.drop;
    query = async <T>(sql: string, params: unknown[] = []) => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        let i = 0;
        return (await client.query(sql.replace(/\?/g, () => `$${++i}`), params)).rows as T[];
      } finally {
        await client.end();
      }
    };
  } else {
    query = async <T>(sql: string, params: unknown[] = []) => {
      const db = new Database(dbFile, { readonly: true, fileMustExist: true });
      try {
        return db.prepare(sql).all(...params) as T[];
      } finally {
        db.close();
      }
    };
  }
  return {
    engine,
    dir,
    target,
    env: target.databaseUrl !== undefined ? { PRUUV_DATABASE_URL: target.databaseUrl } : { PRUUV_DB: dbFile },
    open: (options) => openStore(target, options),
    query,
    count: async (sql, params) => Number((await query<{ n: number | string }>(sql, params))[0]?.n),
    async drop() {
      await drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
