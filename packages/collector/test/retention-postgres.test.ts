/**
 * Retention on a real PostgreSQL (embedded, through the testkit): a `pruuv db prune` child killed
 * with SIGKILL mid-sweep leaves no event half-removed, and a person's "retry now" racing a prune
 * of the same event never leaves an orphan row: either the event goes whole (and the retry finds
 * nothing to retry) or the retry wins (and the event stays, due, with the retry's audit record).
 */
import { randomUUID } from 'node:crypto';
import { PLATFORM_IDS } from '@pruuv/sender';
import { newTestDatabase } from '@pruuv/testkit/database';
import type { TestDatabase } from '@pruuv/testkit/postgres';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_EVENT_SQL } from '../src/store/audit-row.js';
import { openPostgresStore, type PostgresStore } from '../src/store/postgres/index.js';
import type { NewEvent } from '../src/store/types.js';
import { startProc } from './helpers/process.js';

const DAY = 86_400_000;

let db: TestDatabase;
let store: PostgresStore;
let sql: pg.Client;
beforeEach(async () => {
  db = await newTestDatabase();
  store = await openPostgresStore(db.url);
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
});
afterEach(async () => {
  await sql.end();
  await store.close();
  await db.drop();
});

const N = PLATFORM_IDS.length;
const count = async (query: string): Promise<number> => Number((await sql.query<{ n: string }>(query)).rows[0]!.n);

/** No row outlives its event, and every event left has its outbox row per platform. */
async function expectNoOrphans(): Promise<void> {
  expect(await count('SELECT COUNT(*) AS n FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = o.event_id)')).toBe(0);
  expect(await count(`SELECT COUNT(*) AS n FROM send_attempts WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = ${AUDIT_EVENT_SQL})`)).toBe(0);
  expect(await count('SELECT COUNT(*) AS n FROM send_attempts a WHERE a.outbox_id IS NULL')).toBe(0);
  expect(await count(`SELECT COUNT(*) AS n FROM events e WHERE (SELECT COUNT(*) FROM outbox o WHERE o.event_id = e.id) <> ${N}`)).toBe(0);
}

/** `count` events received `ageDays` ago (a second apart), every row ended with `status` a day later, one audit record per row; returns the outbox rows. */
async function seed(count: number, ageDays: number, status: 'sent' | 'dead'): Promise<Array<{ id: number; event_id: string; client_id: string; platform: string }>> {
  const client = await store.clients.create({ name: 'Old' });
  const stage = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
  const received = new Date(Date.now() - ageDays * DAY);
  const ended = new Date(received.getTime() + DAY);
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, (_, k) => {
        const event: NewEvent = {
          id: randomUUID(),
          client_id: client.id,
          stage_id: stage.id,
          stage_key: 'lead',
          source: 'webhook',
          reference: `r-${i + k}`,
          consent: 'granted',
          clicks: { gclid: { value: `g-${i + k}` } },
          utm: {},
          demographics: {},
        };
        // A second apart, so a sweep takes them in this order.
        return store.events.admit(event, new Date(received.getTime() + (i + k) * 1000));
      }),
    );
  }
  const claimed = await store.outbox.claim({ owner: 'seed', now: ended, cutoff: ended, leaseUntil: new Date(ended.getTime() + 60_000), limit: count * N, retriesOnly: false });
  expect(claimed).toHaveLength(count * N);
  await store.outbox.commit({
    owner: 'seed',
    now: ended,
    updates: claimed.map((c) => ({ id: c.id, status, attempts: 1, first_attempt_at: ended.toISOString() })),
    records: claimed.map((c) => ({
      outbox_id: c.id,
      event_id: c.event_id,
      client_id: client.id,
      stage_id: stage.id,
      platform: c.platform,
      status,
      dedup_key: c.event_id,
      batch_size: claimed.length,
      retry_count: 0,
      attempted_at: ended.toISOString(),
      dry_run: false,
      pass_id: 'seed',
    })),
  });
  return claimed.map((c) => ({ id: c.id, event_id: c.event_id, client_id: client.id, platform: c.platform }));
}

