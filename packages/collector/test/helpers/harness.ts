/**
 * Test harness: the real app (createApp) on a real SQLite file in a temp dir,
 * served over real HTTP on 127.0.0.1, port 0, with an injected clock.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type AppOptions } from '../../src/http/app.js';
import { openDb, type Db, type OpenDbOptions } from '../../src/store/sqlite/db.js';
import { createSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import type { Client, Stage, Store } from '../../src/store/types.js';

/** A settable clock. */
export interface TestClock {
  now: () => Date;
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void;
  set(iso: string): void;
}

export function testClock(start = '2026-03-02T10:00:00.000Z'): TestClock {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms;
    },
    set: (iso) => {
      t = Date.parse(iso);
    },
  };
}

/** A temp directory removed by `cleanup`. */
export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'pruuv-collector-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A running collector. */
export interface Running {
  url: string;
  db: Db;
  store: SqliteStore;
  clock: TestClock;
  dbFile: string;
  /** Stops the server (keeps the database open). */
  stop(): Promise<void>;
  /** Stops the server and closes the database. */
  close(): Promise<void>;
}

/** Options of {@link startCollector}. */
export interface StartOptions {
  dbFile: string;
  clock?: TestClock;
  db?: OpenDbOptions;
  app?: Partial<Omit<AppOptions, 'store' | 'now'>>;
  /** Wraps the real store, e.g. to make one method fail. */
  wrapStore?: (store: Store) => Store;
}

/** Opens the db file and serves a fresh app on 127.0.0.1:0. */
export async function startCollector(options: StartOptions): Promise<Running> {
  const clock = options.clock ?? testClock();
  const db = openDb(options.dbFile, options.db);
  const real = createSqliteStore(db, { now: clock.now });
  const store = options.wrapStore ? options.wrapStore(real) : real;
  const app = createApp({ store, now: clock.now, ...options.app });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const stop = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((err) => (err ? reject(err) : resolve()));
    });
  return {
    url: `http://127.0.0.1:${port}`,
    db,
    store: real,
    clock,
    dbFile: options.dbFile,
    stop,
    close: async () => {
      await stop();
      db.close();
    },
  };
}

/** A client with a `lead` and a `sale` stage. */
export interface Fixture {
  client: Client;
  lead: { stage: Stage; token: string };
  sale: { stage: Stage; token: string };
}

export const PAGE_ORIGIN = 'https://www.shop.example';

export async function seedClient(store: Store, origins: string[] = [PAGE_ORIGIN]): Promise<Fixture> {
  const client = await store.clients.create({ name: 'Acme', origins });
  return {
    client,
    lead: await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' }),
    sale: await store.stages.create({ client_id: client.id, key: 'sale', name: 'Sale' }),
  };
}

/** POSTs JSON to the webhook of a stage. */
export function postWebhook(
  run: Running,
  stageId: string,
  token: string | undefined,
  body: unknown,
  init: { contentType?: string; headers?: Record<string, string>; raw?: string | Uint8Array } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': init.contentType ?? 'application/json', ...init.headers };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  return fetch(`${run.url}/api/webhooks/funnel/${stageId}`, {
    method: 'POST',
    headers,
    // The DOM's fetch types (pulled in by the dashboard's JSX) want an ArrayBuffer-backed view.
    body: (init.raw as string | Uint8Array<ArrayBuffer> | undefined) ?? JSON.stringify(body),
  });
}

/** Counts the rows of the events table. */
export function eventCount(db: Db): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
}

/**
 * Admits `count` events for a stage through the store (the route's own
 * admission path, minus HTTP), advancing the clock by `stepMs` after each, in
 * one transaction (one fsync instead of `count`).
 */
export function seedEvents(run: Running, stage: Stage, count: number, stepMs = 0, prefix = 'seed'): void {
  run.db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const admission = run.store.events.admitNow(
        {
          id: randomUUID(),
          client_id: stage.client_id,
          stage_id: stage.id,
          stage_key: stage.key,
          source: 'webhook',
          reference: `${prefix}-${i}`,
          consent: 'unspecified',
          clicks: {},
          utm: {},
          demographics: {},
        },
        run.clock.now(),
      );
      if (admission.status !== 'stored') throw new Error(`seed event ${i} not stored: ${admission.status}`);
      run.clock.advance(stepMs);
    }
  })();
}
