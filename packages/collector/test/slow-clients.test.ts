/**
 * Slow and greedy clients against the real server (`startServer`): slow headers
 * and slow bodies are cut at their timeouts, one address cannot hold more than
 * its connections, and a normal request stays fast meanwhile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/http/server.js';
import { createLogger } from '../src/logger.js';

let dir: string;
let running: RunningServer | undefined;
const logLines: string[] = [];
const sockets: Socket[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pruuv-slow-'));
  const config = { ...loadConfig({ PRUUV_DB: join(dir, 'pruuv.db') }), port: 0, host: '127.0.0.1' };
  const logger = createLogger({ pretty: false, destination: { write: (line: string) => void logLines.push(line) } });
  running = await startServer(config, {
    logger,
    handleSignals: false,
    send: { mode: 'off' },
    limits: { headersTimeoutMs: 400, requestTimeoutMs: 800, connectionsPerAddress: 5 },
  });
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(): Promise<Socket> {
  const { port } = new URL(running!.url.replace('localhost', '127.0.0.1'));
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
    sockets.push(socket);
  });
}

/** Resolves with how long the server took to close the connection (and what it sent). */
function closedAfter(socket: Socket): Promise<{ ms: number; data: string }> {
  const started = Date.now();
  let data = '';
  socket.on('data', (chunk) => (data += chunk.toString()));
  return new Promise((resolve) => socket.once('close', () => resolve({ ms: Date.now() - started, data })));
}

async function timedGet(path: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${running!.url}${path}`);
  await res.arrayBuffer();
  expect(res.status).toBe(200);
  return performance.now() - started;
}

describe('slow clients', () => {
  it('cuts a client that sends its headers slowly, with a 408, while others are served at once', async () => {
    const slow = await open();
    slow.write('GET /s.js HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => slow.writable && slow.write('X-Slow: 1\r\n'), 100);
    const closed = closedAfter(slow);
    expect(await timedGet('/s.js')).toBeLessThan(1000);
    const { ms, data } = await closed;
    clearInterval(drip);
    expect(ms).toBeLessThan(2000);
    expect(data).toMatch(/^HTTP\/1\.1 408/);
  });

  it('cuts a client that sends its body slowly', async () => {
    const slow = await open();
    slow.write('POST /e HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n\r\n');
    const drip = setInterval(() => slow.writable && slow.write('a'), 100);
    const { ms } = await closedAfter(slow);
    clearInterval(drip);
    expect(ms).toBeLessThan(2500);
    expect(await timedGet('/s.js')).toBeLessThan(1000);
  });

  it('closes connections past the per-address limit, logs it once, and serves again when they go', async () => {
    const held = await Promise.all(Array.from({ length: 5 }, () => open()));
    const extra = await open();
    const { ms } = await closedAfter(extra);
    expect(ms).toBeLessThan(500);
    const again = await open();
    await closedAfter(again);
    expect(logLines.filter((l) => l.includes('too many connections from one address')).length).toBe(1);
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(await timedGet('/s.js')).toBeLessThan(1000);
  });
});
