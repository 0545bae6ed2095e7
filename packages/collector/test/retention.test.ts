/**
 * Retention sweeps on a real SQLite file: what goes and what stays, the file left sound, space
 * given back, a file under steady load that stops growing, and a `pruuv db prune` child killed with
 * SIGKILL mid-sweep leaving no event half-removed (PostgreSQL: retention-postgres.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PLATFORM_IDS } from '@pruuv/sender';
import Database from 'better-sqlite3';
import { DEFAULT_URLS, DEFAULT_VERSIONS } from '@pruuv/sender';
import pino from 'pino';
import { sweepRetention } from '../src/ops/retention-sweep.js';
import { startSending } from '../src/send/runtime.js';
import { AUDIT_EVENT_SQL } from '../src/store/audit-row.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/index.js';
import type { NewEvent } from '../src/store/types.js';
import { tempDir } from './helpers/harness.js';
import { startProc } from './helpers/process.js';

const DAY = 86_400_000;

let dir: ReturnType<typeof tempDir>;
let file: string;
let store: SqliteStore;
beforeEach(() => {
  dir = tempDir();
  file = join(dir.dir, 'pruuv.db');
  store = openSqliteStore(file);
});
afterEach(async () => {
  await store.close();
  dir.cleanup();
});

function event(stageId: string, clientId: string, reference: string): NewEvent {
  return {
    id: randomUUID(),
    client_id: clientId,
    stage_id: stageId,
    stage_key: 'lead',
    source: 'webhook',
    reference,
    consent: 'granted',
    clicks: { gclid: { value: `g-${reference}` } },
    utm: {},
    // A few hundred bytes per event, as a real one with its page and user agent, so removals free whole pages.
    page_url: `https://www.example.com/landing/${reference}?${'x'.repeat(200)}`,
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
    demographics: {},
  };
}

/** `count` events received `ageDays` ago, every send sent a day later with one audit record per row; returns their ids. */
async function seed(count: number, ageDays: number, now: Date): Promise<string[]> {
  const client = await store.clients.create({ name: `C${ageDays}` });
  const stage = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
  const received = new Date(now.getTime() - ageDays * DAY);
  const sentAt = new Date(received.getTime() + DAY);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const e = event(stage.id, client.id, `${ageDays}-${i}`);
    await store.events.admit(e, received);
    ids.push(e.id);
  }
  await sendAll(client.id, stage.id, `seed-${ageDays}`, sentAt, count * PLATFORM_IDS.length);
  return ids;
}

/** Claims up to `limit` due rows at `sentAt` and commits every one as sent with one audit record each, as a pass would; returns what it claimed. */
async function sendAll(clientId: string, stageId: string, owner: string, sentAt: Date, limit: number): Promise<unknown[]> {
  const claimed = await store.outbox.claim({ owner, now: sentAt, cutoff: sentAt, leaseUntil: new Date(sentAt.getTime() + 60_000), limit, retriesOnly: false });
  await store.outbox.commit({
    owner,
    now: sentAt,
    updates: claimed.map((c) => ({ id: c.id, status: 'sent', attempts: 1, first_attempt_at: sentAt.toISOString() })),
    records: claimed.map((c) => ({
      outbox_id: c.id,
      event_id: c.event_id,
      client_id: clientId,
      stage_id: stageId,
      platform: c.platform,
      status: 'sent',
      dedup_key: c.event_id,
      batch_size: claimed.length,
      retry_count: 0,
      attempted_at: sentAt.toISOString(),
      dry_run: false,
      pass_id: owner,
    })),
  });
  return claimed;
}

const count = (db: Database.Database, sql: string): number => (db.prepare(sql).get() as { n: number }).n;

