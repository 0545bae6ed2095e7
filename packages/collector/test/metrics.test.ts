/**
 * `GET /metrics` after a scripted run over real HTTP (webhooks stored, a
 * duplicate, a stage over its quota, pixel beacons accepted and dropped, a send
 * pass where Meta answers 503): every figure matches what happened, read back
 * from the database, and no label value comes from a request.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../src/config.js';
import { startServer, type RunningServer } from '../src/http/server.js';
import { createLogger } from '../src/logger.js';
import { DEFAULT_OPS_CONFIG, type OpsConfig } from '../src/ops/ops-config.js';
import { createSender } from '../src/send/sender.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { startWorker } from '../src/send/worker.js';
import { createMetrics } from '../src/ops/metrics.js';
import { PAGE_ORIGIN, startCollector, tempDir } from './helpers/harness.js';
import { beacon } from './helpers/payloads.js';
import { sendEnv, type SendEnv } from './send-helpers.js';

const silent = createLogger({ level: 'silent' });
const TOKEN = 'metrics-token-0123456789abcdef';
let cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function configFor(dbFile: string, ops: Partial<OpsConfig>, send?: Config['send']): Config {
  const base = loadConfig({ PRUUV_LOG_LEVEL: 'silent', PRUUV_DB: dbFile });
  return { ...base, port: 0, host: '127.0.0.1', send: send ?? base.send, ops: { ...DEFAULT_OPS_CONFIG, ...ops } };
}

async function serve(config: Config, now?: () => Date): Promise<RunningServer> {
  const run = await startServer(config, { logger: silent, handleSignals: false, send: { mode: 'off' }, app: { dashboard: false, ...(now ? { now } : {}) } });
  cleanup.push(() => run.close());
  return run;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `labels`. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

async function scrape(run: RunningServer, token: string | undefined = TOKEN): Promise<Sample[]> {
  const res = await fetch(`${run.url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parse(await res.text());
}

describe('GET /metrics after a scripted run', () => {
  it('counts requests, events, beacons and send outcomes as they happened, and reads the gauges from the database', async () => {
    const env: SendEnv = await sendEnv();
    cleanup.push(() => env.close());
    await env.store.clients.setOrigins(env.client.id, [PAGE_ORIGIN]);
    const lead = await env.store.stages.rotateToken(env.lead.id);
    const sale = await env.store.stages.create({ client_id: env.client.id, key: 'sale', name: 'Sale' });
    const run = await serve(configFor(env.dbFile, { metrics: true, metricsToken: TOKEN }, env.config), env.clock.now);

    const webhook = (stageId: string, token: string, reference: string, headers: Record<string, string> = {}) =>
      fetch(`${run.url}/api/webhooks/funnel/${stageId}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ reference, fbclid: `IwAR-${reference}`, gclid: `Cj0-${reference}`, ttclid: `E.C.P.${reference}` }),
      });
    // A browser's fetch (its User-Agent carrying a value that must not reach a label), unless `browser` is false.
    const browserHeaders = {
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36 Zq-SECRET-UA',
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': 'cors',
      'sec-fetch-dest': 'empty',
    };
    const post = (body: string, origin = PAGE_ORIGIN, browser = true) =>
      fetch(`${run.url}/e`, { method: 'POST', headers: { origin, 'content-type': 'text/plain', ...(browser ? browserHeaders : { 'user-agent': 'Agent-SECRET-UA' }) }, body });

    // Webhooks: two stored, one duplicate.
    expect((await webhook(env.lead.id, lead!, 'ref-alpha-PII')).status).toBe(200);
    expect((await webhook(env.lead.id, lead!, 'ref-beta-PII')).status).toBe(200);
    expect(await (await webhook(env.lead.id, lead!, 'ref-alpha-PII')).json()).toEqual({ received: true, duplicate: true });
    // Pixel: one accepted, and one dropped for each reason a request can trigger here.
    expect((await post(JSON.stringify(beacon(env.client.site_key, { reference: 'ref-pixel-PII' })))).status).toBe(200);
    // One stored but held: no browser's signals (forged beacons).
    expect((await post(JSON.stringify(beacon(env.client.site_key, { reference: 'ref-held-PII' })), PAGE_ORIGIN, false)).status).toBe(200);
    expect((await post(JSON.stringify(beacon('site_ATTACKER_KEY')))).status).toBe(200);
    expect((await post(JSON.stringify(beacon(env.client.site_key)), 'https://evil-ATTACKER.example')).status).toBe(200);
    expect((await post(JSON.stringify(beacon(env.client.site_key, { stage: 'stage-ATTACKER' })))).status).toBe(404);
    expect((await post('{not json ATTACKER')).status).toBe(400);
    // The sale stage over its hourly quota (1,000 events, admitted by another connection): one 429.
    env.db.transaction(() => {
      for (let i = 0; i < 1000; i++) env.addEvent({ stage_id: sale.stage.id, stage_key: 'sale', reference: `quota-${i}`, clicks: {} });
    })();
    expect((await webhook(sale.stage.id, sale.token, 'ref-over-quota')).status).toBe(429);
    // Requests whose URL an attacker chose.
    const strangerStage = randomUUID();
    expect((await webhook(strangerStage, 'token-ATTACKER-0123456789', 'ref-x')).status).toBe(404);
    expect((await fetch(`${run.url}/wp-admin/ATTACKER/../x.php?token=ATTACKER`)).status).toBe(404);

    // Nobody reads /metrics without the token.
    expect((await fetch(`${run.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${run.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789abcdeX' } })).status).toBe(401);

    env.clock.advance(90_000);
    const before = await scrape(run);
    const dueNow = (env.db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'retrying') AND due_at <= ?").get(env.clock.now().toISOString()) as { n: number }).n;
    expect(dueNow).toBeGreaterThan(3000);
    expect(value(before, 'pruuv_outbox_due_rows')).toBe(dueNow);
    expect(value(before, 'pruuv_outbox_oldest_due_age_seconds')).toBe(90);
    expect(value(before, 'pruuv_database_up')).toBe(1);
    expect(value(before, 'pruuv_database_size_bytes')).toBeGreaterThan(100_000);
    // Only what this process admitted: the 1,000 seeded by another connection are not its own.
    const lead_ = { stage_id: env.lead.id, stage_key: 'lead' };
    expect(value(before, 'pruuv_events_total', { ...lead_, source: 'webhook', result: 'stored' })).toBe(2);
    expect(value(before, 'pruuv_events_total', { ...lead_, source: 'webhook', result: 'duplicate' })).toBe(1);
    expect(value(before, 'pruuv_events_total', { ...lead_, source: 'pixel', result: 'stored' })).toBe(2);
    expect(value(before, 'pruuv_events_total', { stage_id: sale.stage.id, stage_key: 'sale', result: 'rate_limited' })).toBe(1);
    expect(value(before, 'pruuv_events_total')).toBe(6);
    expect(value(before, 'pruuv_pixel_beacons_total', { outcome: 'accepted', reason: 'stored' })).toBe(1);
    expect(value(before, 'pruuv_pixel_beacons_total', { outcome: 'accepted', reason: 'held' })).toBe(1);
    for (const reason of ['unknown_site', 'origin_not_allowed', 'unknown_stage', 'invalid']) {
      expect(value(before, 'pruuv_pixel_beacons_total', { outcome: 'dropped', reason }), reason).toBe(1);
    }
    const webhookRoute = { route: '/api/webhooks/funnel/:stageId', method: 'POST' };
    expect(value(before, 'pruuv_http_request_duration_seconds_count', { ...webhookRoute, status: '200' })).toBe(3);
    expect(value(before, 'pruuv_http_request_duration_seconds_count', { ...webhookRoute, status: '429' })).toBe(1);
    expect(value(before, 'pruuv_http_request_duration_seconds_count', { ...webhookRoute, status: '404' })).toBe(1);
    expect(value(before, 'pruuv_http_request_duration_seconds_count', { route: '/e', status: '200' })).toBe(4);
    expect(value(before, 'pruuv_http_request_duration_seconds_count', { route: 'unmatched', status: '404' })).toBe(1);
    expect(value(before, 'pruuv_send_attempts_total')).toBe(0);
    expect(value(before, 'pruuv_send_next_pass_timestamp_seconds')).toBe(Date.parse('2026-11-21T03:00:00.000Z') / 1000);

    // A send pass through the collector's own store, Meta answering 503 once.
    env.fakes.script('meta', [{ kind: 'status', status: 503 }]);
    await (await createSender({ store: run.store, config: env.config, now: env.clock.now, random: () => 0.5, timeoutMs: 500 })).runPass({ retriesOnly: false });
    await env.store.connections.pause((await env.store.connections.get(env.client.id, 'tiktok'))!.id, 'auth: 40100', env.clock.now());
    const slot = new Date('2026-11-20T03:00:00.000Z');
    await env.store.runs.claimSlot({ slot, owner: 'w1', trigger: 'schedule', now: env.clock.now() });
    await env.store.runs.finishSlot({ slot, now: env.clock.now(), summary: {} });

    const after = await scrape(run);
    const outcomes = env.db.prepare('SELECT platform, status, COUNT(*) AS n FROM send_attempts GROUP BY platform, status').all() as Array<{ platform: string; status: string; n: number }>;
    expect(outcomes.find((o) => o.platform === 'meta' && o.status !== 'sent' && o.status !== 'skipped')).toBeDefined();
    for (const o of outcomes) expect(value(after, 'pruuv_send_attempts_total', { platform: o.platform, outcome: o.status }), `${o.platform} ${o.status}`).toBe(o.n);
    expect(value(after, 'pruuv_send_attempts_total')).toBe(outcomes.reduce((n, o) => n + o.n, 0));
    // The two webhook events carry click ids; the pixel's and the 1,000 seeded are skipped everywhere.
    expect(value(after, 'pruuv_send_attempts_total', { platform: 'google', outcome: 'sent' })).toBe(2);
    expect(value(after, 'pruuv_send_attempts_total', { platform: 'meta', outcome: 'sent' })).toBe(0);
    expect(value(after, 'pruuv_outbox_due_rows')).toBe(0);
    expect(value(after, 'pruuv_outbox_oldest_due_age_seconds')).toBe(0);
    expect(value(after, 'pruuv_connections_paused', { platform: 'tiktok' })).toBe(1);
    expect(value(after, 'pruuv_connections_paused', { platform: 'meta' })).toBe(0);
    expect(value(after, 'pruuv_send_last_pass_timestamp_seconds')).toBe(env.clock.now().getTime() / 1000);

    // No label value came from a request: none holds what the requests carried, routes are patterns.
    const values = after.flatMap((s) => Object.values(s.labels));
    for (const v of values) {
      expect(v).not.toMatch(/ATTACKER|PII|SECRET|wp-admin|token|IwAR|Cj0|127\.0\.0\.1/);
      expect(v).not.toContain(strangerStage);
      expect(v).not.toContain(lead!);
    }
    const routes = new Set(after.filter((s) => s.labels['route'] !== undefined).map((s) => s.labels['route']));
    expect([...routes].sort()).toEqual(['/api/webhooks/funnel/:stageId', '/e', 'unmatched']);
    expect(new Set(after.filter((s) => s.labels['stage_id'] !== undefined).map((s) => s.labels['stage_id']))).toEqual(new Set([env.lead.id, sale.stage.id]));
    // No Node version.
    expect(after.some((s) => s.name.includes('version'))).toBe(false);
  }, 60_000);
});

describe('/metrics availability', () => {
  it("counts beacons past the pixel's per-address limit as dropped, throttled", async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const config = { ...configFor(`${dir.dir}/pruuv.db`, { metrics: true, metricsToken: TOKEN }), pixelLimits: { burst: 2, perMinute: 1, sitePerHour: 1_000 } };
    const run = await serve(config);
    const store = await openSqliteStore(`${dir.dir}/pruuv.db`);
    const client = await store.clients.create({ name: 'A', origins: [PAGE_ORIGIN] });
    await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
    await store.close();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${run.url}/e`, {
        method: 'POST',
        headers: { origin: PAGE_ORIGIN, 'content-type': 'text/plain', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/147.0.0.0', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' },
        body: JSON.stringify(beacon(client.site_key, { event_id: randomUUID(), reference: `r${i}` })),
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    const samples = await scrape(run);
    expect(value(samples, 'pruuv_pixel_beacons_total', { outcome: 'accepted', reason: 'stored' })).toBe(2);
    expect(value(samples, 'pruuv_pixel_beacons_total', { outcome: 'dropped', reason: 'throttled' })).toBe(2);
  });

  it('answers 404 unless enabled', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const run = await serve(configFor(`${dir.dir}/pruuv.db`, {}));
    expect((await fetch(`${run.url}/metrics`)).status).toBe(404);
    expect(run.metrics).toBeUndefined();
  });

  it('is served on its own port only when PRUUV_METRICS_PORT is set', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const run = await serve(configFor(`${dir.dir}/pruuv.db`, { metrics: true, metricsPort: 0 }));
    expect((await fetch(`${run.url}/metrics`)).status).toBe(404);
    const own = await fetch(`http://127.0.0.1:${run.metricsPort}/metrics`);
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('pruuv_outbox_due_rows 0');
    expect((await fetch(`http://127.0.0.1:${run.metricsPort}/`)).status).toBe(404);
  });

  it('is served on pruuv worker --health-port, with the token', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const worker = await startWorker(configFor(`${dir.dir}/pruuv.db`, { metrics: true, metricsToken: TOKEN }), {
      logger: silent,
      send: { mode: 'off' },
      handleSignals: false,
      healthPort: 0,
    });
    cleanup.push(() => worker.close());
    const base = `http://127.0.0.1:${worker.health!.port}`;
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(value(parse(await res.text()), 'pruuv_database_up')).toBe(1);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('labels pages of mounted routers by their full route pattern', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.cleanup());
    const gauges = openSqliteStore(`${dir.dir}/pruuv.db`);
    cleanup.push(() => gauges.close());
    const metrics = createMetrics({ store: gauges, processMetrics: false });
    const run = await startCollector({ dbFile: `${dir.dir}/pruuv.db`, app: { metrics } });
    cleanup.push(() => run.close());
    const base = run.url;
    expect((await fetch(`${base}/dashboard/sign-in`)).status).toBe(200);
    expect((await fetch(`${base}/api/admin/clients/ATTACKER`, { headers: { authorization: 'Bearer x' } })).status).toBe(404);
    const routes = parse(await metrics.registry.metrics()).map((s) => s.labels['route']).filter((r) => r !== undefined);
    expect(new Set(routes)).toEqual(new Set(['/dashboard/sign-in', 'unmatched']));
  });
});
