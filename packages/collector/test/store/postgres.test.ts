import { newTestDatabase } from '@pruuv/testkit/database';
import type { TestDatabase } from '@pruuv/testkit/postgres';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { SchemaTooNewError } from '../../src/errors.js';
import { migrationsDir, readMigrations } from '../../src/store/migrations.js';
import { openStore, StoreOpenError } from '../../src/store/open.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/index.js';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from '../../src/store/postgres/migrate.js';
import { eventSearchSql } from '../../src/store/postgres/events.js';
import { CLAIM_SQL, COMMIT_ROWS_SQL, DUE_SQL, OWNED_ROWS_SQL, RETRY_NOW_SQL } from '../../src/store/postgres/outbox.js';
import { PICK_SQL, USER_AGENTS_PER_BATCH } from '../../src/store/postgres/retention.js';
import { FINAL_STATUSES } from '../../src/domain/outbox.js';
import { sendSearchSql } from '../../src/store/postgres/send-log.js';
import type { Direction, Position } from '../../src/store/keyset.js';
import type { EventSearch, SendSearch } from '../../src/store/types.js';
import { expectOldRecordsListed, NOW, newEvent, OLD_EVENT, OLD_RECORD_TIMES, OLD_ROW, oldRecordClient, oldRecordStatus, storeContract, type EngineHarness } from './contract.js';
import { createPool } from '../../src/store/postgres/pool.js';

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
      // The audit records as the backfill met them (before 026 named their client by its id).
      await raw((c) => c.query('UPDATE send_attempts a SET client_id = c.id FROM clients c WHERE c.key = a.client_key'));
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

  it("migrates a database whose outbox rows store their client and creation time, reads the old rows as before and stores neither on new ones", async () => {
    db = await newTestDatabase();
    // The database as it was before 022: migrations up to 021 only, and a row that stores both.
    const old = mkdtempSync(join(tmpdir(), 'pruuv-pg-before-022-'));
    try {
      for (const f of readdirSync(POSTGRES_MIGRATIONS_DIR).filter((n) => n < '022')) copyFileSync(join(POSTGRES_MIGRATIONS_DIR, f), join(old, f));
      const before = await openPostgresStore(db.url, { migrate: false });
      await migratePostgres(before.pool, old);
      await before.pool.query(`INSERT INTO clients (id, name, site_key, created_at) VALUES ('cli_1', 'A', 'site_1', '2026-01-01T00:00:00Z');
        INSERT INTO stages (id, client_id, key, name, token_hash, created_at) VALUES ('stg_1', 'cli_1', 'lead', 'Lead', 'h', '2026-01-01T00:00:00Z');
        INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, consent)
          VALUES ('e1', 'cli_1', 'stg_1', 'lead', 'webhook', 'r', '2026-01-01T00:00:00Z', 0, 'granted');
        INSERT INTO outbox (id, event_id, client_id, platform, status, due_at, attempts, created_at, updated_at) OVERRIDING SYSTEM VALUE
          VALUES (7, 'e1', 'cli_1', 'meta', 'sent', '2026-01-01T00:00:00Z', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z'),
                 (8, 'e1', 'cli_1', 'tiktok', 'pending', '2026-01-01T00:00:00Z', 0, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
        SELECT setval(pg_get_serial_sequence('outbox', 'id'), 8);`);
      await before.close();
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
    const store = await openPostgresStore(db.url);
    try {
      expect((await store.outbox.forEvent('e1')).map((r) => [r.id, r.client_id, r.status, r.finished_at])).toEqual([
        [7, 'cli_1', 'sent', '2026-01-01T00:01:00.000Z'],
        [8, 'cli_1', 'pending', undefined],
      ]);
      const kept = await store.pool.query<{ client_id: string; created_at: Date }>('SELECT client_id, created_at FROM outbox WHERE id = 7');
      expect(kept.rows).toEqual([{ client_id: 'cli_1', created_at: new Date('2026-01-01T00:00:00Z') }]);
      const event = { id: crypto.randomUUID(), client_id: 'cli_1', stage_id: 'stg_1', stage_key: 'lead', source: 'webhook' as const, reference: 'new', consent: 'unspecified' as const, clicks: {}, utm: {}, demographics: {} };
      expect((await store.events.admit(event, new Date('2026-01-01T00:00:00Z'))).status).toBe('stored');
      const fresh = await store.pool.query('SELECT DISTINCT client_id, created_at FROM outbox WHERE event_id = $1', [event.id]);
      expect(fresh.rows).toEqual([{ client_id: null, created_at: null }]);
      const claimed = await store.outbox.claim({ owner: 'me', now: new Date('2026-01-02'), cutoff: new Date('2026-01-02'), leaseUntil: new Date('2026-01-03'), limit: 100, retriesOnly: false });
      expect(new Set(claimed.map((c) => c.client_id))).toEqual(new Set(['cli_1']));
      expect(claimed.map((c) => c.id)).toContain(8);
    } finally {
      await store.close();
    }
  });

  it("migrates a database whose audit records name their client by its id to the client's key, and reads and lists them as before", async () => {
    db = await newTestDatabase();
    // The database as it was before 026: records of two clients, times not in id order, some
    // `sent`, some not, and one of a client the database does not know.
    const old = mkdtempSync(join(tmpdir(), 'pruuv-pg-before-026-'));
    const times = OLD_RECORD_TIMES;
    const clientOf = oldRecordClient;
    let rowsBefore: Array<Record<string, unknown>>;
    try {
      for (const f of readdirSync(POSTGRES_MIGRATIONS_DIR).filter((n) => n < '026')) copyFileSync(join(POSTGRES_MIGRATIONS_DIR, f), join(old, f));
      const before = await openPostgresStore(db.url, { migrate: false });
      await migratePostgres(before.pool, old);
      await before.pool.query(`INSERT INTO clients (id, name, site_key, created_at) VALUES ('cli_1', 'A', 'site_1', '2026-01-01T00:00:00Z'), ('cli_2', 'B', 'site_2', '2026-01-01T00:00:00Z')`);
      for (const [i, t] of times.entries()) {
        await before.pool.query(
          `INSERT INTO send_attempts (outbox_id, event_id, client_id, stage_id, platform, attempted_at, status, reason, dedup_key, retry_count)
           VALUES (NULL, $1, $2, 'stg_x', 'meta', $3, $4, 'r', 'k', 0)`,
          [`e${i}`, clientOf(i), t, oldRecordStatus(i)],
        );
      }
      rowsBefore = (await before.pool.query('SELECT * FROM send_attempts ORDER BY id')).rows;
      await before.close();
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
    const store = await openPostgresStore(db.url);
    try {
      // Every record as it was, its client now named by its key (but the one the database does not know).
      const keys = new Map((await store.pool.query<{ id: string; key: number }>('SELECT id, key FROM clients')).rows.map((c) => [c.id, c.key]));
      expect(new Set(keys.values()).size).toBe(2);
      const stored = (await store.pool.query('SELECT * FROM send_attempts ORDER BY id')).rows;
      expect(stored.map((r) => [r['client_id'], r['client_key']])).toEqual(times.map((_, i) => (i === 6 ? ['cli_gone', null] : [null, keys.get(clientOf(i))])));
      const idOf = new Map([...keys].map(([id, key]) => [key, id]));
      expect(stored.map(({ client_key, ...r }) => ({ ...r, client_id: r['client_id'] ?? idOf.get(client_key as number) }))).toEqual(rowsBefore);
      for (const name of ['send_attempts_client_time', 'send_attempts_client_status_time']) {
        const { rows } = await store.pool.query<{ indexdef: string }>('SELECT indexdef FROM pg_indexes WHERE indexname = $1', [name]);
        expect(rows[0]?.indexdef).toMatch(/\(client_key, /);
      }
      await expectOldRecordsListed(store);
      // A client added after takes a key of its own.
      const added = await store.clients.create({ name: 'C' });
      const { rows } = await store.pool.query<{ key: number }>('SELECT key FROM clients WHERE id = $1', [added.id]);
      expect([...keys.values()]).not.toContain(rows[0]!.key);
    } finally {
      await store.close();
    }
  });

  it('reads an event written before user agents and hashes were stored once as it was', async () => {
    db = await newTestDatabase();
    const old = mkdtempSync(join(tmpdir(), 'pruuv-before-020-'));
    try {
      for (const f of readdirSync(POSTGRES_MIGRATIONS_DIR).filter((n) => n < '020')) copyFileSync(join(POSTGRES_MIGRATIONS_DIR, f), join(old, f));
      const pool = createPool(db.url);
      await migratePostgres(pool, old);
      await pool.pool.query(`INSERT INTO clients (id, name, site_key, created_at) VALUES ('cli_1', 'A', 'site_1', '2026-01-01T00:00:00.000Z');
        INSERT INTO stages (id, client_id, key, name, token_hash, created_at) VALUES ('stg_1', 'cli_1', 'lead', 'Lead', 'h', '2026-01-01T00:00:00.000Z')`);
      const columns = Object.keys(OLD_ROW);
      await pool.pool.query(`INSERT INTO events (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(OLD_ROW));
      await pool.end();
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
    const store = await openPostgresStore(db.url, { now: () => NOW });
    try {
      expect(await store.events.get('e-old')).toEqual(OLD_EVENT);
      // A new event with the same user agent stores it once; the old row keeps its text and reads the same.
      const fresh = newEvent('stg_1', 'cli_1', { reference: 'new', source: 'pixel', user_agent: OLD_EVENT.user_agent! });
      expect((await store.events.admit(fresh, NOW)).status).toBe('stored');
      expect((await store.pool.query('SELECT user_agent FROM user_agents')).rows).toEqual([{ user_agent: OLD_EVENT.user_agent }]);
      expect((await store.pool.query("SELECT user_agent, user_agent_key FROM events WHERE id = 'e-old'")).rows).toEqual([{ user_agent: OLD_EVENT.user_agent, user_agent_key: null }]);
      expect((await store.events.get(fresh.id))?.user_agent).toBe(OLD_EVENT.user_agent);
      expect(await store.events.get('e-old')).toEqual(OLD_EVENT);
    } finally {
      await store.close();
    }
  });

  it('removes user agents no event names and no admission used since the cutoff, a batch at a time, and keeps the others', async () => {
    db = await newTestDatabase();
    const store = await openPostgresStore(db.url, { now: () => NOW });
    try {
      const cutoff = new Date(NOW.getTime() - 180 * 86_400_000);
      // Orphans an admission left (added for an event it then refused), old and recent.
      await store.pool.query(
        `INSERT INTO user_agents (user_agent, last_ms) SELECT 'old orphan ' || i, $1::bigint - 1000 - i FROM generate_series(0, $2::int + 4) AS i`,
        [cutoff.getTime(), USER_AGENTS_PER_BATCH],
      );
      await store.pool.query(`INSERT INTO user_agents (user_agent, last_ms) VALUES ('recent orphan', $1)`, [cutoff.getTime()]);
      const client = await store.clients.create({ name: 'A' });
      const { stage } = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
      // An old user agent an event still names (its event is kept: its rows are due).
      await store.events.admit(newEvent(stage.id, client.id, { source: 'pixel', user_agent: 'named' }), new Date(cutoff.getTime() - 86_400_000));
      const names = async () => (await store.pool.query<{ user_agent: string }>('SELECT user_agent FROM user_agents ORDER BY user_agent')).rows.map((r) => r.user_agent);
      expect((await store.retention.prune({ before: cutoff, limit: 10 })).user_agents).toBe(USER_AGENTS_PER_BATCH);
      expect((await store.retention.prune({ before: cutoff, limit: 10 })).user_agents).toBe(5);
      expect((await store.retention.prune({ before: cutoff, limit: 10 })).user_agents).toBe(0);
      expect(await names()).toEqual(['named', 'recent orphan']);
    } finally {
      await store.close();
    }
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

  it('picks a retention batch through events_time and the outbox key, never a scan of the outbox', async () => {
    // 20,000 events of a year ago whose 60,000 outbox rows all ended then, and 1,000 of the last
    // hour whose rows ended since, with statistics taken. A batch must read about its own events
    // and their rows, whether the cutoff leaves few rows that keep an event (a backlog: the planner
    // expects about one) or many: a plan that scans the outbox (the anti-join the planner chose for
    // NOT EXISTS, materialising one scan of the whole outbox per batch) costs each batch time in
    // proportion to the history, and the sweep's batches keep admissions waiting for it.
    db = await newTestDatabase();
    const store = await openPostgresStore(db.url);
    const client = await store.clients.create({ name: 'Plans' });
    const stage = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
    const now = Date.now();
    const old = now - 365 * 86_400_000;
    await store.pool.query(
      `INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, consent)
       SELECT 'e' || i, $1, $2, 'lead', 'webhook', 'r' || i, to_timestamp(ms / 1000.0), ms, 'granted'
       FROM generate_series(1, 21000) AS i, LATERAL (SELECT CASE WHEN i <= 20000 THEN $3::bigint + i * 1000 ELSE $4::bigint + i END AS ms) AS t`,
      [client.id, stage.id, old, now - 3_600_000],
    );
    await store.pool.query(
      `INSERT INTO outbox (event_id, client_id, platform, status, due_at, attempts, finished_at, created_at, updated_at)
       SELECT e.id, e.client_id, p, 'sent', e.received_at, 1, e.received_at + interval '1 minute', e.received_at, e.received_at
       FROM events e, unnest(ARRAY['meta', 'google', 'tiktok']) AS p`,
    );
    await store.pool.query('VACUUM ANALYZE events');
    await store.pool.query('VACUUM ANALYZE outbox');
    const explain = async (before: Date): Promise<string[]> => {
      const { rows } = await store.pool.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${PICK_SQL}`, [before.getTime(), before, [...FINAL_STATUSES], 100]);
      const scans: string[] = [];
      const walk = (node: Record<string, unknown>): void => {
        if (node['Relation Name'] !== undefined) scans.push(`${String(node['Relation Name'])}: ${String(node['Node Type'])} ${String(node['Index Name'] ?? '')}`.trim());
        if (node['Node Type'] === 'Bitmap Index Scan') scans.push(`Bitmap Index Scan ${String(node['Index Name'])}`);
        if (node['Node Type'] === 'Materialize' || node['Node Type'] === 'Hash') scans.push(String(node['Node Type']));
        for (const child of (node['Plans'] as Array<Record<string, unknown>> | undefined) ?? []) walk(child);
      };
      walk((rows[0]!['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0]!.Plan);
      return scans;
    };
    // Now (every row ended before it) and 180 days ago (the last hour's 3,000 rows ended since).
    const before = new Date(now - 180 * 86_400_000);
    for (const cutoff of [new Date(now), before]) {
      // The outbox looked up per event through its key: an index scan, or a bitmap scan of the key.
      expect([
        ['events: Index Scan events_time', 'outbox: Index Scan outbox_event_id_platform_key'],
        ['events: Index Scan events_time', 'outbox: Bitmap Heap Scan', 'Bitmap Index Scan outbox_event_id_platform_key'],
      ]).toContainEqual(await explain(cutoff));
    }
    // And the batch it plans removes the oldest 100 with their rows.
    expect(await store.retention.prune({ before, limit: 100 })).toEqual({ events: 100, outbox: 300, send_attempts: 0, user_agents: 0 });
    expect(Number((await store.pool.query<{ n: string }>("SELECT count(*) AS n FROM events WHERE id IN ('e1', 'e100', 'e101')")).rows[0]!.n)).toBe(1);
    await store.close();
  });
});

/** Every subset of the given filters. */
function subsets<T extends object>(filters: T): Array<Partial<T>> {
  const keys = Object.keys(filters) as Array<keyof T>;
  return Array.from({ length: 2 ** keys.length }, (_, mask) =>
    Object.fromEntries(keys.filter((_, i) => mask & (1 << i)).map((k) => [k, filters[k]])) as Partial<T>,
  );
}

describe('PostgreSQL store: the dashboard lists read through indexes', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it('reads every combination of event and audit log filters in the list order, through the index of its shape', async () => {
    // 60,000 events of three clients (70 %, 25 %, 5 %) on two stages each, their 180,000 audit
    // rows (2 % failed), statistics taken: the planner chooses by them, and must choose an index
    // walk in the list's order that stops at the page's limit, never a scan and a sort.
    db = await newTestDatabase();
    const store = await openPostgresStore(db.url);
    const clients: string[] = [];
    const stages: string[] = [];
    for (const name of ['A', 'B', 'C']) {
      const client = await store.clients.create({ name });
      clients.push(client.id);
      for (const key of ['lead', 'sale']) stages.push((await store.stages.create({ client_id: client.id, key, name: key })).stage.id);
    }
    await store.pool.query(
      `INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, consent, gclid)
       SELECT 'e' || i, ($1::text[])[k + 1], ($2::text[])[k * 2 + i % 2 + 1], 'lead', CASE WHEN i % 7 = 0 THEN 'pixel' ELSE 'webhook' END,
         'r' || i, to_timestamp(1772445600 + i), (1772445600 + i)::bigint * 1000, 'granted', CASE WHEN i % 3 = 0 THEN 'g' || i END
       FROM generate_series(1, 60000) AS i, LATERAL (SELECT CASE WHEN i % 20 < 14 THEN 0 WHEN i % 20 < 19 THEN 1 ELSE 2 END AS k) AS pick`,
      [clients, stages],
    );
    await store.pool.query(
      `INSERT INTO send_attempts (event_id, client_key, stage_id, platform, attempted_at, status, dedup_key, retry_count)
       SELECT e.id, c.key, e.stage_id, p, e.received_at, CASE WHEN e.seq % 50 = 0 THEN 'failed' ELSE 'sent' END, e.id, 0
       FROM events e JOIN clients c ON c.id = e.client_id, unnest(ARRAY['meta', 'google', 'tiktok']) AS p`,
    );
    await store.pool.query('VACUUM ANALYZE events');
    await store.pool.query('VACUUM ANALYZE send_attempts');
    const explain = async (statement: { text: string; values: unknown[] }, table: string): Promise<{ scans: string[]; sorts: string[]; conds: string[] }> => {
      const { rows } = await store.pool.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.values);
      const scans: string[] = [];
      const sorts: string[] = [];
      const conds: string[] = [];
      const walk = (node: Record<string, unknown>): void => {
        if (node['Relation Name'] === table || node['Node Type'] === 'Bitmap Index Scan') {
          scans.push(`${String(node['Node Type'])} ${String(node['Index Name'] ?? '')}`.trim());
          conds.push(String(node['Index Cond'] ?? ''));
        }
        if (node['Node Type'] === 'Sort' || node['Node Type'] === 'Incremental Sort') sorts.push(String(node['Node Type']));
        for (const child of (node['Plans'] as Array<Record<string, unknown>> | undefined) ?? []) walk(child);
      };
      walk((rows[0]!['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0]!.Plan);
      return { scans, sorts, conds };
    };
    const ways: Array<[Direction, Position | undefined]> = [
      ['older', undefined],
      ['older', { t: 1772445600_000 + 30_000_000, id: 30_000 }],
      ['newer', { t: 1772445600_000 + 30_000_000, id: 30_000 }],
    ];

    const events: Omit<EventSearch, 'limit'> = {
      client_id: clients[1]!,
      stage_id: stages[2]!,
      source: 'pixel',
      reference: 'r200',
      received_from: new Date(1772445600_000 + 10_000_000).toISOString(),
      received_before: new Date(1772445600_000 + 50_000_000).toISOString(),
      has_click_id: true,
    };
    for (const filters of subsets(events)) {
      for (const [direction, cursor] of ways) {
        const query = { ...filters, limit: 50 };
        const { scans, sorts } = await explain(eventSearchSql(query, direction, cursor, 51), 'events');
        const index = query.reference !== undefined ? 'events_client_reference' : query.stage_id !== undefined ? 'events_stage_time' : query.client_id !== undefined ? 'events_client_time' : 'events_time';
        const name = `${JSON.stringify(query)} ${direction} ${cursor ? 'cursor' : ''}`;
        expect(scans, name).toEqual([expect.stringMatching(new RegExp(`^Index (Only )?Scan ${index}$`))]);
        // The reference's index ends with the time, not seq: a reference's few rows may be sorted.
        const allowed = query.reference !== undefined ? ['Sort', 'Incremental Sort'] : [];
        expect(sorts.filter((sort) => !allowed.includes(sort)), name).toEqual([]);
      }
    }

    const sends: Omit<SendSearch, 'limit'> = {
      client_id: clients[1]!,
      platform: 'meta',
      status: 'failed',
      event_id: 'e200',
      attempted_from: new Date(1772445600_000 + 10_000_000).toISOString(),
      attempted_before: new Date(1772445600_000 + 50_000_000).toISOString(),
    };
    // `sent` records are in no status index (most of the log): the time index of the shape, the status checked on its rows.
    const sentToo = [...subsets(sends), ...subsets(sends).filter((f) => f.status !== undefined).map((f) => ({ ...f, status: 'sent' as const }))];
    for (const filters of sentToo) {
      for (const [direction, cursor] of ways) {
        const query = { ...filters, limit: 50 };
        const { scans, sorts, conds } = await explain(sendSearchSql(query, direction, cursor, 51), 'send_attempts');
        const index =
          query.event_id !== undefined
            ? 'send_attempts_outbox'
            : query.client_id !== undefined && query.status !== undefined && query.status !== 'sent'
              ? 'send_attempts_client_status_time'
              : query.status !== undefined && query.status !== 'sent'
                ? 'send_attempts_status_time'
                : query.client_id !== undefined
                  ? 'send_attempts_client_time'
                  : 'send_attempts_time';
        const name = `${JSON.stringify(query)} ${direction} ${cursor ? 'cursor' : ''}`;
        // An event's few attempts may be read through a bitmap of send_attempts_outbox.
        if (query.event_id !== undefined && scans[0] === 'Bitmap Heap Scan') expect(scans, name).toEqual(['Bitmap Heap Scan', `Bitmap Index Scan ${index}`]);
        else expect(scans, name).toEqual([expect.stringMatching(new RegExp(`^Index (Only )?Scan ${index}$`))]);
        // An event's few attempts are sorted.
        expect(sorts.filter(() => query.event_id === undefined), name).toEqual([]);
        // A client's records: the scan starts and stops at the client's key (looked up once), not a walk of every client's.
        if (index.includes('client')) expect(conds, name).toEqual([expect.stringMatching(/^\(\(ROW\(client_key, .*\) > ROW\((\$\d+|\(InitPlan \d+\)\.col1), .*\) AND \(ROW\(client_key, .*\) < ROW\((\$\d+|\(InitPlan \d+\)\.col1), /)]);
      }
    }

    // The preview's due rows and "retry now" through indexes.
    const due = await explain({ text: DUE_SQL, values: [new Date(), null, 200] }, 'outbox');
    expect(due.scans.every((scan) => !scan.startsWith('Seq Scan'))).toBe(true);
    const retry = await explain({ text: RETRY_NOW_SQL, values: [1, new Date()] }, 'outbox');
    expect(retry.scans).toEqual(['ModifyTable', 'Index Scan outbox_pkey']);
    await store.close();
  }, 120_000);
});

