import { newTestDatabase } from '@pruuv/testkit/database';
import type { TestDatabase } from '@pruuv/testkit/postgres';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { SchemaTooNewError } from '../../src/errors.js';
import { openStore, StoreOpenError } from '../../src/store/open.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/index.js';
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
    expect(rows.map((r) => r.name)).toEqual(['001_init.sql']);
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
});
