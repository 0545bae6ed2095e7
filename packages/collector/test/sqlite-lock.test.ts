/**
 * Another process holding SQLite's write lock (a backup, `pruuv db copy`, a
 * second collector) must not freeze this one: while a write waits for the
 * lock (the built server, in its own process), the script, the dashboard's sign-in page and other reads answer within
 * 100 ms; the waiting write goes through once the lock is free, or answers 503
 * with Retry-After when it stays held past the deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postWebhook, seedClient, startCollector, tempDir, type Fixture, type Running } from './helpers/harness.js';

let dir: ReturnType<typeof tempDir>;
let run: Running;
let f: Fixture;
let holder: ChildProcess | undefined;

beforeEach(async () => {
  dir = tempDir();
  run = await startCollector({ dbFile: `${dir.dir}/pruuv.db`, db: { busyTimeoutMs: 3000 } });
  f = await seedClient(run.store);
});
afterEach(async () => {
  holder?.kill('SIGKILL');
  await run.close();
  dir.cleanup();
});

/** A second process that takes the write lock, says so, and holds it for `ms`. */
async function holdLock(ms: number): Promise<void> {
  const script = `
    const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
    const db = new Database(${JSON.stringify(run.dbFile)});
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${ms});
    db.exec('COMMIT');
    db.close();`;
  holder = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder!.stdout!.once('data', () => resolve());
    holder!.once('exit', (code) => reject(new Error(`lock holder exited (${code}) before locking`)));
  });
}

const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a write lock held by another process', () => {
  it('keeps the script, the sign-in page and reads answering while a webhook write waits, then stores it', async () => {
    // The collector in its own process (the built bin), as in production: a blocked event loop
    // there cannot hide behind this test's own.
    const port = await freePort();
    const server = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--json'], {
      env: { PATH: process.env.PATH, PRUUV_DB: run.dbFile, PRUUV_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 15_000);
        server.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('collector listening')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const base = `http://127.0.0.1:${port}`;
      await holdLock(1500);
      const write = fetch(`${base}/api/webhooks/funnel/${f.lead.stage.id}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${f.lead.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reference: 'during-lock' }),
      });
      await new Promise((r) => setTimeout(r, 150)); // the write is now waiting for the lock
      for (const path of ['/s.js', '/dashboard/sign-in', '/s.js']) {
        const started = performance.now();
        const res = await fetch(`${base}${path}`);
        await res.arrayBuffer();
        expect(res.status, path).toBe(200);
        expect(performance.now() - started, path).toBeLessThan(100);
      }
      expect((await write).status).toBe(200);
      expect((await run.store.events.list({ limit: 10 })).map((e) => e.reference)).toContain('during-lock');
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('answers 503 with Retry-After when the lock outlasts the wait, storing nothing', async () => {
    await holdLock(5000);
    const res = await postWebhook(run, f.lead.stage.id, f.lead.token, { reference: 'too-late' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    holder?.kill('SIGKILL');
    expect((await run.store.events.list({ limit: 10 })).map((e) => e.reference)).not.toContain('too-late');
  });
});
