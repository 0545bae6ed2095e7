/**
 * Forged pixel beacons (issue 21): the site key is public, so anyone can post to `/e` with the
 * page's Origin copied in. Real HTTP on 127.0.0.1, real SQLite files, the real send pass against
 * the strict fake platforms.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PLATFORM_IDS } from '@pruuv/sender';
import { loadConfig } from '../src/config.js';
import { createBeaconLimits } from '../src/domain/beacon-limits.js';
import { createApp } from '../src/http/app.js';
import { startServer, type RunningServer } from '../src/http/server.js';
import { createLogger } from '../src/logger.js';
import { eventCount, PAGE_ORIGIN, postWebhook, seedClient, startCollector, tempDir, type Running } from './helpers/harness.js';
import { beacon, BROWSER_HEADERS, postBeacon, rawRequest } from './helpers/payloads.js';
import { receipts, sendEnv, type SendEnv } from './send-helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Runs `tasks` with at most `width` in flight (a browser-like number of sockets, not 1,100 at once). */
async function pooled<T>(tasks: Array<() => Promise<T>>, width = 32): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

/** The attacker's loop: `count` beacons with invented click IDs, each its own reference. */
function forgedFlood(run: Running, site: string, count: number, headers: Record<string, string> = {}): Array<() => Promise<Response>> {
  return Array.from({ length: count }, (_, i) => () =>
    postBeacon(run, beacon(site, { reference: `forged-${i}`, clicks: { gclid: { value: `Cj0KCQ-forged-${i}`, ts: '2026-03-02T09:00:00.000Z' } } }), { headers }),
  );
}

async function collector(app: Parameters<typeof startCollector>[0]['app'] = {}): Promise<Running> {
  const tmp = tempDir();
  const run = await startCollector({ dbFile: join(tmp.dir, 'pruuv.db'), app });
  cleanups.push(() => tmp.cleanup(), () => run.close());
  return run;
}

describe('a flood of beacons from one address', () => {
  it('stores at most the burst (60) and answers the rest 429 with Retry-After; the stage\'s CRM webhook answers 200 during and after', async () => {
    const run = await collector();
    const f = await seedClient(run.store);
    const flood = forgedFlood(run, f.client.site_key, 1100);
    // The CRM posts to the same stage while the flood runs.
    const crm = Array.from({ length: 20 }, (_, i) => () => postWebhook(run, f.lead.stage.id, f.lead.token, { reference: `CRM-${i}`, gclid: `G-${i}` }));
    const answers = await pooled([...flood.slice(0, 550), ...crm, ...flood.slice(550)]);
    const beacons = answers.filter((r) => !r.url.includes('/api/webhooks/'));
    const webhook = answers.filter((r) => r.url.includes('/api/webhooks/'));
    expect(beacons.filter((r) => r.status === 200)).toHaveLength(60);
    const refused = beacons.filter((r) => r.status === 429);
    expect(refused).toHaveLength(1040);
    expect(refused.every((r) => Number(r.headers.get('retry-after')) >= 1)).toBe(true);
    expect(await refused[0]!.json()).toEqual({ error: 'Rate limit exceeded' });
    expect(webhook.map((r) => r.status)).toEqual(Array(20).fill(200));
    const after = await postWebhook(run, f.lead.stage.id, f.lead.token, { reference: 'CRM-after' });
    expect(after.status).toBe(200);
    expect(eventCount(run.db)).toBe(60 + 21);
  });

  it('never uses up the stage\'s webhook quota, even when the pixel limits let 1,100 beacons through', async () => {
    // Pixel limits far above the flood, so only the stage quota could refuse the CRM.
    const open = await collector({ beaconLimits: createBeaconLimits({ burst: 5000, perMinute: 60, sitePerHour: 5000 }) });
    const f = await seedClient(open.store);
    const answers = await pooled(forgedFlood(open, f.client.site_key, 1100));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1100);
    const crm = await postWebhook(open, f.lead.stage.id, f.lead.token, { reference: 'CRM-REF-001', gclid: 'EAIaIQobCh' });
    expect(crm.status).toBe(200);
    expect(await crm.json()).toEqual({ received: true, event_id: expect.any(String) });
  });
});

