import { newTestDatabase } from '@pruuv/testkit/database';
import type { TestDatabase } from '@pruuv/testkit/postgres';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { SchemaTooNewError } from '../../src/errors.js';
import { migrationsDir, readMigrations } from '../../src/store/migrations.js';
import { openStore, StoreOpenError } from '../../src/store/open.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/index.js';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from '../../src/store/postgres/migrate.js';
import { CLAIM_SQL, COMMIT_ROWS_SQL, OWNED_ROWS_SQL } from '../../src/store/postgres/outbox.js';
import { storeContract, type EngineHarness } from './contract.js';

/** The PostgreSQL engine for the contract: a new database per test; "another process" is a second pool on it. */
function postgresHarness(): EngineHarness {
  let db: TestDatabase | undefined;
  let primary: PostgresStore | undefined;
  const raw = async <T>(run: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: db!.url });
    await client.connect();
    try {
      return await run(client);
    } finally {
      await client.end();
    }
  };
  return {
    name: 'postgres',
    async open(options) {
      db = await newTestDatabase();
      primary = await openPostgresStore(db.url, options);
      return primary;
    },
    openOther: (options) => openPostgresStore(db!.url, options),
    // Notifications arrive in commit order: once our own marker is in, every earlier change is.
    async propagation() {
      const before = primary!.catalog.current();
      await raw((c) => c.query("SELECT pg_notify('pruuv_catalog', 'marker')"));
      const deadline = Date.now() + 5000;
      while (primary!.catalog.current() === before) {
        if (Date.now() > deadline) throw new Error('no catalog notification within 5 s');
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async breakOutbox(platform) {
      await raw(async (c) => {
        await c.query(`CREATE FUNCTION fail_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.platform = '${platform}' THEN RAISE EXCEPTION 'outbox down'; END IF; RETURN NEW; END; $$`);
        await c.query('CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION fail_outbox()');
      });
    },
    async rows(table) {
      return raw(async (c) => (await c.query(`SELECT * FROM ${table}`)).rows as Array<Record<string, unknown>>);
    },
    async backfillAgain() {
      await raw((c) => c.query("DROP TABLE daily_events; DROP TABLE daily_sends; DELETE FROM schema_migrations WHERE name = '003_daily_counts.sql'"));
      expect(await migratePostgres(primary!.pool)).toEqual(['003_daily_counts.sql']);
    },
    async cleanup() {
      await db?.drop();
      db = undefined;
      primary = undefined;
    },
  };
}

describe('PostgreSQL store: the storage contract', () => {
  storeContract(postgresHarness());
});

describe('PostgreSQL store: the database', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it('migrates once when several processes start at once', async () => {
    db = await newTestDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(db!.url)));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ name: string }>('SELECT name FROM schema_migrations');
    await client.end();
    // Each migration of the folder, once.
    expect(rows.map((r) => r.name)).toEqual(readMigrations(migrationsDir('postgres')).map((m) => m.name));
    for (const s of stores) await s.close();
  });

  it('refuses a database migrated by a newer Pruuv', async () => {
    db = await newTestDatabase();
    const first = await openPostgresStore(db.url);
    await first.pool.query("INSERT INTO schema_migrations (name, applied_at) VALUES ('999_from_the_future.sql', now())");
    await first.close();
    await expect(openPostgresStore(db.url)).rejects.toThrow(SchemaTooNewError);
    await expect(openStore({ dbFile: 'unused.db', databaseUrl: db.url })).rejects.toThrow(/newer version of Pruuv.*999_from_the_future\.sql/);
  });

  it('names the host and database of a server it cannot reach, never the password', async () => {
    const url = 'postgres://pruuv:s3cret-Passw0rd@127.0.0.1:9/pruuv_prod';
    const error = await openStore({ dbFile: 'unused.db', databaseUrl: url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreOpenError);
    expect((error as Error).message).toMatch(/Cannot reach the PostgreSQL database 127\.0\.0\.1:9\/pruuv_prod \(ECONNREFUSED\)/);
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('leases and commits a batch through indexes, whatever the outbox already holds', async () => {
    // 60,000 finished outbox rows and 1,000 due ones, with statistics taken while nothing was
    // leased (as autovacuum finds it: leases are brief). A plan that scans the outbox costs a
    // pass time in proportion to the history, and the commit's scan joined by nested loop also
    // costs the batch size squared.
    db = await newTestDatabase();
    const store = await openPostgresStore(db.url);
    const client = await store.clients.create({ name: 'Plans' });
    const stage = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
    await store.pool.query(
      `INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, consent)
       SELECT 'e' || i, $1, $2, 'lead', 'webhook', 'r' || i, now(), 0, 'granted' FROM generate_series(1, 21000) AS i`,
      [client.id, stage.id],
    );
    await store.pool.query(
      `INSERT INTO outbox (event_id, client_id, platform, status, due_at, created_at, updated_at)
       SELECT e.id, e.client_id, p, CASE WHEN substr(e.id, 2)::int <= 20000 THEN 'sent' ELSE 'pending' END, now() - interval '1 hour', now(), now()
       FROM events e, unnest(ARRAY['meta', 'google', 'tiktok']) AS p WHERE substr(e.id, 2)::int <= 20000 OR p = 'meta'`,
    );
    await store.pool.query('VACUUM ANALYZE outbox');
    const now = new Date();
    const explain = async (sql: string, params: unknown[]): Promise<string[]> => {
      const { rows } = await store.pool.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
      const scans: string[] = [];
      const walk = (node: Record<string, unknown>): void => {
        if (node['Relation Name'] === 'outbox') scans.push(`${String(node['Alias'])}: ${String(node['Node Type'])}`);
        // A nested loop that filters each pair instead of looking the inner row up costs outer × inner.
        if (node['Node Type'] === 'Nested Loop' && node['Join Filter'] !== undefined) scans.push(`nested loop filtering ${String(node['Join Filter'])}`);
        if (node['Relation Name'] === 'outbox' && node['Node Type'] !== 'ModifyTable') scans.push(`${String(node['Alias'])} expected rows: ${String(node['Plan Rows'])}`);
        for (const child of (node['Plans'] as Array<Record<string, unknown>> | undefined) ?? []) walk(child);
      };
      walk((rows[0]!['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0]!.Plan);
      return scans;
    };
    const claimParams = ['plans', new Date(now.getTime() + 3_600_000), now, now, false, 1000];
    // The due rows are found through the partial index \`outbox_due\`; joining the 1,000 picked ids
    // back to the table is the planner's choice by cost (a hash join over a small table).
    const claimScans = await explain(CLAIM_SQL, claimParams);
    expect(claimScans.filter((scan) => scan.startsWith('d: '))).toEqual([expect.stringMatching(/^d: (Index|Index Only|Bitmap Heap) Scan$/)]);
    const claimed = await store.outbox.claim({ owner: 'plans', now, cutoff: now, leaseUntil: new Date(now.getTime() + 3_600_000), limit: 1000, retriesOnly: false });
    expect(claimed).toHaveLength(1000);
    const ids = claimed.map((c) => c.id);
    expect(await explain(OWNED_ROWS_SQL, [ids, 'plans'])).not.toContain('outbox: Seq Scan');
    const commitParams = [now, ids, ids.map(() => 'sent'), ids.map(() => null), ids.map(() => 1), ids.map(() => now), ids.map(() => null), ids.map(() => true)];
    const commitPlan = await explain(COMMIT_ROWS_SQL, commitParams);
    expect(commitPlan).not.toContain('o: Seq Scan');
    expect(commitPlan.filter((line) => line.startsWith('nested loop filtering'))).toEqual([]);
    // The planner knows it updates about a thousand rows (a leased-row test would make it expect one).
    const expected = Number(commitPlan.find((line) => line.startsWith('o expected rows: '))?.slice('o expected rows: '.length));
    expect(expected).toBeGreaterThanOrEqual(500);
    await store.close();
  });
});
