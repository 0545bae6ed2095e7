import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

/**
 * Size budget of the script-tag build, gzipped at zlib level 9 (what CDNs serve): the
 * issue's contract, below the ~3,500 B of peers that keep the full click-ID set.
 * See README "Size" for the measured number and where the bytes go.
 */
const BUDGET = 3000;
// node:path, not `new URL(…, import.meta.url)`: under happy-dom `URL` is the DOM's.
const file = join(dirname(fileURLToPath(import.meta.url)), '../dist/pruuv.min.js');

describe('dist/pruuv.min.js', () => {
  it(`is at most ${BUDGET} bytes gzipped`, () => {
    if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build (from the repo root) first`);
    const size = gzipSync(readFileSync(file), { level: 9 }).length;
    expect(size, `pruuv.min.js is ${size} B gzipped, over the ${BUDGET} B budget`).toBeLessThanOrEqual(BUDGET);
  });
});
