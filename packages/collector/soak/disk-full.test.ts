/**
 * The disk fills up under load, then space comes back: every write meanwhile is
 * answered 503 with Retry-After, nothing answered 200 is lost, and the collector
 * takes events again by itself, without a restart.
 *
 * SQLite: the built `pruuv serve` with its database on a real 8 MB tmpfs,
 * mounted in a mount namespace of its own (`unshare -rm`: an unprivileged user
 * namespace, no root needed); the test reaches the files through
 * `/proc/PID/root`, fills the rest of the tmpfs with a ballast file, and frees
 * space by deleting it. Where user namespaces are off (some CI containers)
 * the same scenario runs on SQLite's `max_page_count` instead (SQLITE_FULL, the
 * error a full disk gives), and says so in the output.
 *
 * PostgreSQL: a full disk cannot be made without owning the server's storage,
 * so a trigger raises `disk_full` (53100), the error PostgreSQL gives when it
 * cannot extend a file, on every insert into `events` until it is dropped.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { freePort } from '@pruuv/testkit/postgres';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, seedClient, type Running } from '../test/helpers/harness.js';
import { startProc, stop, type Proc } from '../test/helpers/process.js';
import { ensureBuilt } from '../test/send-build.js';
import { soakDatabase, type SoakDatabase } from './helpers/database.js';

const CLIENTS = 8;
const ADMIN_TOKEN = 'soak-admin-token-0123456789';
const TMPFS_SIZE = '8m';

interface Target {
  url: string;
  stage: { id: string; token: string };
  /** Makes every further write fail as on a full disk. */
  fill(): Promise<void>;
  /** Gives the space back. */
  free(): Promise<void>;
  /** Ids of the stored events, read on a connection of its own. */
  stored(): Promise<Set<string>>;
  /** `PRAGMA integrity_check` on SQLite. */
  integrity?(): Promise<unknown>;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});
beforeAll(() => ensureBuilt(), 120_000);

async function post(target: Target, reference: string): Promise<{ status: number; eventId?: string; retryAfter: string | null }> {
  const res = await fetch(`${target.url}/api/webhooks/funnel/${target.stage.id}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.stage.token}`, 'content-type': 'application/json' },
    // About 2 KB stored per event: the disk fills in a few thousand.
    body: JSON.stringify({ reference, gclid: `Cj0-${reference}`, utm_content: 'x'.repeat(400), utm_term: 'y'.repeat(400) }),
  });
  const body = (await res.json()) as { event_id?: string };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), ...(body.event_id ? { eventId: body.event_id } : {}) };
}

/** The scenario, on any target: load until every client meets a full disk, free space, load again. */
async function fillAndRecover(target: Target): Promise<{ acked: number; refused: number }> {
  const acked: string[] = [];
  let refused = 0;
  let n = 0;
  const unexpected: string[] = [];
  const client = async (until: () => boolean): Promise<void> => {
    while (!until()) {
      const answer = await post(target, `full-${n++}`);
      if (answer.status === 200 && answer.eventId) acked.push(answer.eventId);
      else if (answer.status === 503 && answer.retryAfter !== null && /^\d+$/.test(answer.retryAfter)) refused++;
      else unexpected.push(`${answer.status} retry-after ${answer.retryAfter}`);
    }
  };
  // Before: all stored.
  await Promise.all(Array.from({ length: CLIENTS }, () => client(() => n >= 200)));
  expect(refused).toBe(0);
  await target.fill();
  // Full: load until 200 writes were refused (a write already under way may still commit).
  await Promise.all(Array.from({ length: CLIENTS }, () => client(() => refused >= 200 || n > 20_000)));
  expect(refused).toBeGreaterThanOrEqual(200);
  await target.free();
  // Space back: the next writes are stored again, by themselves.
  const refusedWhileFull = refused;
  const recovered = acked.length;
  await Promise.all(Array.from({ length: CLIENTS }, () => client(() => acked.length >= recovered + 400)));
  expect(refused - refusedWhileFull, 'refused after the space came back').toBeLessThanOrEqual(CLIENTS);
  expect(unexpected).toEqual([]);

  const stored = await target.stored();
  expect(acked.filter((id) => !stored.has(id)), 'answered 200, not stored').toEqual([]);
  if (target.integrity) expect(await target.integrity()).toEqual([{ integrity_check: 'ok' }]);
  return { acked: acked.length, refused: refusedWhileFull };
}

