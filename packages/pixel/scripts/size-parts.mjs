// Where the bytes of dist/pruuv.min.js go: rebuilds the script-tag bundle with one part
// cut out of a copy of src/ and prints how many gzipped bytes (zlib level 9) that saves.
// Parts overlap a little (gzip shares strings between them), so the savings do not add up
// exactly to the total. An edit that no longer matches the source fails loudly: update it
// with the code. Run from the repo root: `npm run size:parts -w @pruuv/pixel`.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import typescript from '@rollup/plugin-typescript';
import { rollup } from 'rollup';
import terser from '@rollup/plugin-terser';
import { terserOptions } from '../../../rollup.config.mjs';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Each part: the source edits that cut it out ([file in src/, text, replacement]). */
const parts = {
  'cookie parse and serialiser': [
    ['storage.ts', /export const readCookies = [^{]*\{[\s\S]*?\n\};/, 'export const readCookies = (): Record<string, Stored> => ({});'],
    ['storage.ts', /export const writeCookie = [^{]*\{[\s\S]*?\n\};/, 'export const writeCookie = (..._: unknown[]): void => {};'],
  ],
  'email/phone normalisation and hashing': [
    ['pixel.ts', /const h = await hashIdentity\([^;]*;/, 'const h = {};'],
  ],
  'hidden fields and their MutationObserver': [
    ['pixel.ts', 'const fill = () => fillFields(attribution());', 'const fill = () => 0;'],
    ['pixel.ts', 'new MutationObserver(() => attempt(fill)).observe(document, { childList: true, subtree: true });', ''],
  ],
  'known track() props list': [
    ['pixel.ts', '...pickProps(props),', '...props,'],
    ['payload.ts', /export const PROPS = \([^;]*;/, 'export const PROPS = [] as PropName[];'],
  ],
  'outbox (keep, drain, online event)': [
    ['transport.ts', 'keep(p)', '0'],
    ['transport.ts', 'return [send, drain];', 'return [send, () => 0];'],
    ['pixel.ts', "addEventListener('online', () => allowed() && drain());", ''],
  ],
  'registrable-domain probe (and remembering its answer)': [
    ['pixel.ts', 'opts.cookieDomain ?? parse(mirror(PRUUV))?.d ?? findDomain(host, deps.probe || probe)', "opts.cookieDomain || ''"],
    ['pixel.ts', 'JSON.stringify({ ...st, d: attrs.domain })', 'JSON.stringify(st)'],
  ],
  'consent(false) erase': [['pixel.ts', 'granted === false && erase()', '0']],
  '_gcl_aw/_gcl_gb fallback': [
    ['pixel.ts', "gclFallback(st, 'gclid', cookie('_gcl_aw'));", ''],
    ['pixel.ts', "gclFallback(st, 'gbraid', cookie('_gcl_gb'));", ''],
  ],
  'script tag: data attributes, queued-init check': [
    ['global.ts', /const init = \(o\?: InitOptions\) =>[^;]*;/, 'const init = p.init;'],
    ['global.ts', "if (d.site && !q.some((c) => c[0] == 'init')) init();", ''],
  ],
  'PruuvError and its messages': [
    ['pixel.ts', "throw new PruuvError('[pruuv] init({ site, endpoint }) needs both')", 'throw 0'],
    ['pixel.ts', "throw new PruuvError('[pruuv] track() before init()')", 'throw 0'],
  ],
  'SPA navigation (history patch, popstate)': [
    ['pixel.ts', /for \(const m of \['pushState', 'replaceState'\] as const\) \{[\s\S]*?addEventListener\('popstate', safeCapture\);/, ''],
  ],
  'UUID v4 (vs Math.random)': [['uuid.ts', 'export const uuid = (): string => {', "export const uuid = (): string => '' + Math.random();\nexport const uuid4 = (): string => {"]],
  'debug logging': [['pixel.ts', "const log = (...a: unknown[]) => opts.debug && console.warn('[pruuv]', ...a);", 'const log = (..._: unknown[]) => 0;']],
  'sendBeacon fallback': [['transport.ts', ' || void (attempt(() => navigator.sendBeacon(url, body)) || keep(p))', '']],
  // Issue 13's rules.
  'stale _fbc removed on every level of the host': [
    ['pixel.ts', "if (cookie(FBC)) attempt(() => ['', ...levels(location.hostname)].map((d) => removeCookie(FBC, d)));", ''],
  ],
  'fbclid in the URL fragment': [
    ['params.ts', "new URLSearchParams(new URL(url).search + '&' + /[?#&](fbclid=[^&#]*)/.exec(url)?.[1])", 'new URL(url).searchParams'],
  ],
  'referrer: per click ID, ttclid from the same host, UTMs from one URL (vs none)': [
    ['params.ts', /export const captureParams = [^{]*\{[\s\S]*?\n\};/, 'export const captureParams = (url: string, _: string): Params => readParams(url);'],
  ],
  'function-style queue stub (vs ours only)': [
    ['global.ts', /\(c\.pop \? c\[2\] : Object\)/, 'c[2]'],
    ['global.ts', /\(c\.pop \? c\[1\] : \[\.\.\.c\]\.slice\(1\)\)/, 'c[1]'],
    ['global.ts', "q.push = run as unknown as Call[]['push'];", ''],
  ],
};

/** Gzipped size of the script-tag bundle built from `src` (a src/ directory). */
async function build(src) {
  const dir = dirname(src);
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(tsconfig, JSON.stringify({ extends: join(pkg, 'tsconfig.build.json'), compilerOptions: { rootDir: 'src', outDir: 'out' }, include: ['src'] }));
  const bundle = await rollup({
    input: join(src, 'global.ts'),
    onwarn: () => undefined,
    plugins: [typescript({ tsconfig, declaration: false, noCheck: true })],
  });
  // The build's banner too (V8's compile hint), so that the total is dist/pruuv.min.js's.
  const { output } = await bundle.generate({ format: 'iife', strict: false, banner: '//# allFunctionsCalledOnLoad', plugins: [terser(terserOptions)] });
  return gzipSync(output[0].code, { level: 9 }).length;
}

const tmp = mkdtempSync(join(tmpdir(), 'pruuv-size-'));
try {
  const src = join(tmp, 'src');
  const copy = () => {
    rmSync(src, { recursive: true, force: true });
    cpSync(join(pkg, 'src'), src, { recursive: true });
  };
  copy();
  const total = await build(src);
  console.log(`dist/pruuv.min.js rebuilt: ${total} B gzipped. Saved by cutting each part:`);
  for (const [name, edits] of Object.entries(parts)) {
    copy();
    for (const [file, from, to] of edits) {
      const path = join(src, file);
      const text = readFileSync(path, 'utf8');
      const next = text.replace(from, to);
      if (next === text) throw new Error(`size-parts: "${name}" no longer matches src/${file}: update its edit`);
      writeFileSync(path, typeof from === 'string' ? text.split(from).join(to) : next);
    }
    console.log(`${String(total - (await build(src))).padStart(6)} B  ${name}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
