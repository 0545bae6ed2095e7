/**
 * bench/pixel-load: what the pixel costs a landing page's main thread, next to
 * Plausible's tracker (`@plausible-analytics/tracker`, pinned in the root
 * package.json) and a blank page, in the test Chromium over HTTPS.
 *
 * Run: `npm run bench -w @pruuv/pixel` after `npm run build` (it loads the
 * built `dist/pruuv.min.js`). `-- --rounds 40` sets the rounds per CPU rate
 * (default 40). Runs with tsx (a pinned root devDependency): it imports the
 * testkit's TypeScript, which Node 20 cannot run by itself.
 *
 * Each load is a fresh browser context (a first visit: no cookies, no storage)
 * of the same landing page, reached with fbclid, gclid, ttclid and UTMs:
 * - blank: the page alone;
 * - pruuv: `<script async src=…/s.js data-site>`, then `Pruuv.track('lead',
 *   { email, phone })` from the script's `onload`;
 * - plausible: Plausible's tracker as an async script from the same host
 *   (its ES module with the `export` turned into a global), `init()` then
 *   `track('lead', { props })` from its `onload` (it also sends its pageview);
 * - floor: an async script of the same host that does only what any pixel that
 *   stores something and sends one beacon must: one `document.cookie` read, one
 *   `localStorage` read and one keepalive `fetch` (what the I/O alone costs);
 * - io: an async script that makes exactly the browser calls the pixel makes on
 *   this first visit, with values of the same size, and nothing else: the probe
 *   (two levels, two reads, one removal), four cookie writes, the localStorage
 *   mirror (one read, one write) and outbox (one read, one removal), two random
 *   fills, four SHA-256 digests, the event's cookie read and one `fetch`. What is
 *   left of the pixel's time over `io` is its own JavaScript (parse included);
 * - with `--compare <file>`, pruuv-before: another build of the pixel (an older
 *   `dist/pruuv.min.js`), loaded like pruuv, to measure a change in one run.
 * A round loads the three once each, in an order rotated every round, so that
 * noise from the shared machine hits all three alike; the "extra" time of a
 * script is its load minus the blank load of the same round, and the ratio to
 * Plausible compares medians measured in the same run. Times are never
 * compared across runs or machines: only the ratios are meant to be quoted.
 *
 * Per load it reads, after both sides' beacons have reached the server:
 * - script and task time: CDP `Performance.getMetrics` (`ScriptDuration`,
 *   `TaskDuration`) of the page, from before the navigation;
 * - time until `track()` has resolved (Plausible's `track` returns nothing:
 *   the time it returned), `performance.now()` from navigation start;
 * - long tasks (over 50 ms) seen by a `PerformanceObserver`;
 * - on separate loads with counters installed (so the counting never slows
 *   the timed loads): cookie reads and writes, `localStorage` calls and random
 *   draws, on a first visit and on a return visit without parameters.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchTestBrowser, prepareTestBrowser } from '@pruuv/testkit/chromium';
import { makeTestCertificate } from '@pruuv/testkit/tls';
import { installOpCounter, readOps, type OpCounts } from '../test/browser/op-counts.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The script under test; `PRUUV_PIXEL_SCRIPT` points at another build (as in the browser tests), e.g. an older one to compare. */
const PIXEL = process.env.PRUUV_PIXEL_SCRIPT ?? resolve(here, '../dist/pruuv.min.js');
const require = createRequire(import.meta.url);
// The package exports only its module (plausible.js); package.json sits beside it.
const PLAUSIBLE = require.resolve('@plausible-analytics/tracker');
const PLAUSIBLE_VERSION = (JSON.parse(readFileSync(join(dirname(PLAUSIBLE), 'package.json'), 'utf8')) as { version: string }).version;

const SHOP = 'www.shop.example.co.uk';
const COLLECT = 'collect.shop.example.co.uk';
const HOSTS = [SHOP, COLLECT];
const LANDING = '/landing?fbclid=IwAR2bench_Fbclid-123&gclid=Cj0KCQbenchGclid&ttclid=E.C.P.benchTtclid&utm_source=facebook&utm_medium=paid&utm_campaign=spring';

type Variant = 'blank' | 'pruuv' | 'plausible' | 'floor' | 'io' | 'pruuv-before';
/** Beacons each variant sends on one load: Pruuv its lead, Plausible its pageview and its lead. */
const BEACONS: Record<Variant, number> = { blank: 0, pruuv: 1, plausible: 2, floor: 1, io: 1, 'pruuv-before': 1 };