describe('a flood from many addresses behind PRUUV_TRUST_PROXY', () => {
  let running: RunningServer | undefined;
  let dir: string;
  const logLines: string[] = [];
  afterEach(async () => {
    await running?.close();
    running = undefined;
    rmSync(dir, { recursive: true, force: true });
    logLines.length = 0;
  });

  async function serve(env: Record<string, string>): Promise<RunningServer> {
    dir = mkdtempSync(join(tmpdir(), 'pruuv-forged-'));
    const config = { ...loadConfig({ PRUUV_DB: join(dir, 'pruuv.db'), PRUUV_ADMIN_TOKEN: ADMIN_TOKEN, ...env }), port: 0, host: '127.0.0.1' };
    const logger = createLogger({ pretty: false, destination: { write: (line: string) => void logLines.push(line) } });
    running = await startServer(config, { logger, handleSignals: false, send: { mode: 'off' } });
    return running;
  }

  it('stays within the site budget (PRUUV_PIXEL_SITE_PER_HOUR), each address under its own burst; logged once per window, without bodies or addresses', async () => {
    const server = await serve({ PRUUV_TRUST_PROXY: 'loopback', PRUUV_PIXEL_SITE_PER_HOUR: '100' });
    const f = await seedClient(server.store);
    const run = { url: server.url } as Running;
    // 300 addresses, one beacon each: every per-address bucket has room, the site's has 100.
    const flood = Array.from({ length: 300 }, (_, i) => () =>
      postBeacon(run, beacon(f.client.site_key, { reference: `bot-${i}`, email_sha256: 'a'.repeat(64) }), {
        // What the proxy on loopback appends: the address it saw.
        headers: { 'x-forwarded-for': `203.0.${113 + Math.floor(i / 250)}.${i % 250}` },
      }),
    );
    const answers = await pooled(flood);
    expect(answers.filter((r) => r.status === 200)).toHaveLength(100);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(200);
    expect((await server.store.events.list({ limit: 1000 })).length).toBe(100);
    // The webhook is not behind the pixel's budget.
    expect((await postWebhook(run, f.lead.stage.id, f.lead.token, { reference: 'CRM-1' })).status).toBe(200);

    await server.close();
    running = undefined;
    const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'pixel: beacons throttled (429) or held');
    expect(lines).toEqual([expect.objectContaining({ client_id: f.client.id, throttled_address: 0, throttled_site: 200, held: 0 })]);
    const all = logLines.join('');
    expect(all).not.toContain('203.0.113.');
    expect(all).not.toContain('"bot-');
    expect(all).not.toContain('a'.repeat(64));
  });

  it('takes the address from X-Forwarded-For only behind PRUUV_TRUST_PROXY: without it, one socket address is one bucket', async () => {
    // One beacon a minute after the burst: this process's real clock cannot refill the bucket
    // while the 100 go, however slow the machine (at the default 60 a minute a second's delay lets a 61st in).
    const server = await serve({ PRUUV_PIXEL_SITE_PER_HOUR: '100', PRUUV_PIXEL_PER_MINUTE: '1' });
    const f = await seedClient(server.store);
    const run = { url: server.url } as Running;
    const answers = await pooled(
      Array.from({ length: 100 }, (_, i) => () =>
        postBeacon(run, beacon(f.client.site_key, { reference: `bot-${i}` }), { headers: { 'x-forwarded-for': `203.0.113.${i}` } }),
      ),
    );
    expect(answers.filter((r) => r.status === 200)).toHaveLength(60);
    expect(await server.store.throttles.counts(new Date(0))).toEqual([]);
    await server.close();
    running = undefined;
    // Stored once the window closes (here at shutdown): the CLI and the dashboard read them.
    const { openSqliteStore } = await import('../src/store/sqlite/index.js');
    const reopened = openSqliteStore(join(dir, 'pruuv.db'));
    expect(await reopened.throttles.counts(new Date(0))).toEqual([{ client_id: f.client.id, address: 40, site: 0 }]);
    await reopened.close();
  });
});

