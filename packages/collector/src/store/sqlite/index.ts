/**
 * The SQLite store: every table of the product behind the {@link Store}
 * interface, over one better-sqlite3 connection. The embedded default: one
 * file, one process writing (several may share the file; writes serialise on
 * SQLite's lock). Statements are prepared once, when the store is created.
 */
import type { Store } from '../types.js';
import { busyWaitOf, withBusyRetry } from './busy.js';
import { createCatalogVersion } from './catalog-version.js';
import { createClients } from './clients.js';
import { createConnections } from './connections.js';
import { createOAuth } from './oauth.js';
import { openDb, type Db, type OpenDbOptions } from './db.js';
import { createEvents, type EventsOptions, type SqliteEvents } from './events.js';
import { createMonitor } from './monitor.js';
import { createOutbox } from './outbox.js';
import { createPixelOrigins } from './pixel-origins.js';
import { createRetention } from './retention.js';
import { createRuns } from './runs.js';
import { createGoogleRequests, createSendLog } from './send-log.js';
import { createStages } from './stages.js';
import { createStats } from './stats.js';
import { createThrottles } from './throttles.js';
import { createLoginFailures, createSessions, createUsers } from './users.js';

export { openDb, migrate, SQLITE_MIGRATIONS_DIR } from './db.js';
export type { Db, OpenDbOptions } from './db.js';

/** Settings of {@link createSqliteStore}. */
export interface SqliteStoreOptions extends EventsOptions {
  /** How long a write may wait for another connection's lock, from timers (busy.ts). Defaults to `openDb`'s `busyTimeoutMs`. */
  busyTimeoutMs?: number;
  /** Clock for `created_at` times. Defaults to `() => new Date()`. */
  now?: () => Date;
  /** Where the file is, for messages. Defaults to the connection's file name. */
  location?: string;
}

/** The SQLite store, with its connection (for tests, backups and `pruuv db copy`). */
export interface SqliteStore extends Store {
  readonly engine: 'sqlite';
  readonly db: Db;
  readonly events: SqliteEvents;
}

/** Creates the store over an open database (see {@link openDb}). Closing the store closes the connection. */
export function createSqliteStore(db: Db, options: SqliteStoreOptions = {}): SqliteStore {
  const now = options.now ?? (() => new Date());
  const daily = createStats(db);
  const { outbox, enqueue } = createOutbox(db, daily.countSends);
  const catalog = createCatalogVersion(db);
  const waitMs = options.busyTimeoutMs ?? busyWaitOf(db);
  const retried = <T extends object>(part: T): T => withBusyRetry(part, waitMs);
  const events = createEvents(db, enqueue, daily.countEvent, { ...options, busyWaitMs: waitMs });
  return {
    engine: 'sqlite',
    location: options.location ?? db.name,
    db,
    clients: retried(createClients(db, now, catalog)),
    stages: retried(createStages(db, now, catalog)),
    // Admissions wait in the group commit (group-commit.ts), reads never wait in WAL mode.
    events: { ...events, ...retried({ release: events.release, heldCounts: events.heldCounts }) },
    outbox: retried(outbox),
    connections: retried(createConnections(db)),
    oauth: retried(createOAuth(db)),
    pixelOrigins: retried(createPixelOrigins(db)),
    sends: retried(createSendLog(db)),
    googleRequests: retried(createGoogleRequests(db)),
    runs: retried(createRuns(db)),
    stats: retried(daily.stats),
    users: retried(createUsers(db)),
    sessions: retried(createSessions(db)),
    loginFailures: retried(createLoginFailures(db)),
    throttles: retried(createThrottles(db)),
    // Readiness must answer at once: its lock probe never waits (health.ts).
    monitor: createMonitor(db),
    retention: retried(createRetention(db)),
    async close() {
      if (db.open) db.close();
    },
  };
}

/**
 * Opens (creating it) the SQLite file at `file`, migrates it and returns its store.
 *
 * @throws {SchemaTooNewError} when the file was migrated by a newer Pruuv.
 * @throws {MigrationError} when a migration fails.
 */
export function openSqliteStore(file: string, options: SqliteStoreOptions & OpenDbOptions = {}): SqliteStore {
  return createSqliteStore(openDb(file, options), { ...options, location: options.location ?? file });
}