const args = process.argv.slice(2);
const compareAt = args.indexOf('--compare');
/** An older build to load beside the current one (`--compare <file>`). */
const BEFORE = compareAt < 0 ? undefined : resolve(args[compareAt + 1] ?? '');
const VARIANTS: Variant[] = ['blank', 'pruuv', 'plausible', 'floor', 'io', ...(BEFORE ? (['pruuv-before'] as const) : [])];
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i < 0 ? fallback : Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} takes a positive integer`);
  return v;
};
const ROUNDS = arg('rounds', 40);
const RATES = [1, 4];

/** The page of one variant. The harness script is the same in all three. */
function page(variant: Variant, port: number): string {
  const collect = `https://${COLLECT}:${port}`;
  const pruuv = (src: string) =>
    `<script async src="${collect}/${src}" data-site="site_bench" ` +
    `onload="Pruuv.track('lead', { email: ' Jane.Doe@Example.com ', phone: '+44 7700 900123' }).then(done)"></script>`;
  const scripts: Record<Variant, string> = {
    blank: `<script>addEventListener('load', function () { done(); });</script>`,
    pruuv: pruuv('s.js'),
    'pruuv-before': pruuv('s-before.js'),
    floor: `<script async src="${collect}/floor.js"></script>`,
    io: `<script async src="${collect}/io.js"></script>`,
    plausible:
      `<script async src="${collect}/plausible.js" ` +
      `onload="plausibleTracker.init({ domain: 'shop.example.co.uk', endpoint: '${collect}/api/event' }); ` +
      `plausibleTracker.track('lead', { props: { plan: 'pro' } }); done()"></script>`,
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Spring offer</title>
<script>
  // Plausible ignores automated browsers unless the page sets this (its own test switch).
  window.__plausible = true;
  window.done = function () { window.__done = performance.now(); };
  window.__longTasks = [];
  new PerformanceObserver(function (l) { l.getEntries().forEach(function (e) { __longTasks.push(e.duration); }); })
    .observe({ type: 'longtask', buffered: true });
</script>
${scripts[variant]}
</head>
<body>
<h1>Spring offer</h1>
<p>Twenty per cent off every plan until the end of the month.</p>
<form><input name="email" type="email" placeholder="Email"><input name="phone" placeholder="Phone"><button>Get the offer</button></form>
</body>
</html>`;
}

/**
 * The `io` variant: the pixel's browser calls on the bench's first visit (counted by
 * `test/browser/load-cost.test.ts`), in its order, with values of its sizes, and no logic.
 */
const IO_SCRIPT = `(function () {
  var a = '; path=/; max-age=7776000; domain=example.co.uk; samesite=lax; secure';
  var t = function (d, v) { document.cookie = '_pruuv_t=' + v + '; path=/; max-age=' + (v ? 86400 : -1) + '; domain=' + d + '; samesite=lax'; };
  var uuid = function () { return Array.from(crypto.getRandomValues(new Uint8Array(36))).join('').slice(0, 36); };
  var m = localStorage.getItem('_pruuv_mirror');
  t('co.uk', 'co.uk'); document.cookie;
  t('example.co.uk', 'example.co.uk'); document.cookie; t('example.co.uk', '');
  var vid = uuid(), now = Date.now();
  var fbp = 'fb.2.' + now + '.' + ((Math.random() * 2147483648) | 0), fbc = 'fb.2.' + now + '.IwAR2bench_Fbclid-123';
  var state = JSON.stringify({ clicks: { fbclid: { value: 'IwAR2bench_Fbclid-123', ts: new Date(now).toISOString() }, gclid: { value: 'Cj0KCQbenchGclid', ts: new Date(now).toISOString() }, ttclid: { value: 'E.C.P.benchTtclid', ts: new Date(now).toISOString() } }, first_touch: { params: { utm_source: 'facebook' }, url: location.href, ts: new Date(now).toISOString() }, fbp: fbp, fbc: fbc, d: 'example.co.uk' });
  document.cookie = '_pruuv_vid=' + vid + a; document.cookie = '_fbp=' + fbp + a; document.cookie = '_fbc=' + fbc + a;
  document.cookie = '_pruuv=' + encodeURIComponent(state) + a;
  localStorage.getItem('_pruuv_outbox'); localStorage.removeItem('_pruuv_outbox');
  localStorage.setItem('_pruuv_mirror', JSON.stringify({ _fbc: fbc, _pruuv: state, _fbp: fbp, _pruuv_vid: vid }) + (m || ''));
  var h = function (v) { return crypto.subtle.digest('SHA-256', new TextEncoder().encode(v)); };
  var id = uuid();
  h('jane.doe@example.com').then(function () { return h('+447700900123'); }).then(function () { return h('447700900123'); }).then(function () { return h('janedoe@example.com'); }).then(function () {
    document.cookie;
    fetch('ENDPOINT', { method: 'POST', body: JSON.stringify({ event_id: id, state: state }), keepalive: true, credentials: 'include' });
    done();
  });
})();`;

interface Server {
  port: number;
  beacons: number;
  close(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const pixel = readFileSync(PIXEL, 'utf8');
  const before = BEFORE ? readFileSync(BEFORE, 'utf8') : '';
  // The npm module as a classic script: its exports become one global.
  const plausible = readFileSync(PLAUSIBLE, 'utf8').replace(
    /export\s*\{[^}]*\}\s*;?\s*$/,
    'window.plausibleTracker = { init: init, track: track };',
  );
  if (!plausible.includes('window.plausibleTracker')) throw new Error(`${PLAUSIBLE}: its export statement has changed`);
  const state = { port: 0, beacons: 0 };
  const send = (res: ServerResponse, type: string, body: string) => {
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(body);
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://bench.invalid');
    const origin = req.headers.origin;
    if (origin) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method === 'POST') {
      req.resume();
      req.on('end', () => {
        state.beacons++;
        res.writeHead(204);
        res.end();
      });
      return;
    }
    if (url.pathname === '/s.js') return send(res, 'text/javascript', pixel);
    if (url.pathname === '/s-before.js' && BEFORE) return send(res, 'text/javascript', before);
    // The floor: the I/O of a pixel that stores something and sends one beacon, and nothing else.
    if (url.pathname === '/io.js') return send(res, 'text/javascript', IO_SCRIPT.replace('ENDPOINT', `https://${COLLECT}:${state.port}/e`));
    if (url.pathname === '/floor.js')
      return send(
        res,
        'text/javascript',
        `document.cookie; try { localStorage.getItem('_floor'); } catch (e) {}\n` +
          `fetch('https://${COLLECT}:${state.port}/e', { method: 'POST', body: '{"v":1}', keepalive: true, credentials: 'include' }); done();`,
      );
    if (url.pathname === '/plausible.js') return send(res, 'text/javascript', plausible);
    const variant = url.searchParams.get('variant') as Variant | null;
    if (url.pathname === '/landing' && variant && VARIANTS.includes(variant)) return send(res, 'text/html; charset=utf-8', page(variant, state.port));
    res.writeHead(404);
    res.end();
  };
  const server = createServer(await makeTestCertificate(HOSTS), handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}

