import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, tempDir, type Running } from './helpers/harness.js';

let tmp: ReturnType<typeof tempDir>;
let run: Running;

beforeEach(async () => {
  tmp = tempDir();
  const demo = join(tmp.dir, 'demo');
  mkdirSync(join(demo, 'sub'), { recursive: true });
  writeFileSync(join(demo, 'index.html'), '<script>Pruuv.init({site:"DEMO_SITE_KEY"})</script>DEMO_SITE_KEY');
  writeFileSync(join(demo, 'sub', 'page.html'), '<p>DEMO_SITE_KEY</p>');
  writeFileSync(join(demo, 'app.js'), 'const k = "DEMO_SITE_KEY";');
  writeFileSync(join(tmp.dir, 'secret.html'), 'secret');
  run = await startCollector({ dbFile: join(tmp.dir, 'pruuv.db'), app: { demoDir: demo, demoSiteKey: 'site_demo123' } });
});
afterEach(async () => {
  await run.close();
  tmp.cleanup();
});

describe('GET /demo/', () => {
  describe('for an HTML page', () => {
    it('replaces every DEMO_SITE_KEY with the site key', async () => {
      for (const path of ['/demo/', '/demo/index.html', '/demo']) {
        const res = await fetch(`${run.url}${path}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(await res.text()).toBe('<script>Pruuv.init({site:"site_demo123"})</script>site_demo123');
      }
      expect(await (await fetch(`${run.url}/demo/sub/page.html`)).text()).toBe('<p>site_demo123</p>');
    });

    it('allows inline scripts but keeps the other helmet headers', async () => {
      const res = await fetch(`${run.url}/demo/`);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self' 'unsafe-inline'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    });
  });

  describe('for another file', () => {
    it('serves it unchanged', async () => {
      expect(await (await fetch(`${run.url}/demo/app.js`)).text()).toBe('const k = "DEMO_SITE_KEY";');
    });
  });

  describe('outside the folder', () => {
    it('answers 404 JSON', async () => {
      for (const path of ['/demo/..%2Fsecret.html', '/demo/%2e%2e/secret.html', '/demo/missing.html']) {
        const res = await fetch(`${run.url}${path}`);
        expect(res.status).toBe(404);
        expect(await res.text()).not.toContain('secret');
      }
    });
  });
});
