/**
 * PostgreSQL going away under a running collector, and a pool with no free
 * connection: 503 with Retry-After, never a 200 for what was not committed, and
 * back to 200 without a restart once the server returns.
 */
import { mkdtemp, chmod, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, startEmbeddedCluster, type EmbeddedCluster } from '@pruuv/testkit/postgres';
import { newTestDatabase } from '@pruuv/testkit/database';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../src/errors.js';
import { createApp } from '../src/http/app.js';
import { openPostgresStore, type PostgresStore } from '../src/store/postgres/index.js';
import { PAGE_ORIGIN, seedClient } from './helpers/harness.js';
import { beacon as beaconPayload } from './helpers/payloads.js';

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  cleanup = [];
});

async function serve(store: PostgresStore): Promise<string> {
  const server: Server = await new Promise((resolve) => {
    const s = createApp({ store }).listen(0, '127.0.0.1', () => resolve(s));
  });
  cleanup.push(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const webhook = (url: string, stageId: string, token: string, reference: string) =>
  fetch(`${url}/api/webhooks/funnel/${stageId}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reference, gclid: 'Cj0-outage' }),
  });

const beacon = (url: string, site: string, reference: string) =>
  fetch(`${url}/e`, {
    method: 'POST',
    headers: { origin: PAGE_ORIGIN, 'content-type': 'text/plain' },
    body: JSON.stringify(beaconPayload(site, { reference })),
  });

describe('PostgreSQL going away while the collector runs', () => {
  it('answers 503 with Retry-After while it is down, stores nothing, and 200 again once it is back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pruuv-outage-'));
    await chmod(dir, 0o755);
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    let cluster: EmbeddedCluster = await startEmbeddedCluster({ dir: join(dir, 'data'), persistent: true });
    const { port, password } = cluster;
    cleanup.push(() => cluster.stop());
    const db = await createTestDatabase(cluster.adminUrl);
    const store = await openPostgresStore(db.url, { waitMs: 2000 });
    cleanup.push(() => store.close());
    const f = await seedClient(store);
    const url = await serve(store);

    expect((await webhook(url, f.lead.stage.id, f.lead.token, 'before')).status).toBe(200);
    expect((await beacon(url, f.client.site_key, 'pixel-before')).status).toBe(200);

    await cluster.stop();
    const down = await webhook(url, f.lead.stage.id, f.lead.token, 'during');
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await down.json()).toEqual({ error: 'Service unavailable' });
    const pixelDown = await beacon(url, f.client.site_key, 'pixel-during');
    expect(pixelDown.status).toBe(503);

    cluster = await startEmbeddedCluster({ dir: join(dir, 'data'), port, password, persistent: true });
    // The pool reconnects on its own; the first request may still meet a dead idle connection.
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await webhook(url, f.lead.stage.id, f.lead.token, 'after')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    expect((await beacon(url, f.client.site_key, 'pixel-after')).status).toBe(200);

    const references = (await store.events.list({ limit: 10 })).map((e) => e.reference).sort();
    expect(references).toEqual(['after', 'before', 'pixel-after', 'pixel-before']);
    // The catalog listener came back too: caching is on again.
    for (let i = 0; i < 40 && !store.catalog.listening; i++) await new Promise((r) => setTimeout(r, 100));
    expect(store.catalog.listening).toBe(true);
  }, 60_000);
});

describe('a PostgreSQL pool with no free connection', () => {
  it('fails the admission as unavailable after the wait, never hangs', async () => {
    const db = await newTestDatabase();
    cleanup.push(() => db.drop());
    const store = await openPostgresStore(db.url, { max: 1, waitMs: 300 });
    cleanup.push(() => store.close());
    const f = await seedClient(store);
    // The only connection is busy for 3 s.
    const busy = store.pool.query('SELECT pg_sleep(3)');
    const started = Date.now();
    const error = await store.events
      .admit({ id: crypto.randomUUID(), client_id: f.client.id, stage_id: f.lead.stage.id, stage_key: 'lead', source: 'webhook', reference: 'r', consent: 'unspecified', clicks: {}, utm: {}, demographics: {} }, new Date())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
    await busy;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    expect((await client.query('SELECT count(*)::int AS n FROM events')).rows[0]).toEqual({ n: 0 });
    await client.end();
  });
});