/** Whether this machine lets us mount a tmpfs in a user and mount namespace of our own. */
function canMountTmpfs(dir: string): boolean {
  const probe = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=1m tmpfs "$0" && touch "$0/probe"`, dir], { encoding: 'utf8' });
  return probe.status === 0;
}

async function adminPost(url: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/api/admin${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`admin ${path}: ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

/** `pruuv serve` on a real tmpfs of its own. */
async function tmpfsTarget(dir: string): Promise<Target> {
  const script = `mount -t tmpfs -o size=${TMPFS_SIZE} tmpfs "$0" && exec "$@"`;
  const proc: Proc = startProc(
    'collector-on-tmpfs',
    ['serve', '--no-worker'],
    { PATH: process.env['PATH'], PRUUV_HOST: '127.0.0.1', PORT: String(await freePort()), PRUUV_DB: join(dir, 'pruuv.db'), PRUUV_ADMIN_TOKEN: ADMIN_TOKEN },
    { wrap: ['unshare', '-rm', 'sh', '-c', script, dir] },
  );
  cleanups.push(() => stop(proc));
  const url = String((await proc.waitFor((l) => l['msg'] === 'collector listening'))['url']);
  // The server's view of the directory: the tmpfs, which this process's mount namespace does not have.
  const inside = `/proc/${proc.child.pid}/root${dir}`;
  const client = (await adminPost(url, '/clients', { name: 'Full' }))['client'] as { id: string };
  const made = (await adminPost(url, `/clients/${client.id}/stages`, { key: 'lead', name: 'Lead' })) as { stage: { id: string }; token: string };
  const ballast = join(inside, 'ballast');
  // SQLite resolves the /proc/PID/root link to this namespace's view: read a copy of the files
  // instead, taken while the server is idle (the WAL holds the last commits; the index is rebuilt).
  const read = <T>(sql: string): T[] => {
    const copy = mkdtempSync(join(tmpdir(), 'pruuv-full-copy-'));
    try {
      for (const file of ['pruuv.db', 'pruuv.db-wal']) copyFileSync(join(inside, file), join(copy, file));
      const db = new Database(join(copy, 'pruuv.db'));
      try {
        return db.prepare(sql).all() as T[];
      } finally {
        db.close();
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  };
  return {
    url,
    stage: { id: made.stage.id, token: made.token },
    async fill() {
      const { bavail, bsize } = statfsSync(inside);
      writeFileSync(ballast, Buffer.alloc(bavail * bsize));
      expect(statfsSync(inside).bavail).toBe(0);
    },
    async free() {
      rmSync(ballast);
    },
    stored: async () => new Set(read<{ id: string }>('SELECT id FROM events').map((r) => r.id)),
    integrity: async () => read('PRAGMA integrity_check'),
  };
}

/** The app in this process on a SQLite file whose size is capped with `max_page_count`. */
async function pageCountTarget(dir: string): Promise<Target> {
  const run: Running = await startCollector({ dbFile: join(dir, 'pruuv.db') });
  cleanups.push(() => run.close());
  const f = await seedClient(run.store);
  const read = <T>(sql: string): T[] => {
    const db = new Database(run.dbFile, { readonly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };
  return {
    url: run.url,
    stage: { id: f.lead.stage.id, token: f.lead.token },
    async fill() {
      run.db.pragma(`max_page_count = ${run.db.pragma('page_count', { simple: true }) as number}`);
    },
    async free() {
      run.db.pragma('max_page_count = 1073741823');
    },
    stored: async () => new Set(read<{ id: string }>('SELECT id FROM events').map((r) => r.id)),
    integrity: async () => read('PRAGMA integrity_check'),
  };
}

/** `pruuv serve` on PostgreSQL, with inserts into `events` failing as on a full disk while a trigger is there. */
async function postgresTarget(db: SoakDatabase): Promise<Target> {
  const store = await db.open();
  const f = await seedClient(store);
  await store.close();
  const proc = startProc('collector-on-postgres', ['serve', '--no-worker'], {
    PATH: process.env['PATH'],
    PRUUV_HOST: '127.0.0.1',
    PORT: String(await freePort()),
    ...db.env,
  });
  cleanups.push(() => stop(proc));
  const url = String((await proc.waitFor((l) => l['msg'] === 'collector listening'))['url']);
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: db.target.databaseUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  return {
    url,
    stage: { id: f.lead.stage.id, token: f.lead.token },
    fill: () =>
      admin(`CREATE FUNCTION soak_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$;
             CREATE TRIGGER soak_disk_full BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION soak_disk_full();`),
    free: () => admin('DROP TRIGGER soak_disk_full ON events; DROP FUNCTION soak_disk_full();'),
    stored: async () => new Set((await db.query<{ id: string }>('SELECT id FROM events')).map((r) => r.id)),
  };
}

describe('a full disk under load', () => {
  it('on SQLite: answers 503 with Retry-After, loses nothing answered 200, and recovers by itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pruuv-full-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const tmpfs = canMountTmpfs(dir);
    const target = tmpfs ? await tmpfsTarget(dir) : await pageCountTarget(dir);
    const { acked, refused } = await fillAndRecover(target);
    console.info(
      `[soak] sqlite, ${tmpfs ? `a real ${TMPFS_SIZE} tmpfs` : 'max_page_count (no user namespaces here: no tmpfs)'}: ${acked} events answered 200 and stored, ${refused} answered 503 while full`,
    );
  });

  it('on PostgreSQL (disk_full raised by a trigger): the same', async () => {
    const db = await soakDatabase('postgres');
    cleanups.push(() => db.drop());
    const { acked, refused } = await fillAndRecover(await postgresTarget(db));
    console.info(`[soak] postgres, disk_full from a trigger: ${acked} events answered 200 and stored, ${refused} answered 503 while full`);
  });
});