describe('retention on PostgreSQL', () => {
  it('a pruuv db prune killed with SIGKILL mid-sweep leaves every event whole or wholly gone', async () => {
    const rows = await seed(600, 400, 'sent');
    const events = rows.length / N;
    const env = { PATH: process.env.PATH ?? '', PRUUV_DATABASE_URL: db.url, PRUUV_LOG_LEVEL: 'silent' };
    // 10 per transaction with the sweep's pause between them: 60 batches, a few seconds.
    const proc = startProc('prune', ['db', 'prune', '--batch', '10'], env);
    const deadline = Date.now() + 60_000;
    let left = events;
    while (left > events - 100 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      left = await count('SELECT COUNT(*) AS n FROM events');
    }
    proc.child.kill('SIGKILL');
    await proc.exited;
    left = await count('SELECT COUNT(*) AS n FROM events');
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(events);
    await expectNoOrphans();
    expect(await count('SELECT COUNT(*) AS n FROM outbox')).toBe(left * N);
    expect(await count('SELECT COUNT(*) AS n FROM send_attempts')).toBe(left * N);
    // A second run finishes the job.
    const again = startProc('prune-again', ['db', 'prune'], env);
    await again.exited;
    expect(again.child.exitCode).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM events')).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM send_attempts')).toBe(0);
  }, 120_000);

  it('a retry now racing a prune of the same event leaves it whole and due, or wholly gone', async () => {
    // A second store: its own pool, so the retries run in transactions of their own, beside the prune's.
    const other = await openPostgresStore(db.url);
    try {
      const before = new Date(Date.now() - 180 * DAY);
      // Three rounds: where the two meet is a matter of timing, so each round races anew.
      let kept = 0;
      for (let round = 0; round < 3; round++) {
        const rows = await seed(200, 400, 'dead');
        // The sweep removes the oldest first, 5 per transaction, while a person retries one row of
        // each event, newest first: they meet in the middle, where both want the same events.
        const targets = rows.filter((_, i) => i % N === 0).reverse();
        const retried = new Map<string, boolean>();
        const sweep = (async () => {
          for (;;) {
            const removed = await store.retention.prune({ before, limit: 5 });
            if (removed.events === 0) return;
          }
        })();
        const retries = (async () => {
          for (const row of targets) {
            const now = new Date();
            const done = await other.outbox.retryNow({
              id: row.id,
              now,
              record: {
                outbox_id: row.id,
                event_id: row.event_id,
                client_id: row.client_id,
                platform: row.platform as 'meta',
                status: 'retrying',
                reason: 'retry_now',
                dedup_key: row.event_id,
                retry_count: 1,
                attempted_at: now.toISOString(),
                dry_run: false,
              },
            });
            retried.set(row.event_id, done);
          }
        })();
        await Promise.all([sweep, retries]);
        await expectNoOrphans();
        const won = [...retried].filter(([, done]) => done).map(([id]) => id);
        const lost = [...retried].filter(([, done]) => !done).map(([id]) => id);
        // Both outcomes happened.
        expect(won.length).toBeGreaterThan(0);
        expect(lost.length).toBeGreaterThan(0);
        for (const id of won) {
          const own = await store.outbox.forEvent(id);
          expect(own, id).toHaveLength(N);
          expect(own.filter((r) => r.status === 'retrying'), id).toHaveLength(1);
          // The seed's record per platform and the retry's.
          expect(await count(`SELECT COUNT(*) AS n FROM send_attempts WHERE ${AUDIT_EVENT_SQL} = '${id}'`)).toBe(N + 1);
        }
        for (const id of lost) expect(await store.events.get(id), id).toBeUndefined();
        // Every event nobody retried is gone.
        kept += won.length;
        expect(await count('SELECT COUNT(*) AS n FROM events')).toBe(kept);
      }
    } finally {
      await other.close();
    }
  }, 120_000);
});