describe('a retention sweep', () => {
  it('removes exactly what is older than the setting, and leaves the file sound and smaller inside', async () => {
    const now = new Date('2026-03-02T10:00:00.000Z');
    const old = await seed(400, 200, now);
    const kept = await seed(50, 170, now);
    const freeBefore = store.db.pragma('freelist_count', { simple: true }) as number;
    const pagesBefore = store.db.pragma('page_count', { simple: true }) as number;
    // Each batch and page reclaim runs with synchronous = NORMAL (1: no fsync of its own), and FULL (2) comes back after it.
    const settings: string[] = [];
    const during: unknown[] = [];
    const pragma = store.db.pragma.bind(store.db);
    const watch = vi.spyOn(store.db, 'pragma').mockImplementation(((source: string, options?: { simple?: boolean }) => {
      if (source.startsWith('synchronous =')) settings.push(source);
      if (source.startsWith('incremental_vacuum')) during.push(pragma('synchronous', { simple: true }));
      return pragma(source, options);
    }) as typeof store.db.pragma);
    const report = await sweepRetention({ store, days: 180, now: () => now, batch: 100, pauseMs: 0 });
    watch.mockRestore();
    expect(settings.length).toBeGreaterThanOrEqual(2 * report.batches);
    expect(settings.filter((_, i) => i % 2 === 0).every((x) => x === 'synchronous = NORMAL')).toBe(true);
    expect(settings.filter((_, i) => i % 2 === 1).every((x) => x === 'synchronous = 2')).toBe(true);
    expect(during.length).toBeGreaterThan(0);
    expect(new Set(during)).toEqual(new Set([1]));
    expect(report).toMatchObject({ before: '2025-09-03T10:00:00.000Z', events: 400, outbox: 400 * PLATFORM_IDS.length, send_attempts: 400 * PLATFORM_IDS.length, stopped: false });
    // 100 a batch at most; more batches when one reached its time budget first.
    expect(report.batches).toBeGreaterThanOrEqual(4);
    const db = store.db;
    expect((await store.events.getMany(old)).size).toBe(0);
    expect((await store.events.getMany(kept)).size).toBe(50);
    expect(count(db, 'SELECT COUNT(*) AS n FROM outbox')).toBe(50 * PLATFORM_IDS.length);
    expect(count(db, 'SELECT COUNT(*) AS n FROM send_attempts')).toBe(50 * PLATFORM_IDS.length);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // A batch commits without its own fsync; the store's commits are synced again after it (2: FULL).
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    // Incremental auto-vacuum gave the freed pages back: the file has fewer pages, few of them free.
    expect(report.pages_reclaimed).toBeGreaterThan(50);
    expect(db.pragma('page_count', { simple: true }) as number).toBeLessThan(pagesBefore - 50);
    expect(db.pragma('freelist_count', { simple: true }) as number).toBeLessThanOrEqual(freeBefore + 5);
    // The roll-ups keep counting every event ever admitted.
    expect(count(db, 'SELECT SUM(events) AS n FROM daily_events')).toBe(450);
  });

  it('keeps a file under steady load from growing once the retention is reached', async () => {
    // 200 days on a fake clock: 15 events a day, sent an hour later, and a day's sweep after it (91-day retention).
    const client = await store.clients.create({ name: 'Steady' });
    const stage = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
    const start = new Date('2026-01-01T00:00:00.000Z').getTime();
    const pages: number[] = [];
    let removed = 0;
    for (let day = 0; day < 200; day++) {
      const received = start + day * DAY;
      for (let i = 0; i < 15; i++) await store.events.admit(event(stage.id, client.id, `${day}-${i}`), new Date(received + i));
      const sentAt = new Date(received + 3_600_000);
      const claimed = await sendAll(client.id, stage.id, `pass-${day}`, sentAt, 100);
      expect(claimed).toHaveLength(15 * PLATFORM_IDS.length);
      const report = await sweepRetention({ store, days: 91, now: () => new Date(received + 7_200_000), batch: 10, pauseMs: 0 });
      removed += report.events;
      pages.push(store.db.pragma('page_count', { simple: true }) as number);
    }
    // From day 91 each sweep removes the day 91 days before: 109 days of them.
    expect(removed).toBe(109 * 15);
    expect(count(store.db, 'SELECT COUNT(*) AS n FROM events')).toBe(91 * 15);
    // The file grew for 91 days (about 11 pages a day) and then stopped: over the last 60 days it
    // stays within 3 % of its size on day 140 (B-tree pages settling to their fill; the random event
    // ids lay the keys out differently each run, by up to about 2 %), where 60 more days of growth
    // would have added some 80 %.
    const plateau = pages[139]!;
    expect(plateau).toBeGreaterThan(pages[60]! * 1.3);
    expect(Math.max(...pages.slice(140))).toBeLessThanOrEqual(plateau * 1.03);
    expect(Math.min(...pages.slice(140))).toBeGreaterThanOrEqual(plateau * 0.97);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  }, 120_000);

  it('ends a batch once it has worked its time budget, each event removed whole', async () => {
    const now = new Date('2026-03-02T10:00:00.000Z');
    await seed(100, 200, now);
    const before = new Date(now.getTime() - 180 * DAY);
    // No budget: the whole batch, in one transaction.
    expect(await store.retention.prune({ before, limit: 30 })).toEqual({ events: 30, outbox: 30 * PLATFORM_IDS.length, send_attempts: 30 * PLATFORM_IDS.length, user_agents: 0 });
    // A budget already spent after the first few: those few go, with all their rows, and no more.
    const cut = await store.retention.prune({ before, limit: 70, budgetMs: 0 });
    expect(cut.events).toBeGreaterThan(0);
    expect(cut.events).toBeLessThan(70);
    expect(cut).toEqual({ events: cut.events, outbox: cut.events * PLATFORM_IDS.length, send_attempts: cut.events * PLATFORM_IDS.length, user_agents: 0 });
    expect(count(store.db, 'SELECT COUNT(*) AS n FROM events')).toBe(70 - cut.events);
    expect(count(store.db, 'SELECT COUNT(*) AS n FROM outbox')).toBe((70 - cut.events) * PLATFORM_IDS.length);
    // A sweep goes on after a batch cut short, until none is left.
    const report = await sweepRetention({ store, days: 180, now: () => now, batch: 70, budgetMs: 0, pauseMs: 0 });
    expect(report.events).toBe(70 - cut.events);
    expect(report.batches).toBeGreaterThan(1);
    expect(count(store.db, 'SELECT COUNT(*) AS n FROM events')).toBe(0);
    // The user agent the events shared goes with the last of them, not before.
    expect(report.user_agents).toBe(1);
    expect(count(store.db, 'SELECT COUNT(*) AS n FROM user_agents')).toBe(0);
    expect(store.db.pragma('foreign_key_check')).toEqual([]);
  });

  it('stops between batches when asked, keeping what it removed', async () => {
    const now = new Date('2026-03-02T10:00:00.000Z');
    await seed(30, 200, now);
    const abort = new AbortController();
    const sweep = sweepRetention({ store, days: 180, now: () => now, batch: 10, pauseMs: 1000, signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    expect(await sweep).toMatchObject({ events: 10, batches: 1, stopped: true });
    expect(count(store.db, 'SELECT COUNT(*) AS n FROM events')).toBe(20);
  });

  it('works its duty share of the time at most: the wait after a batch grows with the batch', async () => {
    const now = new Date('2026-03-02T10:00:00.000Z');
    await seed(4, 200, now);
    // Each batch takes at least 20 ms (the store's own work, then a busy wait: a slow disk, a loaded machine).
    const batches: { start: number; end: number }[] = [];
    const retention = {
      ...store.retention,
      async prune(input: Parameters<typeof store.retention.prune>[0]) {
        const start = performance.now();
        const removed = await store.retention.prune(input);
        while (performance.now() - start < 20);
        batches.push({ start, end: performance.now() });
        return removed;
      },
    };
    const report = await sweepRetention({ store: { retention }, days: 180, now: () => now, batch: 1, pauseMs: 0, duty: 0.2 });
    expect(report.events).toBe(4);
    expect(batches).toHaveLength(5); // four that removed one each, and the one that found none left
    for (let i = 1; i < batches.length; i++) {
      const before = batches[i - 1]!;
      // At duty 0.2 the wait is at least four times the step it follows (the batch and its page reclaim).
      expect(batches[i]!.start - before.end).toBeGreaterThanOrEqual(4 * (before.end - before.start) - 1);
    }
  });
});

describe('sweeps where passes run', () => {
  it('in interval mode (the demo), on a timer of their own', async () => {
    const old = await seed(20, 400, new Date());
    const kept = await seed(5, 10, new Date());
    const sending = await startSending({
      store,
      // No connections: its passes send nothing (the platforms are never reached).
      config: { cron: '0 3 * * *', urls: DEFAULT_URLS, versions: DEFAULT_VERSIONS },
      mode: { mode: 'interval', everyMs: 3_600_000 },
      logger: pino({ level: 'silent' }),
      retentionDays: 180,
      sweepEveryMs: 50,
    });
    try {
      const deadline = Date.now() + 10_000;
      while ((await store.events.getMany(old)).size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await store.events.getMany(old)).size).toBe(0);
      expect((await store.events.getMany(kept)).size).toBe(5);
    } finally {
      await sending.stop();
    }
  });
});

describe('pruuv db vacuum', () => {
  it('turns a file made before incremental auto-vacuum into one, keeping every row', async () => {
    // A file as an older version made it: tables created without auto-vacuum.
    const none = new Database(join(dir.dir, 'none.db'));
    none.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)');
    expect(none.pragma('auto_vacuum', { simple: true })).toBe(0);
    none.close();
    // The command opens it (running every migration) before it vacuums.
    const proc = startProc('vacuum', ['db', 'vacuum'], { PATH: process.env.PATH ?? '', PRUUV_DB: join(dir.dir, 'none.db'), PRUUV_LOG_LEVEL: 'silent' });
    await proc.exited;
    expect(proc.child.exitCode).toBe(0);
    const after = new Database(join(dir.dir, 'none.db'), { readonly: true });
    expect(after.pragma('auto_vacuum', { simple: true })).toBe(2);
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(count(after, 'SELECT COUNT(*) AS n FROM t')).toBe(2);
    expect(count(after, 'SELECT COUNT(*) AS n FROM events')).toBe(0);
    after.close();
  });
});

