import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedClient, startCollector, tempDir, type Running } from './helpers/harness.js';

let tmp: ReturnType<typeof tempDir>;
let run: Running;

beforeEach(async () => {
  tmp = tempDir();
  run = await startCollector({ dbFile: join(tmp.dir, 'pruuv.db'), app: { adminToken: 'admin-secret-token-123456' } });
  await seedClient(run.store);
});
afterEach(async () => {
  await run.close();
  tmp.cleanup();
});

describe('unknown routes', () => {
  for (const [method, path] of [
    ['GET', '/'],
    ['GET', '/api/webhooks/funnel/x'],
    ['POST', '/nope'],
    ['DELETE', '/e'],
    ['GET', '/S.JS'],
  ] as const) {
    it(`answers ${method} ${path} with 404 JSON`, async () => {
      const res = await fetch(`${run.url}${path}`, { method });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({ error: 'Not found' });
    });
  }

  it('answers a malformed percent-encoding with JSON', async () => {
    const res = await fetch(`${run.url}/api/webhooks/funnel/%E0%A4%A`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });
});


describe('/api/admin', () => {
  describe('any answer', () => {
    it('carries the helmet headers', async () => {
      const res = await fetch(`${run.url}/api/admin/clients`);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('x-powered-by')).toBeNull();
    });
  });
});
