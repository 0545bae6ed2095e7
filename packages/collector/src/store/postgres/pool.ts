/**
 * The store's connection pool (node-postgres `Pool`, owned by this module):
 * parameterised queries only, a client released in `finally`, and every error a
 * retry can cure turned into a `StorageUnavailableError` before it leaves.
 */
import pg from 'pg';
import { asPostgresUnavailable } from './errors.js';

/** What a query answers. */
export type Rows<R> = R[];

/** A statement: text, or a named (prepared once per connection) statement with its values. */
export type Statement = string | { name: string; text: string; values?: unknown[] };

/** A query runner: the pool, or one client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(statement: Statement, values?: readonly unknown[]): Promise<pg.QueryResult<R>>;
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
  query<R extends pg.QueryResultRow>(statement: Statement, values?: readonly unknown[]): Promise<pg.QueryResult<R>>;
  /**
   * `BEGIN … COMMIT` on one connection; rolled back when `run` throws. `begin` replaces the
   * `BEGIN` (e.g. with a lock taken in the same round trip); it must start with `BEGIN`.
   */
  transaction<T>(run: (client: Queryable) => Promise<T>, options?: { begin?: string }): Promise<T>;
  /**
   * `begin`, the statements and `COMMIT`, written at once (pipeline mode: one round trip)
   * and executed in order on one connection; resolves with the statements' results. When one
   * fails, the server has aborted the transaction (the `COMMIT` only ends it): every change is
   * undone and the first error is thrown.
   */
  pipelined(statements: readonly Statement[], begin: string): Promise<pg.QueryResult[]>;
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
    // Statements written before the previous answer came back (`pipelined`); one at a time otherwise.
    pipeline: true,
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
    async query<R extends pg.QueryResultRow>(statement: Statement, values?: readonly unknown[]) {
      try {
        return typeof statement === 'string' ? await pool.query<R>(statement, values as unknown[]) : await pool.query<R>(statement);
      } catch (error) {
        throw unavailableOr(error);
      }
    },
    async transaction(run, options = {}) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw unavailableOr(error);
      }
      let broken = false;
      try {
        await client.query(options.begin ?? 'BEGIN');
        const result = await run(client as unknown as Queryable);
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
    async pipelined(statements, begin) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw unavailableOr(error);
      }
      const sent: Array<Promise<pg.QueryResult>> = [
        client.query(begin),
        ...statements.map((st) => (typeof st === 'string' ? client.query(st) : client.query(st))),
        client.query('COMMIT'),
      ];
      const settled = await Promise.allSettled(sent);
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      const lost = failed !== undefined && asPostgresUnavailable(failed.reason) !== undefined;
      if (failed !== undefined && !lost) {
        // A statement failed: the transaction is aborted and COMMIT answered ROLLBACK. Make sure.
        await client.query('ROLLBACK').catch(() => {});
      }
      client.release(lost);
      if (failed !== undefined) throw unavailableOr(failed.reason);
      return settled.slice(1, -1).map((r) => (r as PromiseFulfilledResult<pg.QueryResult>).value);
    },
    end: () => pool.end(),
  };
}
