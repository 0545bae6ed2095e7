import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, tempDir, type Running } from './helpers/harness.js';

let tmp: ReturnType<typeof tempDir>;
let run: Running;
const SCRIPT = '(function(){window.Pruuv={v:1}})();\n';
const hash = createHash('sha256').update(SCRIPT).digest('hex');

beforeEach(async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'pruuv.min.js');
  writeFileSync(file, SCRIPT);
  run = await startCollector({ dbFile: join(tmp.dir, 'pruuv.db'), app: { pixelScriptFile: file } });
});
afterEach(async () => {
  await run.close();
  tmp.cleanup();
});

describe('GET /s.js', () => {
  describe('without If-None-Match', () => {
    it('serves the script with a 5-minute cache and a strong ETag', async () => {
      const res = await fetch(`${run.url}/s.js`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(SCRIPT);
      expect(res.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('public, max-age=300');
      expect(res.headers.get('etag')).toBe(`"${hash.slice(0, 32)}"`);
      expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      expect(res.headers.get('content-security-policy')).toBeNull();
    });
  });

  describe('with a matching If-None-Match', () => {
    it('answers 304 without a body', async () => {
      const etag = (await fetch(`${run.url}/s.js`)).headers.get('etag')!;
      for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const res = await fetch(`${run.url}/s.js`, { headers: { 'if-none-match': header } });
        expect(res.status).toBe(304);
        expect(await res.text()).toBe('');
        expect(res.headers.get('etag')).toBe(etag);
      }
    });
  });

  describe('with a stale If-None-Match', () => {
    it('serves the script', async () => {
      const res = await fetch(`${run.url}/s.js`, { headers: { 'if-none-match': '"stale"' } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(SCRIPT);
    });
  });
});

describe('GET /s.<hash8>.js', () => {
  describe('for the current content hash', () => {
    it('serves the script as immutable for a year', async () => {
      const res = await fetch(`${run.url}/s.${hash.slice(0, 8)}.js`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(SCRIPT);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    });

    it('is announced in app.locals', async () => {
      const { createApp } = await import('../src/http/app.js');
      const app = createApp({ store: run.store, pixelScriptFile: join(tmp.dir, 'pruuv.min.js') });
      expect(app.locals['pixelScript']).toEqual({ path: '/s.js', versionedPath: `/s.${hash.slice(0, 8)}.js`, etag: `"${hash.slice(0, 32)}"` });
    });
  });

  describe('for another hash', () => {
    it('answers 404', async () => {
      expect((await fetch(`${run.url}/s.00000000.js`)).status).toBe(404);
    });
  });
});

describe('the default pixel script', () => {
  it("serves @pruuv/pixel's built pruuv.min.js", async () => {
    const other = await startCollector({ dbFile: join(tmp.dir, 'other.db') });
    try {
      const res = await fetch(`${other.url}/s.js`);
      expect(res.status).toBe(200);
      const expected = readFileSync(new URL(import.meta.resolve('@pruuv/pixel/pruuv.min.js')), 'utf8');
      expect(await res.text()).toBe(expected);
    } finally {
      await other.close();
    }
  });
});
