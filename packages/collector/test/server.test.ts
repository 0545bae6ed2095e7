import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { ServerStartError, startServer, type RunningServer } from '../src/http/server.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { addUser, browser } from './dashboard/helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

let dir: string;
let config: Config;
let running: RunningServer | undefined;
let logLines: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pruuv-server-'));
  config = { ...loadConfig({ PRUUV_DB: join(dir, 'pruuv.db'), PRUUV_ADMIN_TOKEN: ADMIN_TOKEN }), port: 0, host: '127.0.0.1' };
  logLines = [];
});
afterEach(async () => {
  await running?.close();
  running = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function start(overrides: Partial<Config> = {}) {
  const logger = createLogger({ pretty: false, destination: { write: (line: string) => void logLines.push(line) } });
  return startServer({ ...config, ...overrides }, { logger, handleSignals: false });
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('startServer', () => {
  it('serves the app on the configured address and logs each request', async () => {
    running = await start();
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
    const res = await fetch(`${running.url}/api/admin/clients?gclid=abc`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    await tick(10);
    const requests = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
    expect(requests).toEqual([expect.objectContaining({ method: 'GET', path: '/api/admin/clients', status: 200 })]);
    expect(logLines.join('')).not.toContain(ADMIN_TOKEN);
  });

  it('finishes an in-flight request, refuses new connections, then closes the database', async () => {
    running = await start();
    const { port } = running;
    const body = JSON.stringify({ name: 'In flight' });
    const half = Math.floor(body.length / 2);

    // A request whose body is only half sent when the shutdown starts.
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let response = '';
    socket.on('data', (chunk) => (response += chunk.toString()));
    const ended = new Promise((resolve) => socket.once('close', resolve));
    socket.write(
      `POST /api/admin/clients HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, half)}`,
    );
    await tick(50);

    let closed = false;
    const closing = running.close().then(() => (closed = true));
    await tick(50);
    expect(closed).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/api/admin/clients`)).rejects.toThrow();

    socket.write(body.slice(half));
    await closing;
    await ended;
    expect(response).toMatch(/^HTTP\/1\.1 201 /);
    expect(response.toLowerCase()).toContain('connection: close');

    // The write made it to the database, which is closed now.
    await expect(running!.store.clients.list()).rejects.toThrow();
    const store = openSqliteStore(config.dbFile);
    expect((await store.clients.list()).map((c) => c.name)).toEqual(['In flight']);
    await store.close();
    expect(logLines.some((l) => l.includes('collector stopped'))).toBe(true);
    running = undefined;
  });

  it('closes idempotently', async () => {
    running = await start();
    const first = running.close();
    expect(running.close()).toBe(first);
    await first;
    running = undefined;
  });

  it('says which port is taken', async () => {
    const blocker = createTcpServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await expect(start({ port })).rejects.toThrow(ServerStartError);
      await expect(start({ port })).rejects.toThrow(`Port ${port} is already in use`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("shows the configured send schedule on the dashboard's overview", async () => {
    running = await start({ send: { ...config.send, cron: '30 4 * * *' } });
    await addUser(running.store, 'ada@agency.example', 'admin');
    const b = browser(running.url);
    await b.signIn('ada@agency.example');
    const html = await (await b.get('/dashboard')).text();
    expect(html).toMatch(/\d{4}-\d\d-\d\d 04:30 UTC \(in [^)]+\); schedule <code>30 4 \* \* \*<\/code>/);
  });
});
