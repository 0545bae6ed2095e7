#!/usr/bin/env node
/**
 * Send benchmark: 100,002 due conversions (33,334 events, each with a Meta, a Google and a
 * TikTok click, so one conversion per platform) drained by send passes against the strict
 * fake platforms, all on 127.0.0.1.
 *
 *   1. insert:     the events, through the store's own admission path, in one transaction
 *                  (spread over the last 6 days, as a backlog would be), with connections
 *                  to the fakes (credentials encrypted under a fresh key).
 *   2. fakes:      the fakes' own capacity: the same batches (Meta 1,000, TikTok 1,000,
 *                  Google Data Manager 2,000 events per request), built and serialised up
 *                  front, POSTed one after another as a pass does. Then the fakes are reset.
 *   3. drain:      send passes (`createSender(...).runPass()`, the code `pruuv send` runs)
 *                  until nothing is due: claims, event loading, requests, per-batch commits
 *                  of the outbox rows and audit records.
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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 33_334);
const FLOOR_SECONDS = 60;
const DAY_MS = 86_400_000;

if (process.argv.includes('--fakes')) await serveFakes();
else await bench();

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

async function bench() {
  const sender = await import('@pruuv/sender');
  const { FAKE_DEFAULTS } = await import('@pruuv/fakes');
  const { openDb, createSqliteStore, createSender, createConnections } = await import('../dist/index.js');
  const { toConversionEvent } = await import('../dist/domain/conversion-event.js');

  const child = fork(fileURLToPath(import.meta.url), ['--fakes'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { urls } = await ask(child, undefined, 'urls');
  const dir = mkdtempSync(join(tmpdir(), 'pruuv-bench-send-'));
  try {
    // 1. insert
    const db = openDb(join(dir, 'bench.db'));
    const store = createSqliteStore(db, { perHour: 10_000_000 });
    const ring = sender.parseKeyRing(randomBytes(32).toString('base64'));
    const client = await store.clients.create({ name: 'Bench' });
    const stage = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
    const d = FAKE_DEFAULTS;
    const fields = {
      meta: { pixel_id: d.meta.pixelId, access_token: d.meta.token },
      google: { api: 'data-manager', customer_id: d.google.customerId, conversion_action_id: d.google.conversionActionId, client_id: d.google.clientId, client_secret: d.google.clientSecret, refresh_token: d.google.refreshToken },
      tiktok: { pixel_code: d.tiktok.pixelCode, access_token: d.tiktok.token },
    };
    const connections = createConnections(store);
    for (const platform of ['meta', 'google', 'tiktok']) await connections.set({ client_id: client.id, platform, fields: fields[platform] }, ring);

    const now = Date.now();
    const span = 6 * DAY_MS;
    const insertStart = performance.now();
    const events = [];
    db.transaction(() => {
      for (let i = 0; i < EVENTS; i++) {
        const at = new Date(now - span + Math.floor((i * span) / EVENTS));
        const ts = new Date(at.getTime() - 3_600_000).toISOString();
        const result = store.events.admitNow(
          {
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
          at,
        );
        if (result.status !== 'stored') throw new Error(`event ${i} not stored: ${result.status}`);
        events.push(result.event);
      }
    })();
    const insertMs = performance.now() - insertStart;
    const due = db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'").get().n;

    // 2. the fakes alone: the same batches, prebuilt.
    const conversions = events.map(toConversionEvent);
    const checkAt = new Date();
    const plans = { meta: [], google: [], tiktok: [] };
    const conns = {
      meta: { platform: 'meta', ...fields.meta },
      google: { platform: 'google', ...fields.google },
      tiktok: { platform: 'tiktok', ...fields.tiktok },
    };
    for (const platform of ['meta', 'google', 'tiktok']) {
      for (const event of conversions) {
        const check = sender.checkEligibility({ event, platform, connection: conns[platform], now: checkAt });
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
    const limits = sender.PLATFORM_BATCH_LIMITS;
    for (let i = 0; i < plans.meta.length; i += limits.meta) requests.push(sender.buildMetaRequest(conns.meta, plans.meta.slice(i, i + limits.meta), { baseUrl: urls.meta, version: 'v26.0' }));
    for (let i = 0; i < plans.google.length; i += limits.google) {
      requests.push(sender.buildDataManagerRequest(conns.google, d.google.conversionActionId, plans.google.slice(i, i + limits.google), token, { baseUrl: urls.dataManager, version: 'v1' }));
    }
    for (let i = 0; i < plans.tiktok.length; i += limits.tiktok) requests.push(sender.buildTikTokRequest(conns.tiktok, plans.tiktok.slice(i, i + limits.tiktok), { baseUrl: urls.tiktok, version: 'v1.3' }));
    const bodies = requests.map((r) => ({ url: r.url, headers: r.headers, body: JSON.stringify(r.body) }));
    const fakesStart = performance.now();
    for (const r of bodies) {
      const res = await fetch(r.url, { method: 'POST', headers: r.headers, body: r.body });
      await res.text();
      if (res.status !== 200) throw new Error(`fake answered ${res.status} for ${r.url}`);
    }
    const fakesMs = performance.now() - fakesStart;
    const baseline = await ask(child, 'count', 'count');
    await ask(child, 'reset', 'reset');

    // 3. drain with send passes.
    const config = { keyRing: ring, cron: '0 3 * * *', urls, versions: { meta: 'v26.0', googleAds: 'v26' } };
    const s = await createSender({ store, config });
    const drainStart = performance.now();
    let passes = 0;
    let batches = 0;
    let httpRequests = 0;
    const counts = { sent: 0, failed: 0, skipped: 0, retrying: 0, dead: 0 };
    for (;;) {
      const report = await s.runPass();
      passes += 1;
      if (report.claimed === 0) break;
      batches += report.batches;
      httpRequests += report.requests;
      for (const k of Object.keys(counts)) counts[k] += report.counts[k];
      if (passes > 10) break;
    }
    const drainMs = performance.now() - drainStart;
    const after = await ask(child, 'count', 'count');
    const left = db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'retrying')").get().n;
    const audit = db.prepare('SELECT COUNT(*) AS n FROM send_attempts').get().n;
    await store.close();

    const fakesRate = (EVENTS * 3) / (fakesMs / 1000);
    const drainRate = counts.sent / (drainMs / 1000);
    const exact = ['meta', 'google', 'tiktok'].every((p) => after.sizes[p] === EVENTS && after.resent[p] === 0);
    const pass = drainMs / 1000 < FLOOR_SECONDS && counts.sent === due && left === 0 && exact;

    console.log(`Send bench: ${due.toLocaleString('en')} due conversions (${EVENTS.toLocaleString('en')} events × Meta, Google Data Manager, TikTok), Node ${process.version}`);
    console.log('');
    console.log('| step | time | conversions/s | detail |');
    console.log('| --- | ---: | ---: | --- |');
    console.log(`| insert (store, one transaction) | ${seconds(insertMs)} s | ${Math.round((EVENTS * 3) / (insertMs / 1000)).toLocaleString('en')} | ${EVENTS.toLocaleString('en')} events, 3 outbox rows each |`);
    console.log(`| fakes alone (prebuilt batches) | ${seconds(fakesMs)} s | ${Math.round(fakesRate).toLocaleString('en')} | ${bodies.length} requests; counted ${baseline.sizes.meta}/${baseline.sizes.google}/${baseline.sizes.tiktok} |`);
    console.log(`| drain (send passes) | ${seconds(drainMs)} s | ${Math.round(drainRate).toLocaleString('en')} | ${passes} pass(es), ${batches} batches, ${httpRequests} requests, ${audit.toLocaleString('en')} audit rows; sent ${counts.sent.toLocaleString('en')}, failed ${counts.failed}, retrying ${counts.retrying} |`);
    console.log('');
    console.log(`Drain / fakes alone: ${((drainRate / fakesRate) * 100).toFixed(0)} % of the fakes' own capacity.`);
    console.log(`Counted once each: meta ${after.sizes.meta}, google ${after.sizes.google}, tiktok ${after.sizes.tiktok}; received more than once: ${after.resent.meta + after.resent.google + after.resent.tiktok}.`);
    console.log(`${pass ? 'PASS' : 'FAIL'}: drained ${counts.sent.toLocaleString('en')} of ${due.toLocaleString('en')} in ${seconds(drainMs)} s (floor: all of them, each counted once, in under ${FLOOR_SECONDS} s).`);
    process.exitCode = pass ? 0 : 1;
  } finally {
    child.send('stop');
    rmSync(dir, { recursive: true, force: true });
  }
}
