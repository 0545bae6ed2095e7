/**
 * bench/pixel-profile: where the pixel's main-thread time goes, per function, on the
 * first visit `bench/pixel-load` measures (the same landing page and `track()` call).
 *
 * Run: `npm run bench:profile -w @pruuv/pixel -- [loads] [cpu rate] [variant]` after
 * `npm run build` (defaults: 10 loads, 4× CPU slowdown, `pruuv`; `plausible` profiles
 * Plausible's tracker the same way). Each load is a fresh context with V8's sampling
 * profiler on (CDP `Profiler`, 50 µs); it prints the self time per function per load,
 * with the minified source at each pruuv.min.js position, then the time of each browser
 * call the page made (`document.cookie` reads and writes, `localStorage`, `fetch`,
 * `crypto`), timed by wrappers installed before any script on separate loads. The
 * profiler slows the page: compare functions with each other, not with bench/pixel-load.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchTestBrowser, prepareTestBrowser } from '@pruuv/testkit/chromium';
import { makeTestCertificate } from '@pruuv/testkit/tls';

const here = dirname(fileURLToPath(import.meta.url));
const PIXEL = process.env.PRUUV_PIXEL_SCRIPT ?? resolve(here, '../dist/pruuv.min.js');
const PLAUSIBLE = createRequire(import.meta.url).resolve('@plausible-analytics/tracker');
const SHOP = 'www.shop.example.co.uk';
const COLLECT = 'collect.shop.example.co.uk';
const LANDING = '/landing?fbclid=IwAR2bench_Fbclid-123&gclid=Cj0KCQbenchGclid&ttclid=E.C.P.benchTtclid&utm_source=facebook&utm_medium=paid&utm_campaign=spring';
const [LOADS, RATE] = [Number(process.argv[2] ?? 10), Number(process.argv[3] ?? 4)];
const VARIANT = process.argv[4] === 'plausible' ? 'plausible' : 'pruuv';
if (!(LOADS >= 1 && RATE >= 1)) throw new Error('usage: pixel-profile.ts [loads ≥ 1] [cpu rate ≥ 1] [pruuv|plausible]');

/** Wrappers that time each counted browser call (page-side; the totals land in `window.__t`). */
const TIMERS = `(() => {
  const t = (window.__t = {});
  const add = (k, d) => { const e = (t[k] ||= [0, 0]); e[0]++; e[1] += d; };
  const timed = (k, f, self, a) => { const s = performance.now(); try { return f.apply(self, a); } finally { add(k, performance.now() - s); } };
  const c = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  let reads = 0;
  Object.defineProperty(Document.prototype, 'cookie', { configurable: true,
    get() { return timed(reads++ ? 'document.cookie read (later)' : 'document.cookie read (first)', c.get, this, []); },
    set(v) { timed('document.cookie write', c.set, this, [v]); } });
  let ls = 0;
  for (const m of ['getItem', 'setItem', 'removeItem']) {
    const f = Storage.prototype[m];
    Storage.prototype[m] = function (...a) { return timed(ls++ ? 'localStorage.' + m : 'localStorage (first access, ' + m + ')', f, this, a); };
  }
  for (const [o, m] of [[window, 'fetch'], [Navigator.prototype, 'sendBeacon'], [SubtleCrypto.prototype, 'digest'], [Crypto.prototype, 'getRandomValues']]) {
    const f = o[m];
    Object.defineProperty(o, m, { configurable: true, writable: true, value: function (...a) { return timed(m + ' (synchronous part)', f, this, a); } });
  }
})();`;

function page(port: number): string {
  const collect = `https://${COLLECT}:${port}`;
  const script =
    VARIANT === 'pruuv'
      ? `<script async src="${collect}/s.js" data-site="site_bench" onload="Pruuv.track('lead', { email: ' Jane.Doe@Example.com ', phone: '+44 7700 900123' }).then(done)"></script>`
      : `<script async src="${collect}/plausible.js" onload="plausibleTracker.init({ domain: 'shop.example.co.uk', endpoint: '${collect}/api/event' }); plausibleTracker.track('lead', { props: { plan: 'pro' } }); done()"></script>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Spring offer</title><script>window.__plausible = true; window.done = function () { window.__done = performance.now(); };</script>${script}</head><body><h1>Spring offer</h1><form><input name="email"></form></body></html>`;
}

