// Builds @pruuv/pixel. Output paths come from the package's own package.json
// (`exports`, `unpkg`) so the build and what is published cannot drift.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import typescript from '@rollup/plugin-typescript';
import terser from '@rollup/plugin-terser';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const root = resolve(dirname(fileURLToPath(import.meta.url)), 'packages/pixel');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const at = (p) => resolve(root, p);
const tsconfig = at('tsconfig.build.json');

/**
 * Terser settings for the script tag build, where every byte counts (budget in
 * packages/pixel/README.md, enforced by test/size.test.ts). ES2022 output keeps `?.`,
 * `??`, `||=` and class fields native instead of down-levelled (README "Browser support").
 * `unsafe_methods` turns `f: function () {}` into `f() {}`: safe, as nothing calls such
 * methods with `new`. `booleans_as_integers` writes `!0`/`!1`
 * as `1`/`0` (5 B): every boolean the pixel hands out leaves through `!!`, a comparison or
 * JSON of a real boolean, and the browser APIs given `1` (`keepalive`, `childList`) read it
 * as `true`. `unsafe_comps` and `hoist_funs` only swap operands (`a < b` → `b > a`) and
 * hoist function declarations.
 *
 * Property names: `_x` names (so a cookie or key name is never written as a property
 * access: `jar[name]`, not `jar._pruuv`), and `probe`, a `createPixel` seam the script tag
 * never passes (it calls `createPixel()` bare): 4 B. Exported for the pixel's
 * `scripts/size-parts.mjs`, which must minify exactly like the build.
 */
export const terserOptions = {
  ecma: 2022,
  compress: {
    passes: 3,
    unsafe_arrows: true,
    unsafe_methods: true,
    pure_getters: true,
    booleans_as_integers: true,
    unsafe_comps: true,
    hoist_funs: true,
  },
  mangle: {
    properties: {
      regex: /^(_[a-z].*|probe)$/,
    },
  },
  // Only V8's compile hint, which must stay the script's first line.
  format: { comments: /^# allFunctionsCalledOnLoad$/ },
};
const minify = terser(terserOptions);

export default [
  {
    // npm entry: ESM + CJS + declarations; runs nothing on import.
    input: at('src/index.ts'),
    plugins: [
      typescript({ tsconfig, declaration: true, declarationDir: at('dist'), rootDir: at('src'), outDir: at('dist') }),
    ],
    output: [
      { file: at(pkg.exports['.'].import), format: 'es' },
      { file: at(pkg.exports['.'].require), format: 'cjs', exports: 'named' },
    ],
  },
  {
    // Script-tag entry: one minified IIFE, global `Pruuv`.
    input: at('src/global.ts'),
    plugins: [nodeResolve({ browser: true }), typescript({ tsconfig, declaration: false, declarationDir: undefined, outDir: at('dist') })],
    // No "use strict" prologue (13 bytes): nothing here depends on strict mode.
    // V8's explicit compile hint (Chromium 136+; a comment elsewhere): every function of
    // the script runs on load, so compiling them all at once with the script costs the page
    // less than a pre-parse and then a compile at each first call (bench/pixel-load, with
    // `--compare`: 0.68 of the script time at 1× CPU, 0.78 at 4×, for about 15 B).
    output: { file: at(pkg.unpkg), format: 'iife', strict: false, banner: '//# allFunctionsCalledOnLoad', plugins: [minify] },
  },
];