describe('beacons without a browser\'s signals', () => {
  let env: SendEnv;
  let run: Running;

  async function setup(): Promise<void> {
    env = await sendEnv();
    cleanups.push(() => env.close());
    await env.store.clients.setOrigins(env.client.id, [PAGE_ORIGIN]);
    const app = createApp({ store: env.store, now: env.clock.now, adminToken: ADMIN_TOKEN });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    run = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } as Running;
  }

  const clickTs = () => new Date(env.clock.now().getTime() - 3_600_000).toISOString();
  /**
   * Posts a beacon with exactly `headers` besides the body's (node:http: Node's fetch would add
   * `Sec-Fetch-Mode: cors` and `User-Agent: node` of its own).
   */
  async function send(reference: string, headers: Record<string, string>): Promise<string> {
    const body = beacon(env.client.site_key, {
      reference,
      client_time: env.clock.now().toISOString(),
      consent: 'granted',
      clicks: { fbclid: { value: `IwAR-${reference}`, ts: clickTs() }, gclid: { value: `Cj0-${reference}`, ts: clickTs() }, ttclid: { value: `E.C.P.${reference}`, ts: clickTs() } },
    });
    const res = await rawRequest(`${run.url}/e`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: PAGE_ORIGIN, ...headers },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    // Answered exactly like a beacon that passes: the sender learns nothing.
    expect(JSON.parse(res.body)).toEqual({ received: true, event_id: body.event_id });
    return body.event_id;
  }

  /** The browser's headers with `changes` applied (`undefined` removes one). */
  const browserWith = (changes: Record<string, string | undefined>): Record<string, string> =>
    Object.fromEntries(Object.entries({ ...BROWSER_HEADERS, ...changes }).filter((e): e is [string, string] => e[1] !== undefined));

  const cases: Array<{ name: string; headers: Record<string, string>; reason: string }> = [
    { name: 'a curl user agent', headers: { 'user-agent': 'curl/8.5.0' }, reason: 'bot_user_agent' },
    { name: 'a crawler with fetch metadata', headers: browserWith({ 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' }), reason: 'bot_user_agent' },
    { name: 'headless Chrome', headers: browserWith({ 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36' }), reason: 'bot_user_agent' },
    { name: 'Node\'s fetch as it is', headers: { 'user-agent': 'node', 'sec-fetch-mode': 'cors' }, reason: 'bot_user_agent' },
    { name: 'no user agent', headers: browserWith({ 'user-agent': undefined }), reason: 'no_user_agent' },
    { name: 'a user agent no browser sends today', headers: browserWith({ 'user-agent': 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)' }), reason: 'not_a_browser_user_agent' },
    { name: 'no Sec-Fetch-Site (Safari 16.3)', headers: browserWith({ 'sec-fetch-site': undefined }), reason: 'no_fetch_metadata' },
    { name: 'no Sec-Fetch-Mode', headers: browserWith({ 'sec-fetch-mode': undefined }), reason: 'no_fetch_metadata' },
    { name: 'no fetch metadata at all', headers: { 'user-agent': BROWSER_HEADERS['user-agent']! }, reason: 'no_fetch_metadata' },
    { name: 'the fetch metadata of a navigation', headers: browserWith({ 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }), reason: 'not_a_beacon' },
    { name: 'a request typed in the address bar', headers: browserWith({ 'sec-fetch-site': 'none' }), reason: 'not_a_beacon' },
  ];

  it('are held with their reason, not sent by the next pass, and sent after an admin releases them', async () => {
    await setup();
    const real = await send('real', { ...BROWSER_HEADERS });
    const sameOrigin = await send('same-origin', browserWith({ 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'no-cors' }));
    const held = new Map<string, { reason: string; name: string }>();
    for (const c of cases) held.set(await send(`v-${held.size}`, c.headers), c);
    for (const [id, c] of held) expect((await env.store.events.get(id))?.held_reason, c.name).toBe(c.reason);
    expect((await env.store.events.get(sameOrigin))?.held_reason).toBeUndefined();
    expect((await env.store.events.get(real))?.held_reason).toBeUndefined();

    const first = await env.pass();
    expect(first.claimed).toBe(2 * PLATFORM_IDS.length);
    for (const platform of ['meta', 'google', 'tiktok'] as const) {
      expect(receipts(env.fakes, platform, real), platform).toEqual([1]);
      expect(receipts(env.fakes, platform, sameOrigin), platform).toEqual([1]);
      for (const id of held.keys()) expect(receipts(env.fakes, platform, id)).toEqual([]);
    }
    const listed = await fetch(`${run.url}/api/admin/events?held=true`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(((await listed.json()) as { events: Array<{ id: string }> }).events.map((e) => e.id).sort()).toEqual([...held.keys()].sort());
    const summary = await fetch(`${run.url}/api/admin/beacons`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(await summary.json()).toMatchObject({ sites: [{ client_id: env.client.id, client_name: 'Acme', held: cases.length }] });

    // A second pass a day later still leaves them alone.
    env.clock.advance(86_400_000);
    expect((await env.pass()).claimed).toBe(0);

    const release = await fetch(`${run.url}/api/admin/events/release`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client: env.client.id }),
    });
    expect(release.status).toBe(200);
    expect(((await release.json()) as { released: string[] }).released.sort()).toEqual([...held.keys()].sort());
    const second = await env.pass();
    expect(second.claimed).toBe(PLATFORM_IDS.length * cases.length);
    for (const id of held.keys()) expect(receipts(env.fakes, 'meta', id)).toEqual([1]);
    expect(await env.store.events.heldCounts()).toEqual([]);
  });

  it('answers 400 to a release without a client or ids, and 404 for an unknown client', async () => {
    await setup();
    const post = (body: unknown) =>
      fetch(`${run.url}/api/admin/events/release`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({})).status).toBe(400);
    expect((await post({ event_ids: 'x' })).status).toBe(400);
    expect((await post({ client: 'cli_nope' })).status).toBe(404);
  });

  it('are not held when PRUUV_PIXEL_HOLD leaves their signal out', async () => {
    const tmp = tempDir();
    const r = await startCollector({ dbFile: join(tmp.dir, 'pruuv.db'), app: { beaconSignals: ['bot'] } });
    cleanups.push(() => tmp.cleanup(), () => r.close());
    const f = await seedClient(r.store);
    const id = randomUUID();
    await postBeacon(r, beacon(f.client.site_key, { event_id: id }), { headers: { 'sec-fetch-site': '', 'sec-fetch-mode': '' }, browser: false });
    expect(await r.store.events.get(id)).toMatchObject({ held_reason: 'bot_user_agent' });
    const other = randomUUID();
    await postBeacon(r, beacon(f.client.site_key, { event_id: other, reference: 'v2' }), { headers: { 'user-agent': BROWSER_HEADERS['user-agent']! }, browser: false });
    expect((await r.store.events.get(other))?.held_reason).toBeUndefined();
  });
});
