import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PLATFORM_IDS } from '@pruuv/sender';
import { openDb, type Db } from '../src/store/sqlite/db.js';
import { StorageUnavailableError } from '../src/errors.js';
import { createGroupCommit, MAX_GROUP } from '../src/store/sqlite/group-commit.js';
import { eventCount, postWebhook, seedClient, startCollector, tempDir, type Fixture, type Running } from './helpers/harness.js';

describe('createGroupCommit', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let commits: number[];
  let write: (item: { key: string; fail?: boolean }) => Promise<number>;

  beforeEach(() => {
    dir = tempDir();
    db = openDb(join(dir.dir, 'g.db'), { busyTimeoutMs: 20 });
    db.exec('CREATE TABLE items (key TEXT PRIMARY KEY)');
    const insert = db.prepare('INSERT INTO items (key) VALUES (?)');
    const count = db.prepare('SELECT COUNT(*) AS n FROM items');
    // One item's writes, as a transaction function: inside the group it becomes a savepoint.
    const one = db.transaction((item: { key: string; fail?: boolean }) => {
      insert.run(item.key);
      if (item.fail) throw new Error(`bad item ${item.key}`);
      return (count.get() as { n: number }).n;
    });
    commits = [];
    write = createGroupCommit(db, one, { onCommit: (n) => commits.push(n) });
  });

  afterEach(() => {
    db.close();
    dir.cleanup();
  });

  const stored = () => (db.prepare('SELECT key FROM items ORDER BY key').all() as { key: string }[]).map((r) => r.key);

  it('commits the calls of one turn in one transaction, in order', async () => {
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((key) => write({ key })));
    expect(commits).toEqual([5]);
    // Each item sees the ones before it in the same transaction.
    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(stored()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('commits calls of later turns in their own transactions', async () => {
    await write({ key: 'a' });
    await write({ key: 'b' });
    expect(commits).toEqual([1, 1]);
  });

  it('rolls back only the item that throws', async () => {
    const results = await Promise.allSettled([write({ key: 'a' }), write({ key: 'b', fail: true }), write({ key: 'c' })]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'bad item b' });
    expect(stored()).toEqual(['a', 'c']);
    expect(commits).toEqual([3]);
  });

  it('runs each item once when none throws, and the whole group again item by item when one does', async () => {
    const insert = db.prepare('INSERT INTO items (key) VALUES (?)');
    const runs: string[] = [];
    const counted = createGroupCommit(db, (item: { key: string; fail?: boolean }) => {
      runs.push(item.key);
      insert.run(item.key);
      if (item.fail) throw new Error(`bad item ${item.key}`);
      return item.key;
    });
    await Promise.all([counted({ key: 'a' }), counted({ key: 'b' })]);
    expect(runs).toEqual(['a', 'b']);
    runs.length = 0;
    const results = await Promise.allSettled([counted({ key: 'c' }), counted({ key: 'd', fail: true }), counted({ key: 'e' })]);
    // c and d ran once in the rolled-back fast pass, then c, d and e in their own savepoints.
    expect(runs).toEqual(['c', 'd', 'c', 'd', 'e']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(stored()).toEqual(['a', 'b', 'c', 'e']);
  });

  it(`splits a burst into groups of at most ${MAX_GROUP}`, async () => {
    const n = MAX_GROUP * 2 + 5;
    await Promise.all(Array.from({ length: n }, (_, i) => write({ key: `k${String(i).padStart(4, '0')}` })));
    expect(commits).toEqual([MAX_GROUP, MAX_GROUP, 5]);
    expect(stored()).toHaveLength(n);
  });

  it('rejects the whole group as storage-unavailable when the database is locked, storing nothing', async () => {
    const other = new Database(join(dir.dir, 'g.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      const results = await Promise.allSettled([write({ key: 'a' }), write({ key: 'b' })]);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StorageUnavailableError);
      }
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(stored()).toEqual([]);
    expect(commits).toEqual([]);
    // The next group goes through.
    await write({ key: 'c' });
    expect(stored()).toEqual(['c']);
  });
});

describe('POST /api/webhooks/funnel/:stageId', () => {
  describe('with concurrent requests', () => {
    let dir: ReturnType<typeof tempDir>;
    let run: Running;
    let fx: Fixture;

    beforeEach(async () => {
      dir = tempDir();
      run = await startCollector({ dbFile: join(dir.dir, 'c.db') });
      fx = await seedClient(run.store);
    });

    afterEach(async () => {
      await run.close();
      dir.cleanup();
    });

    it('stores each of 40 concurrent events once, with its outbox rows', async () => {
      const res = await Promise.all(
        Array.from({ length: 40 }, (_, i) => postWebhook(run, fx.lead.stage.id, fx.lead.token, { reference: `CRM-${i}`, gclid: `G-${i}` })),
      );
      const bodies = await Promise.all(res.map((r) => r.json() as Promise<{ event_id: string }>));
      expect(res.every((r) => r.status === 200)).toBe(true);
      expect(new Set(bodies.map((b) => b.event_id)).size).toBe(40);
      expect(eventCount(run.db)).toBe(40);
      expect((run.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n).toBe(40 * PLATFORM_IDS.length);
    });

    it('answers one of two concurrent identical references as the duplicate', async () => {
      const res = await Promise.all([0, 1].map(() => postWebhook(run, fx.lead.stage.id, fx.lead.token, { reference: 'CRM-same' })));
      const bodies = (await Promise.all(res.map((r) => r.json()))) as Record<string, unknown>[];
      expect(bodies.filter((b) => b['duplicate'] === true)).toHaveLength(1);
      expect(bodies.filter((b) => typeof b['event_id'] === 'string')).toHaveLength(1);
      expect(eventCount(run.db)).toBe(1);
    });
  });
});
