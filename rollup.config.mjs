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
 * packages/pixel/README.md, enforced by test/size.test.ts). ES2020 output keeps `?.`
 * and `??` native instead of down-levelled helpers (README "Browser support").
 */
const minify = terser({
  ecma: 2020,
  compress: { passes: 3, unsafe_arrows: true, pure_getters: true },
  mangle: { properties: { regex: /^_[a-z]/ } },
  format: { comments: false },
});

export default [
  {
    // npm entry: ESM + CJS + declarations; runs nothing on import.
    input: at('src/index.ts'),
    external: ['js-cookie'],
    plugins: [
      typescript({ tsconfig, declaration: true, declarationDir: at('dist'), rootDir: at('src'), outDir: at('dist') }),
    ],
    output: [
      { file: at(pkg.exports['.'].import), format: 'es' },
      { file: at(pkg.exports['.'].require), format: 'cjs', exports: 'named' },
    ],
  },
  {
    // Script-tag entry: one minified IIFE with js-cookie inlined, global `Pruuv`.
    input: at('src/global.ts'),
    plugins: [nodeResolve({ browser: true }), typescript({ tsconfig, declaration: false, declarationDir: undefined, outDir: at('dist') })],
    // No "use strict" prologue (13 bytes): nothing here depends on strict mode.
    output: { file: at(pkg.unpkg), format: 'iife', strict: false, plugins: [minify] },
  },
];