interface Load {
  script: number;
  task: number;
  done: number;
  longTasks: number[];
}

const url = (server: Server, variant: Variant) => `https://${SHOP}:${server.port}${LANDING}&variant=${variant}`;

async function waitFor(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One fresh-context load of `variant` at CPU slowdown `rate`, measured. */
async function timedLoad(browser: Browser, server: Server, variant: Variant, rate: number): Promise<Load> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const p = await context.newPage();
    const cdp = await context.newCDPSession(p);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate });
    await cdp.send('Performance.enable');
    const before = server.beacons;
    await p.goto(url(server, variant));
    await p.waitForFunction(() => (window as unknown as { __done?: number }).__done !== undefined, undefined, { timeout: 15_000 });
    await waitFor(() => server.beacons - before >= BEACONS[variant], `${variant} beacons`);
    // Let the responses' callbacks run.
    await new Promise((r) => setTimeout(r, 50));
    const { metrics } = await cdp.send('Performance.getMetrics');
    const metric = (name: string) => (metrics.find((m) => m.name === name)?.value ?? NaN) * 1000;
    const page = await p.evaluate(() => {
      const w = window as unknown as { __done: number; __longTasks: number[] };
      return { done: w.__done, longTasks: w.__longTasks };
    });
    return { script: metric('ScriptDuration'), task: metric('TaskDuration'), ...page };
  } finally {
    await context.close();
  }
}

