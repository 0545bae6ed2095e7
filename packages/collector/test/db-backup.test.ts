/**
 * `pruuv db backup` and `pruuv db restore` on SQLite: a backup taken while a
 * collector (its own process) stores webhooks under load opens, passes the
 * integrity check and holds every event acknowledged before it began; a
 * restore is refused while a process has the database open, and brings the
 * backup back once none has.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryOutput } from '../src/cli/output.js';
import { runCli } from '../src/cli/program.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { seedClient, tempDir } from './helpers/harness.js';
import { startProc, stop, type Proc } from './helpers/process.js';

let cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const BIN = fileURLToPath(new URL('../bin/pruuv.js', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = memoryOutput(true);
  let err = '';
  const code = await runCli([...args, '--json'], {
    env: {},
    stdout: { write: (t: string) => out.write(t.trimEnd()) },
    stderr: { write: (t: string) => (err += t) },
  });
  return { code, out: out.text, err };
}

const references = (file: string): Set<string> => {
  const db = new Database(file, { readonly: true });
  try {
    return new Set((db.prepare('SELECT reference FROM events').all() as Array<{ reference: string }>).map((r) => r.reference));
  } finally {
    db.close();
  }
};

describe('pruuv db backup', () => {
  it('copies a database under webhook load: the copy opens, passes integrity_check and holds every event acknowledged before it began', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const file = join(dir.dir, 'pruuv.db');
    const seeded = openSqliteStore(file);
    const f = await seedClient(seeded);
    await seeded.close();

    const port = await freePort();
    const server: Proc = startProc('serve', ['serve', '--port', String(port), '--no-worker'], {
      PATH: process.env['PATH'],
      PRUUV_DB: file,
      PRUUV_HOST: '127.0.0.1',
    });
    cleanup.push(() => stop(server));
    await server.waitFor((l) => l['msg'] === 'collector listening');

    // A long read (an export, `pruuv db copy`) holds a snapshot from before the load: no checkpoint
    // can move the new pages into the main file, they all stay in the -wal file, where a plain
    // file copy would miss them.
    const reader = new Database(file, { readonly: true });
    cleanup.push(() => reader.close());
    reader.exec('BEGIN');
    reader.prepare('SELECT COUNT(*) FROM events').get();

    // Eight writers post events one after another until told to stop; each 200 is noted.
    const acked: string[] = [];
    let running = true;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; running; i++) {
        const reference = `w${w}-${i}`;
        const res = await fetch(`http://127.0.0.1:${port}/api/webhooks/funnel/${f.lead.stage.id}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${f.lead.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ reference }),
        });
        await res.arrayBuffer();
        if (res.status === 200) acked.push(reference);
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    while (acked.length < 200) await new Promise((r) => setTimeout(r, 20));

    const before = [...acked];
    const backup = join(dir.dir, 'backups', 'pruuv-1.db');
    mkdirSync(join(dir.dir, 'backups'));
    // The backup in a process of its own, as an operator (or a cron job) runs it, while the writers go on.
    const result = await promisify(execFile)(process.execPath, [BIN, 'db', 'backup', backup, '--db', file, '--json'], { env: { PATH: process.env['PATH'] } });
    // The load goes on after the backup too.
    const target = acked.length + 50;
    while (acked.length < target) await new Promise((r) => setTimeout(r, 20));
    running = false;
    await Promise.all(writers);

    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as { integrity: string; bytes: number; tables: Array<{ table: string; rows: number }> };
    expect(report.integrity).toBe('ok');

    // The copy is one file that opens on its own and checks out.
    expect(readdirSync(join(dir.dir, 'backups'))).toEqual(['pruuv-1.db']);
    const copy = new Database(backup, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    const inCopy = references(backup);
    copy.close();
    const missing = before.filter((r) => !inCopy.has(r));
    expect(missing).toEqual([]);
    expect(report.tables.find((t) => t.table === 'events')?.rows).toBe(inCopy.size);
    // Nothing in the copy that the live database does not hold.
    const live = references(file);
    expect([...inCopy].filter((r) => !live.has(r))).toEqual([]);
    expect(live.size).toBeGreaterThan(inCopy.size);
    expect(acked.every((r) => live.has(r))).toBe(true);
    reader.exec('COMMIT');
  }, 60_000);

  it('never overwrites a file, and points PostgreSQL users to pg_dump', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const file = join(dir.dir, 'pruuv.db');
    await openSqliteStore(file).close();
    const backup = join(dir.dir, 'b.db');
    expect((await cli(['db', 'backup', backup, '--db', file])).code).toBe(0);
    const again = await cli(['db', 'backup', backup, '--db', file]);
    expect(again.code).toBe(1);
    expect(again.err).toContain('already exists');
    const pg = await runCli(['db', 'backup', join(dir.dir, 'x.dump')], {
      env: { PRUUV_DATABASE_URL: 'postgres://pruuv@db.internal:5432/pruuv' },
      stdout: { write: () => true },
      stderr: { write: (t: string) => void (again.err = t) },
    });
    expect(pg).toBe(2);
    expect(again.err).toContain('pg_dump --format=custom');
    expect(existsSync(join(dir.dir, 'x.dump'))).toBe(false);
  });
});

describe('pruuv db restore', () => {
  it('refuses while a process has the database open, then restores the backup and keeps the replaced file', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const file = join(dir.dir, 'pruuv.db');
    const store = openSqliteStore(file);
    const f = await seedClient(store);
    const backup = join(dir.dir, 'b.db');
    expect((await cli(['db', 'backup', backup, '--db', file])).code).toBe(0);
    // After the backup: a client the restore must take away.
    await store.clients.create({ name: 'After the backup' });

    const refused = await cli(['db', 'restore', backup, '--db', file]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('is in use');
    expect((await store.clients.list()).map((c) => c.name).sort()).toEqual(['Acme', 'After the backup']);
    await store.close();

    const restored = await cli(['db', 'restore', backup, '--db', file]);
    expect(restored.err).toBe('');
    expect(restored.code).toBe(0);
    const report = JSON.parse(restored.out) as { previous: string; integrity: string };
    expect(report.integrity).toBe('ok');
    const reopened = openSqliteStore(file);
    cleanup.push(() => reopened.close());
    expect((await reopened.clients.list()).map((c) => c.name)).toEqual(['Acme']);
    expect(await reopened.stages.verifyToken(f.lead.stage.id, f.lead.token)).toBe(true);
    const kept = new Database(report.previous, { readonly: true });
    expect((kept.prepare('SELECT COUNT(*) AS n FROM clients').get() as { n: number }).n).toBe(2);
    kept.close();
  });

  it('refuses a file that is not a sound Pruuv database', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const file = join(dir.dir, 'pruuv.db');
    await openSqliteStore(file).close();
    const junk = join(dir.dir, 'junk.db');
    writeFileSync(junk, 'not a database at all, just text'.repeat(200));
    const result = await cli(['db', 'restore', junk, '--db', file]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/not a readable SQLite database|Cannot open/);
    expect(existsSync(`${file}`)).toBe(true);
  });
});