describe('pruuv db prune', () => {
  it('killed with SIGKILL mid-sweep leaves every event whole or wholly gone', async () => {
    const ids = await seed(1500, 400, new Date());
    await store.close();
    const env = { PATH: process.env.PATH ?? '', PRUUV_DB: file, PRUUV_LOG_LEVEL: 'silent' };
    const proc = startProc('prune', ['db', 'prune', '--batch', '20'], env);
    const watch = new Database(file, { readonly: true });
    try {
      // Kill it once some batches committed, well before the last one.
      const deadline = Date.now() + 30_000;
      let left = ids.length;
      while (left > ids.length - 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        left = count(watch, 'SELECT COUNT(*) AS n FROM events');
      }
      proc.child.kill('SIGKILL');
      await proc.exited;
    } finally {
      watch.close();
    }
    store = openSqliteStore(file);
    const db = store.db;
    const left = count(db, 'SELECT COUNT(*) AS n FROM events');
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(ids.length);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // Every event left has its outbox row and audit record per platform; no row of a removed one is left.
    expect(count(db, 'SELECT COUNT(*) AS n FROM outbox')).toBe(left * PLATFORM_IDS.length);
    expect(count(db, 'SELECT COUNT(*) AS n FROM send_attempts')).toBe(left * PLATFORM_IDS.length);
    expect(count(db, 'SELECT COUNT(*) AS n FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = o.event_id)')).toBe(0);
    expect(count(db, `SELECT COUNT(*) AS n FROM send_attempts WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = ${AUDIT_EVENT_SQL})`)).toBe(0);
    expect(count(db, `SELECT COUNT(*) AS n FROM events e WHERE (SELECT COUNT(*) FROM outbox o WHERE o.event_id = e.id) <> ${PLATFORM_IDS.length}`)).toBe(0);
    // A second run finishes the job.
    await store.close();
    const again = startProc('prune-again', ['db', 'prune'], env);
    await again.exited;
    expect(again.child.exitCode).toBe(0);
    store = openSqliteStore(file);
    expect(count(store.db, 'SELECT COUNT(*) AS n FROM events')).toBe(0);
    expect(count(store.db, 'SELECT COUNT(*) AS n FROM send_attempts')).toBe(0);
  }, 60_000);
});
