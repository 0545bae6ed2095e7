import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkError, SenderError, TimeoutError } from '../src/errors.js';
import { parseRetryAfter, redactRequest, sendHttp } from '../src/http.js';
import { NOW } from './helpers.js';

let server: Server;
let base = '';
const hung: Array<() => void> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/hang')) {
      hung.push(() => res.destroy());
      return;
    }
    if (req.url?.startsWith('/reset')) {
      req.socket.destroy();
      return;
    }
    const status = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? 200);
    res.writeHead(status, { 'content-type': 'application/json', 'Retry-After': '7' });
    res.end(JSON.stringify({ ok: status }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const h of hung) h();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('sendHttp', () => {
  it('resolves for an error status with headers and parsed JSON', async () => {
    const res = await sendHttp(fetch, { method: 'POST', url: `${base}/x?status=503`, headers: {}, body: { a: 1 } });
    expect(res).toMatchObject({ status: 503, json: { ok: 503 } });
    expect(res.headers['retry-after']).toBe('7');
  });

  it('throws TimeoutError naming method and URL without the query string', async () => {
    const error = await sendHttp(fetch, { method: 'POST', url: `${base}/hang?access_token=SECRET`, headers: {} }, 100).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toBeInstanceOf(SenderError);
    expect((error as Error).message).toBe(`POST ${base}/hang timed out after 100 ms`);
    expect((error as Error).message).not.toContain('SECRET');
    expect((error as Error).cause).toBeDefined();
  });

  it('throws NetworkError when the socket is reset', async () => {
    const error = await sendHttp(fetch, { method: 'POST', url: `${base}/reset?access_token=SECRET`, headers: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toMatch(new RegExp(`^POST ${base}/reset failed: `));
    expect((error as Error).message).not.toContain('SECRET');
  });

  it('throws NetworkError when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(sendHttp(fetch, { method: 'GET', url: `http://127.0.0.1:${port}/`, headers: {} })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('parseRetryAfter', () => {
  const cases: Array<{ value: string | undefined; expected: number | undefined }> = [
    { value: '120', expected: 120_000 },
    { value: ' 0 ', expected: 0 },
    { value: new Date(NOW.getTime() + 90_000).toUTCString(), expected: 90_000 },
    { value: new Date(NOW.getTime() - 90_000).toUTCString(), expected: 0 },
    { value: 'soon', expected: undefined },
    { value: undefined, expected: undefined },
  ];
  for (const { value, expected } of cases) {
    it(`reads ${JSON.stringify(value)} as ${expected}`, () => {
      expect(parseRetryAfter(value, NOW)).toBe(expected);
    });
  }
});

describe('redactRequest', () => {
  it('hides tokens in headers, body and query string', () => {
    const r = redactRequest({
      method: 'POST',
      url: 'https://graph.facebook.com/v26.0/1/events?access_token=SECRET',
      headers: { authorization: 'Bearer SECRET', 'Access-Token': 'SECRET', 'developer-token': 'SECRET', 'content-type': 'application/json' },
      body: { data: [], access_token: 'SECRET' },
    });
    expect(JSON.stringify(r)).not.toContain('SECRET');
    expect(r.headers['content-type']).toBe('application/json');
  });
});
