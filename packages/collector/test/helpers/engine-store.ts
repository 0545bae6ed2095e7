/**
 * A store of either engine for a test that runs on both: a new SQLite file or a new PostgreSQL
 * database (embedded, through the testkit), raw reads of what it stored, and a close that removes it;
 * and a world to send from over it (the strict fakes, a client, a stage, a send config).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newTestDatabase } from '@pruuv/testkit/database';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { openDb } from '../../src/store/sqlite/db.js';
import { createSqliteStore } from '../../src/store/sqlite/index.js';
import type { Client, NewEvent, Stage, Store, StoredEvent } from '../../src/store/types.js';
import { DEFAULT_VERSIONS, parseKeyRing, type KeyRing, type PassReport } from '@pruuv/sender';
import { startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { createConnections, type Connections } from '../../src/domain/connections.js';
import { DEFAULT_SEND_CRON, type SendConfig } from '../../src/send/send-config.js';
import { createSender } from '../../src/send/sender.js';
import { newKey } from '../send-helpers.js';
import { testClock, type TestClock } from './harness.js';

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

/** A store of either engine with what a two-engine send test drives: {@link openSendWorld}. */
export interface SendWorld extends EngineStore {
  clock: TestClock;
  fakes: FakePlatforms;
  connections: Connections;
  ring: KeyRing;
  client: Client;
  lead: Stage;
  /** Admits a webhook event of the client's `lead` stage now, with the world's click IDs, overridden by `o`. */
  addEvent(o?: Partial<NewEvent>): Promise<StoredEvent>;
  /** A whole send pass, as `pruuv send` runs it, against the strict fakes. */
  pass(): Promise<PassReport>;
}

/**
 * Opens a {@link SendWorld}: a store of `engine` on a test clock, the strict fake platforms, a key
 * ring, one client with a `lead` stage, and a send config pointing at the fakes (`connectionDefaults`
 * the operator's app fields, e.g. Microsoft's). `clicks` gives a new event's click IDs from the
 * time of its click (two hours before it).
 */
export async function openSendWorld(
  engine: 'sqlite' | 'postgres',
  name: string,
  options: { clicks: (clickTs: string) => NewEvent['clicks']; connectionDefaults?: SendConfig['connectionDefaults'] },
): Promise<SendWorld> {
  const clock = testClock('2026-11-20T10:00:00.000Z');
  const { store, rows, close: closeStore } = await openEngineStore(engine, name, clock.now);
  const fakes = await startFakePlatforms({ now: clock.now });
  const ring = parseKeyRing(newKey());
  const connections = createConnections(store, { now: clock.now });
  const client = await store.clients.create({ name: 'Acme' });
  const lead = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
  const config: SendConfig = {
    keyRing: ring,
    cron: DEFAULT_SEND_CRON,
    urls: { ...fakes.urls },
    ...(options.connectionDefaults !== undefined ? { connectionDefaults: options.connectionDefaults } : {}),
    versions: { meta: DEFAULT_VERSIONS.meta, googleAds: DEFAULT_VERSIONS.googleAds },
  };
  return {
    store, rows, clock, fakes, connections, ring, client, lead,
    async addEvent(o = {}) {
      const at = clock.now();
      const event: NewEvent = {
        id: randomUUID(), client_id: client.id, stage_id: lead.id, stage_key: lead.key, source: 'webhook', reference: `crm-${randomUUID()}`,
        consent: 'granted',
        clicks: options.clicks(new Date(at.getTime() - 2 * 3_600_000).toISOString()),
        utm: {}, demographics: {},
        ...o,
      };
      const result = await store.events.admit(event, at);
      if (result.status !== 'stored') throw new Error(`event not stored: ${result.status}`);
      return result.event;
    },
    pass: async () => (await createSender({ store, config, now: clock.now, random: () => 0.5, timeoutMs: 2_000 })).runPass({ retriesOnly: false }),
    async close() {
      await fakes.close();
      await closeStore();
    },
  };
}
