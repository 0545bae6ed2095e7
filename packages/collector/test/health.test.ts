/**
 * `/healthz` and `/readyz` over real HTTP on 127.0.0.1: ready on start, not
 * ready while another process holds SQLite's write lock, while PostgreSQL is
 * down, while the schema is a newer version's and while shutting down; ready
 * again after each. `pruuv worker --health-port` answers the same.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, chmod, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createTestDatabase, startEmbeddedCluster, type EmbeddedCluster } from '@pruuv/testkit/postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../src/config.js';
import { startServer, type RunningServer } from '../src/http/server.js';
import { createLogger } from '../src/logger.js';
import { DEFAULT_OPS_CONFIG } from '../src/ops/ops-config.js';
import { startWorker } from '../src/send/worker.js';
import { tempDir } from './helpers/harness.js';

const silent = createLogger({ level: 'silent' });
let cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function configFor(env: Record<string, string>, ops: Partial<Config['ops']> = {}): Config {
  return { ...loadConfig({ PRUUV_LOG_LEVEL: 'silent', ...env }), port: 0, host: '127.0.0.1', ops: { ...DEFAULT_OPS_CONFIG, readyTimeoutMs: 300, ...ops } };
}

async function serve(config: Config): Promise<RunningServer> {
  const run = await startServer(config, { logger: silent, handleSignals: false, send: { mode: 'off' }, app: { dashboard: false } });
  cleanup.push(() => run.close());
  return run;
}

async function probe(base: string, path: '/healthz' | '/readyz'): Promise<{ status: number; body: Record<string, string>; text: string; headers: Headers }> {
  const res = await fetch(`${base}${path}`);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, string>, text, headers: res.headers };
}

/** Another process takes SQLite's write lock and holds it until killed. */
async function holdLock(file: string): Promise<ChildProcess> {
  const script = `
    const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
    const db = new Database(${JSON.stringify(file)});
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);`;
  const holder = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.push(() => holder.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`lock holder exited (${code}) before locking`)));
  });
  return holder;
}

async function eventually<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await get();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('GET /healthz and /readyz on SQLite', () => {
  it('is ready on start, and answers without versions, paths or hosts', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const run = await serve(configFor({ PRUUV_DB: join(dir.dir, 'pruuv.db') }));
    const health = await probe(run.url, '/healthz');
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    const ready = await probe(run.url, '/readyz');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready' } });
    for (const r of [health, ready]) {
      expect(r.text).not.toContain(dir.dir);
      expect(r.text).not.toMatch(/\d+\.\d+\.\d+|sqlite|pruuv/i);
      expect(r.headers.get('x-powered-by')).toBeNull();
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
    expect((await fetch(`${run.url}/readyz`, { method: 'POST' })).status).toBe(405);
  });

  it('is not ready while another process holds the write lock, alive all along, and ready again once it lets go', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const file = join(dir.dir, 'pruuv.db');
    const run = await serve(configFor({ PRUUV_DB: file }));
    const holder = await holdLock(file);
    const started = performance.now();
    expect(await probe(run.url, '/readyz')).toMatchObject({ status: 503, body: { status: 'not ready', reason: 'database' } });
    // Within the 300 ms timeout and a little: the probe does not hang on the lock.
    expect(performance.now() - started).toBeLessThan(1500);
    expect((await probe(run.url, '/healthz')).status).toBe(200);
    holder.kill('SIGKILL');
    const after = await eventually(() => probe(run.url, '/readyz'), (r) => r.status === 200);
    expect(after).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('is not ready when the database holds a migration this version does not know', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const file = join(dir.dir, 'pruuv.db');
    const run = await serve(configFor({ PRUUV_DB: file }));
    const other = new Database(file);
    cleanup.push(() => other.close());
    other.prepare("INSERT INTO schema_migrations (name, applied_at) VALUES ('999_from_the_future.sql', '2030-01-01')").run();
    expect(await probe(run.url, '/readyz')).toMatchObject({ status: 503, body: { status: 'not ready', reason: 'schema' } });
    other.prepare("DELETE FROM schema_migrations WHERE name = '999_from_the_future.sql'").run();
    expect((await probe(run.url, '/readyz')).status).toBe(200);
  });

  it('fails /readyz first on shutdown, keeps /healthz, then drains; a restart is ready again', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const file = join(dir.dir, 'pruuv.db');
    const run = await serve(configFor({ PRUUV_DB: file }, { shutdownDelayMs: 600 }));
    expect((await probe(run.url, '/readyz')).status).toBe(200);
    const closing = run.close();
    expect(await probe(run.url, '/readyz')).toMatchObject({ status: 503, body: { status: 'not ready', reason: 'shutting_down' } });
    expect((await probe(run.url, '/healthz')).status).toBe(200);
    // Still serving the app during the delay.
    expect((await fetch(`${run.url}/api/webhooks/funnel/nope`, { method: 'POST' })).status).toBe(404);
    await closing;
    await expect(fetch(`${run.url}/healthz`)).rejects.toThrow();
    const again = await serve(configFor({ PRUUV_DB: file }));
    expect((await probe(again.url, '/readyz')).status).toBe(200);
  });
});

describe('pruuv worker --health-port', () => {
  it('answers /healthz and /readyz, 404 elsewhere, and not ready once stopping', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const worker = await startWorker(configFor({ PRUUV_DB: join(dir.dir, 'pruuv.db') }, { shutdownDelayMs: 400 }), {
      logger: silent,
      send: { mode: 'off' },
      handleSignals: false,
      healthPort: 0,
    });
    cleanup.push(() => worker.close());
    const base = `http://127.0.0.1:${worker.health!.port}`;
    expect(await probe(base, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await probe(base, '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect((await fetch(`${base}/dashboard`)).status).toBe(404);
    const closing = worker.close();
    expect(await probe(base, '/readyz')).toMatchObject({ status: 503, body: { reason: 'shutting_down' } });
    await closing;
  });
});

describe('GET /readyz on PostgreSQL', () => {
  it('is not ready while the server is down, and ready again once it is back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pruuv-ready-'));
    await chmod(dir, 0o755);
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    let cluster: EmbeddedCluster = await startEmbeddedCluster({ dir: join(dir, 'data'), persistent: true });
    const { port, password } = cluster;
    cleanup.push(() => cluster.stop());
    const db = await createTestDatabase(cluster.adminUrl);
    const run = await serve(configFor({ PRUUV_DATABASE_URL: db.url }));
    expect(await probe(run.url, '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });

    await cluster.stop();
    const down = await probe(run.url, '/readyz');
    expect(down).toMatchObject({ status: 503, body: { status: 'not ready', reason: 'database' } });
    expect(down.text).not.toContain(String(port));
    expect((await probe(run.url, '/healthz')).status).toBe(200);

    cluster = await startEmbeddedCluster({ dir: join(dir, 'data'), port, password, persistent: true });
    const back = await eventually(() => probe(run.url, '/readyz'), (r) => r.status === 200);
    expect(back).toMatchObject({ status: 200, body: { status: 'ready' } });
  }, 60_000);
});
