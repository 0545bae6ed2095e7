import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/app.js';
import { DEMO_DIR, demoBanner, demoOrigins, setupDemo } from '../src/demo.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/types.js';

let dir: string;
let store: Store;
let server: Server | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pruuv-demo-'));
  store = openSqliteStore(join(dir, 'demo.db'));
});
afterEach(async () => {
  if (server !== undefined) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function listen(): Promise<string> {
  server = createApp({ store }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server!.once('listening', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

async function postWebhook(url: string, token: string, reference: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ reference, gclid: 'Cj0-demo', revenue_value: 250, currency: 'GBP' }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('demoOrigins', () => {
  const cases = [
    { base: 'http://localhost:8787', expected: ['http://localhost:8787', 'http://127.0.0.1:8787'] },
    { base: 'http://127.0.0.1:9000/', expected: ['http://127.0.0.1:9000', 'http://localhost:9000'] },
    { base: 'https://demo.example', expected: ['https://demo.example'] },
  ];
  for (const { base, expected } of cases) {
    it(`allows ${expected.join(' and ')} for ${base}`, () => {
      expect(demoOrigins(base)).toEqual(expected);
    });
  }
});

describe('setupDemo', () => {
  it('is idempotent and returns working tokens each time', async () => {
    const base = await listen();
    const first = await setupDemo(store, base);
    const second = await setupDemo(store, base);

    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.client.id).toBe(first.client.id);
    expect(await store.clients.list()).toHaveLength(1);
    expect((await store.stages.list(first.client.id)).map((s) => s.key).sort()).toEqual(['lead', 'sale']);
    expect(second.stages.lead.stage.id).toBe(first.stages.lead.stage.id);
    expect(second.stages.sale.stage.id).toBe(first.stages.sale.stage.id);
    expect(first.client.origins).toEqual(demoOrigins(base).sort());

    // Rotate-on-start: the second start's tokens work, the first start's no longer do.
    expect(second.stages.sale.token).not.toBe(first.stages.sale.token);
    const accepted = await postWebhook(second.stages.sale.webhook_url, second.stages.sale.token, 'demo-sale-001');
    expect(accepted).toMatchObject({ status: 200, body: { received: true } });
    expect(await postWebhook(second.stages.lead.webhook_url, second.stages.lead.token, 'demo-lead-001')).toMatchObject({ status: 200 });
    expect((await postWebhook(first.stages.sale.webhook_url, first.stages.sale.token, 'demo-sale-002')).status).toBe(401);

    const events = await store.events.list({ client_id: first.client.id });
    expect(events.map((e) => e.reference).sort()).toEqual(['demo-lead-001', 'demo-sale-001']);
  });

  it('moves the demo origins with the port', async () => {
    await setupDemo(store, 'http://localhost:8787');
    const moved = await setupDemo(store, 'http://localhost:9999');
    expect(moved.client.origins.sort()).toEqual(['http://127.0.0.1:9999', 'http://localhost:9999']);
  });

  it('prints URLs, stage ids, tokens, a curl line and the events command', async () => {
    const setup = await setupDemo(store, 'http://localhost:8787');
    const banner = demoBanner(setup, { baseUrl: 'http://localhost:8787', dbFile: join(dir, 'demo.db'), scriptPath: '/s.js' });
    expect(banner).toContain('http://localhost:8787/demo/');
    expect(banner).toContain('http://localhost:8787/s.js');
    for (const { stage, token, webhook_url } of Object.values(setup.stages)) {
      expect(banner).toContain(stage.id);
      expect(banner).toContain(token);
      expect(banner).toContain(webhook_url);
    }
    expect(banner).toContain(`curl -X POST ${setup.stages.sale.webhook_url} -H "Authorization: Bearer ${setup.stages.sale.token}"`);
    expect(banner).toMatch(/npx pruuv events list --db \S*demo\.db/);
  });

  it('points at the example landing page', () => {
    expect(existsSync(join(DEMO_DIR, 'index.html'))).toBe(true);
  });
});

describe('the demo dashboard', () => {
  it('makes a demo admin whose password changes at every start, and prints how to sign in', async () => {
    const { signIn } = await import('../src/dashboard/auth/sign-in.js');
    const { setupDemoAdmin } = await import('../src/demo.js');
    const first = await setupDemoAdmin(store);
    expect(first.email).toBe('demo@pruuv.example');
    expect((await signIn(store, { email: first.email, password: first.password, address: '127.0.0.1' }, new Date())).ok).toBe(true);
    const second = await setupDemoAdmin(store);
    expect(second.password).not.toBe(first.password);
    expect((await signIn(store, { email: first.email, password: first.password, address: '127.0.0.2' }, new Date())).ok).toBe(false);
    expect(await store.users.count()).toBe(1);
    const setup = await setupDemo(store, 'http://localhost:8787');
    const banner = demoBanner(setup, { baseUrl: 'http://localhost:8787', dbFile: join(dir, 'demo.db'), scriptPath: '/s.js', admin: second });
    expect(banner).toContain('Dashboard:          http://localhost:8787/dashboard');
    expect(banner).toContain(`sign in as demo@pruuv.example with the password ${second.password}`);
  });

  it('seeds a week of events sent by real passes to the sandbox, one pass per day, the same on every run', async () => {
    const { parseKeyRing } = await import('@pruuv/sender');
    const { startFakePlatforms } = await import('@pruuv/fakes');
    const { seedDemoHistory } = await import('../src/demo-history.js');
    const { setupDemoSending } = await import('../src/demo.js');
    const now = new Date();
    const fakes = await startFakePlatforms({ now: () => now });
    try {
      const ring = parseKeyRing(Buffer.alloc(32, 7).toString('base64'));
      const setup = await setupDemo(store, 'http://localhost:8787');
      await setupDemoSending(store, setup.client, ring);
      const stored = await seedDemoHistory(store, { client: setup.client, stages: { lead: setup.stages.lead.stage, sale: setup.stages.sale.stage }, keyRing: ring, urls: fakes.urls, now });
      expect(stored).toBeGreaterThan(7 * 14);
      const sends = await store.sends.list({ limit: 1000 });
      const days = new Set(sends.map((s) => s.attempted_at.slice(0, 10)));
      expect(days.size).toBeGreaterThanOrEqual(7);
      expect(sends.filter((s) => s.status === 'sent').length).toBeGreaterThan(50);
      expect(sends.every((s) => Date.parse(s.attempted_at) <= now.getTime())).toBe(true);
      // Every Meta, Google and TikTok conversion the fakes counted is a stored event's, once.
      for (const platform of ['meta', 'google', 'tiktok'] as const) {
        expect(fakes.counted(platform).size, platform).toBe(sends.filter((s) => s.platform === platform && s.status === 'sent').length);
      }
      // The same seed, the same history.
      const again = openSqliteStore(join(dir, 'again.db'));
      try {
        const s2 = await setupDemo(again, 'http://localhost:8787');
        await setupDemoSending(again, s2.client, ring);
        expect(await seedDemoHistory(again, { client: s2.client, stages: { lead: s2.stages.lead.stage, sale: s2.stages.sale.stage }, keyRing: ring, urls: fakes.urls, now })).toBe(stored);
      } finally {
        await again.close();
      }
    } finally {
      await fakes.close();
    }
  });
});