/** Operation counts of a first visit and of a return visit (same context, no parameters). */
async function countedLoads(browser: Browser, server: Server, variant: Variant): Promise<[OpCounts, OpCounts]> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    await installOpCounter(context);
    const visit = async (p: Page, target: string) => {
      const before = server.beacons;
      await p.goto(target);
      await p.waitForFunction(() => (window as unknown as { __done?: number }).__done !== undefined);
      await waitFor(() => server.beacons - before >= BEACONS[variant], `${variant} beacons`);
      await new Promise((r) => setTimeout(r, 50));
      return readOps(p);
    };
    const p = await context.newPage();
    const first = await visit(p, url(server, variant));
    const again = await visit(p, `https://${SHOP}:${server.port}/landing?variant=${variant}`);
    return [first, again];
  } finally {
    await context.close();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const ms = (x: number) => x.toFixed(2);

async function main(): Promise<void> {
  const { browser: testBrowser, cleanup } = await prepareTestBrowser();
  const server = await startServer();
  const rules = HOSTS.map((h) => `MAP ${h} 127.0.0.1`).join(', ');
  const browser = await launchTestBrowser(testBrowser, [`--host-resolver-rules=${rules}`]);
  try {
    console.log(`bench/pixel-load: ${testBrowser.version}, ${ROUNDS} rounds per CPU rate, fresh context per load`);
    console.log(`pruuv.min.js ${readFileSync(PIXEL).length} B; @plausible-analytics/tracker ${PLAUSIBLE_VERSION}\n`);
    // Warm-up: the first loads of a browser pay for its own start.
    for (const v of VARIANTS) await timedLoad(browser, server, v, 1);

    const results: Record<number, Record<Variant, Load[]>> = {};
    for (const rate of RATES) {
      const r = (results[rate] = Object.fromEntries(VARIANTS.map((v) => [v, []])) as unknown as Record<Variant, Load[]>);
      for (let round = 0; round < ROUNDS; round++) {
        const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length] as Variant);
        for (const v of order) r[v].push(await timedLoad(browser, server, v, rate));
      }
    }

    const rows: string[] = [
      '| CPU | script | extra script time (median) | extra task time (median) | track() resolved at (median) | long tasks (loads with one) |',
      '|---|---|---|---|---|---|',
    ];
    const ratios: string[] = [];
    for (const rate of RATES) {
      const r = results[rate] as Record<Variant, Load[]>;
      const extra = (v: Variant, k: 'script' | 'task') => median(r[v].map((l, i) => l[k] - (r.blank[i] as Load)[k]));
      for (const v of VARIANTS) {
        const withLong = r[v].filter((l) => l.longTasks.length > 0).length;
        const longest = Math.max(0, ...r[v].flatMap((l) => l.longTasks));
        rows.push(
          `| ${rate}× | ${v} | ${v === 'blank' ? `${ms(median(r.blank.map((l) => l.script)))} ms (absolute)` : `${ms(extra(v, 'script'))} ms`} | ` +
            `${v === 'blank' ? `${ms(median(r.blank.map((l) => l.task)))} ms (absolute)` : `${ms(extra(v, 'task'))} ms`} | ` +
            `${ms(median(r[v].map((l) => l.done)))} ms | ${withLong}/${r[v].length}${withLong ? `, longest ${ms(longest)} ms` : ''} |`,
        );
      }
      const doneOf = (v: Variant) => median(r[v].map((l) => l.done));
      const pairs: [Variant, Variant][] = [
        ['pruuv', 'plausible'],
        ...(BEFORE ? ([['pruuv-before', 'plausible'], ['pruuv', 'pruuv-before']] as [Variant, Variant][]) : []),
        ['floor', 'plausible'],
        ['io', 'plausible'],
        ['pruuv', 'io'],
      ];
      for (const [a, b] of pairs)
        ratios.push(
          `| ${rate}× | ${a} ÷ ${b} | ${(extra(a, 'script') / extra(b, 'script')).toFixed(2)} | ` +
            `${(extra(a, 'task') / extra(b, 'task')).toFixed(2)} | ${(doneOf(a) / doneOf(b)).toFixed(2)} |`,
        );
    }
    console.log(rows.join('\n'));
    console.log('\nRatios, same run:\n');
    console.log(['| CPU | scripts | extra script time | extra task time | track() resolved at |', '|---|---|---|---|---|', ...ratios].join('\n'));

    console.log('\nCalls per load (first visit with the click IDs; return visit without parameters):\n');
    console.log('| script | visit | cookie reads | cookie writes | localStorage get / set / remove | random draws (getRandomValues + randomUUID + Math.random) |');
    console.log('|---|---|---|---|---|---|');
    for (const v of VARIANTS.filter((x) => x !== 'blank')) {
      const visits = await countedLoads(browser, server, v);
      visits.forEach((o, i) => {
        console.log(
          `| ${v} | ${i ? 'return' : 'first'} | ${o.cookieReads} | ${o.cookieWrites}${o.cookiesWritten.length ? ` (${o.cookiesWritten.join(', ')})` : ''} | ` +
            `${o.storageReads} / ${o.storageWrites} / ${o.storageRemoves} | ${o.getRandomValues + o.randomUUID + o.mathRandom} ` +
            `(${o.getRandomValues} + ${o.randomUUID} + ${o.mathRandom}) |`,
        );
      });
    }
  } finally {
    await browser.close();
    await server.close();
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
