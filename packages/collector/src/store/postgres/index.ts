/**
 * The PostgreSQL store: every table of the product behind the {@link Store}
 * interface, over one node-postgres pool, for several collectors and workers on
 * one database. Selected by `PRUUV_DATABASE_URL` (see `store/open.ts`).
 */
import type { Store } from '../types.js';
import { watchCatalog, type CatalogWatch } from './catalog.js';
import { createClients } from './clients.js';
import { createConnections } from './connections.js';
import { createOAuth } from './oauth.js';
import { createEvents, type EventsOptions } from './events.js';
import { migratePostgres } from './migrate.js';
import { createOutbox } from './outbox.js';
import { createPixelOrigins } from './pixel-origins.js';
import { createMonitor } from './monitor.js';
import { createPool, type PoolOptions, type StorePool } from './pool.js';
import { createLoginFailures, createSessions, createUsers } from './users.js';
import { createRetention } from './retention.js';
import { createRuns } from './runs.js';
import { createGoogleRequests, createSendLog } from './send-log.js';
import { createStages } from './stages.js';
import { createStats } from './stats.js';
import { createThrottles } from './throttles.js';

export { migratePostgres, POSTGRES_MIGRATIONS_DIR, MIGRATION_LOCK } from './migrate.js';
export { asPostgresUnavailable } from './errors.js';
export type { PoolOptions } from './pool.js';

/** Settings of {@link openPostgresStore}. */
export interface PostgresStoreOptions extends EventsOptions, PoolOptions {
  /** Clock for `created_at` times. Defaults to `() => new Date()`. */
  now?: () => Date;
  /** Run pending migrations first. Defaults to `true`. */
  migrate?: boolean;
}

/** The PostgreSQL store, with its pool (for `pruuv db copy` and tests). */
export interface PostgresStore extends Store {
  readonly engine: 'postgres';
  readonly pool: StorePool;
  readonly catalog: CatalogWatch;
}

/** Where a URL points, for messages: `host:port/database`, never the user or password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname || '/'}`;
  } catch {
    return 'an unparsable PostgreSQL URL';
  }
}

/**
 * Connects, migrates (under an advisory lock) and returns the store.
 *
 * @throws the pool's error when the server cannot be reached (see `openStore` for the message users see),
 *   `SchemaTooNewError`, or `MigrationError`.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const now = options.now ?? (() => new Date());
  const db = createPool(url, options);
  try {
    if (options.migrate ?? true) await migratePostgres(db);
    const catalog = await watchCatalog(url);
    return {
      engine: 'postgres',
      location: describeUrl(url),
      pool: db,
      catalog,
      clients: createClients(db, now, catalog),
      stages: createStages(db, now, catalog),
      events: createEvents(db, options),
      outbox: createOutbox(db),
      connections: createConnections(db),
      oauth: createOAuth(db),
      pixelOrigins: createPixelOrigins(db),
      sends: createSendLog(db),
      googleRequests: createGoogleRequests(db),
      runs: createRuns(db),
      stats: createStats(db),
      users: createUsers(db),
      sessions: createSessions(db),
      loginFailures: createLoginFailures(db),
      throttles: createThrottles(db),
      monitor: createMonitor(db),
      retention: createRetention(db),
      async close() {
        await catalog.close();
        await db.end().catch(() => {});
      },
    };
  } catch (error) {
    await db.end().catch(() => {});
    throw error;
  }
}