async function main(): Promise<void> {
  const pixel = readFileSync(PIXEL, 'utf8');
  const plausible = readFileSync(PLAUSIBLE, 'utf8').replace(/export\s*\{[^}]*\}\s*;?\s*$/, 'window.plausibleTracker = { init: init, track: track };');
  const state = { port: 0, beacons: 0 };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.origin) {
      res.setHeader('Access-Control-Allow-Origin', req.headers.origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method === 'POST') {
      req.resume();
      req.on('end', () => (state.beacons++, res.writeHead(204), res.end()));
      return;
    }
    const path = new URL(req.url ?? '/', 'https://bench.invalid').pathname;
    const [type, body] = path === '/s.js' ? ['text/javascript', pixel] : path === '/plausible.js' ? ['text/javascript', plausible] : ['text/html', page(state.port)];
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(body);
  };
  const server = createServer(await makeTestCertificate([SHOP, COLLECT]), handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  const { browser: testBrowser, cleanup } = await prepareTestBrowser();
  const browser: Browser = await launchTestBrowser(testBrowser, [`--host-resolver-rules=MAP ${SHOP} 127.0.0.1, MAP ${COLLECT} 127.0.0.1`]);
  const self = new Map<string, number>();
  const calls = new Map<string, [number, number]>();
  const load = async (timers: boolean) => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      if (timers) await context.addInitScript({ content: TIMERS });
      const p = await context.newPage();
      const cdp = await context.newCDPSession(p);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: RATE });
      if (!timers) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
        await cdp.send('Profiler.start');
      }
      const before = state.beacons;
      await p.goto(`https://${SHOP}:${state.port}${LANDING}`);
      await p.waitForFunction(() => (window as unknown as { __done?: number }).__done !== undefined);
      while (state.beacons - before < (VARIANT === 'pruuv' ? 1 : 2)) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50));
      if (timers) return (await p.evaluate(() => (window as unknown as { __t: Record<string, [number, number]> }).__t)) as Record<string, [number, number]>;
      const { profile } = await cdp.send('Profiler.stop');
      const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
      (profile.samples ?? []).forEach((id, i) => {
        const f = nodes.get(id);
        if (!f || !/\/(s|plausible)\.js$/.test(f.url)) return;
        const key = `${f.functionName || '(anonymous)'}@${f.columnNumber}`;
        self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas?.[i + 1] ?? 0) / 1000);
      });
      return undefined;
    } finally {
      await context.close();
    }
  };
  try {
    await load(false); // warm-up
    for (let i = 0; i < LOADS; i++) {
      await load(false);
      for (const [k, [n, ms]] of Object.entries((await load(true)) ?? {})) {
        const e = calls.get(k) ?? [0, 0];
        calls.set(k, [e[0] + n, e[1] + ms]);
      }
    }
  } finally {
    await browser.close();
    server.close();
    await cleanup();
  }
  const source = VARIANT === 'pruuv' ? pixel : plausible;
  const total = [...self.values()].reduce((a, b) => a + b, 0) / LOADS;
  console.log(`bench/pixel-profile: ${VARIANT} at ${RATE}× CPU, ${LOADS} loads; ${total.toFixed(2)} ms of samples in the script per load\n`);
  console.log('| self ms per load | function @ column | source there |\n|---|---|---|');
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    const col = Number(k.split('@')[1]);
    console.log(`| ${(v / LOADS).toFixed(3)} | ${k} | \`${source.slice(col, col + 60).replace(/[|`]/g, ' ')}\` |`);
  }
  console.log('\n| browser call | calls per load | ms per load |\n|---|---|---|');
  for (const [k, [n, ms]] of calls) console.log(`| ${k} | ${(n / LOADS).toFixed(1)} | ${(ms / LOADS).toFixed(3)} |`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
