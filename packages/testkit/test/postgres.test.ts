import { writeFile } from 'node:fs/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASE_URL_ENV, startEmbeddedCluster, startTestCluster, TestDatabaseError } from '../src/postgres.js';

describe('startTestCluster', () => {
  it('starts a PostgreSQL 17 cluster on 127.0.0.1 that makes and drops databases, and removes it on stop', async () => {
    const started = Date.now();
    const { cluster, stop } = await startTestCluster({});
    try {
      expect(cluster.source).toBe('embedded');
      expect(cluster.version).toMatch(/^PostgreSQL 17\./);
      expect(new URL(cluster.adminUrl).hostname).toBe('127.0.0.1');
      const db = await createTestDatabase(cluster.adminUrl);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query<{ d: string }>('SELECT current_database() AS d');
      expect(rows[0]?.d).toBe(db.name);
      // Durable by default: the tests of commit semantics run against fsync'ed commits.
      expect((await client.query<{ fsync: string }>('SHOW fsync')).rows[0]?.fsync).toBe('on');
      await client.end();
      await db.drop();
    } finally {
      await stop();
    }
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('uses the server the variable names, and fails at once with the variable when it cannot be reached', async () => {
    await expect(startTestCluster({ [DATABASE_URL_ENV]: 'postgres://nobody:x@127.0.0.1:9/none' })).rejects.toThrow(
      new RegExp(`${DATABASE_URL_ENV} is set but the server cannot be reached`),
    );
  });

  it('fails with the cause and the variable when the data directory is unusable', async () => {
    const file = `/tmp/pruuv-not-a-dir-${process.pid}`;
    await writeFile(file, '');
    const err = await startEmbeddedCluster({ dir: file, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestDatabaseError);
    expect((err as Error).message).toMatch(/could not (initialise|start)/);
    expect((err as Error).message).toContain(`${DATABASE_URL_ENV}=`);
  }, 30_000);
});
