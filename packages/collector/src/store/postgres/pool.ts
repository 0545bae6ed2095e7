/**
 * The store's connection pool (node-postgres `Pool`, owned by this module):
 * parameterised queries only, a client released in `finally`, and every error a
 * retry can cure turned into a `StorageUnavailableError` before it leaves.
 */
import pg from 'pg';
import { asPostgresUnavailable } from './errors.js';

/** What a query answers. */
export type Rows<R> = R[];

/** A query runner: the pool, or one client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, values?: readonly unknown[]): Promise<pg.QueryResult<R>>;
}

/** Options of {@link createPool}. */
export interface PoolOptions {
  /** Connections at most. Defaults to `10`. */
  max?: number;
  /**
   * How long a query waits for a free connection before failing (answered 503).
   * Defaults to `5000` ms.
   */
  waitMs?: number;
  /** Per-statement limit, so no request hangs on a stuck server. Defaults to `30_000` ms. */
  statementTimeoutMs?: number;
}

/** The store's pool and how it runs work on it. */
export interface StorePool {
  readonly pool: pg.Pool;
  /** One statement on any free connection. */
  query<R extends pg.QueryResultRow>(text: string, values?: readonly unknown[]): Promise<pg.QueryResult<R>>;
  /** `BEGIN … COMMIT` on one connection; rolled back when `run` throws. */
  transaction<T>(run: (client: Queryable) => Promise<T>): Promise<T>;
  end(): Promise<void>;
}

function unavailableOr(error: unknown): unknown {
  return asPostgresUnavailable(error) ?? error;
}

/** Creates the pool for `connectionString`. */
export function createPool(connectionString: string, options: PoolOptions = {}): StorePool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.waitMs ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    // A server that restarts drops idle connections: the pool reconnects on the next query.
    idleTimeoutMillis: 30_000,
    application_name: 'pruuv',
  });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return {
    pool,
    async query(text, values) {
      try {
        return await pool.query(text, values as unknown[]);
      } catch (error) {
        throw unavailableOr(error);
      }
    },
    async transaction(run) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw unavailableOr(error);
      }
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await run(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          // The connection is gone: the server rolled the transaction back itself.
          broken = true;
        }
        throw unavailableOr(error);
      } finally {
        client.release(broken);
      }
    },
    end: () => pool.end(),
  };
}
