#!/usr/bin/env node
/**
 * Runs `systemd-analyze verify` on the units of `examples/systemd/`, their
 * `ExecStart=` pointed at this checkout's `bin/pruuv.js` (verify requires the
 * program to exist). Fails, saying what to install, where the tool is missing.
 *
 *   npm run verify:systemd -w @pruuv/collector
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../../../examples/systemd/', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/pruuv.js', import.meta.url));
const units = readdirSync(DIR).filter((f) => f.endsWith('.service') || f.endsWith('.timer'));

if (spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error('systemd-analyze was not found: install systemd (Debian and Ubuntu: apt install systemd) to verify the units.');
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'pruuv-units-'));
try {
  for (const unit of units) writeFileSync(join(dir, unit), readFileSync(join(DIR, unit), 'utf8').replaceAll('/usr/bin/pruuv', BIN));
  const result = spawnSync('systemd-analyze', ['verify', ...units.map((u) => join(dir, u))], { encoding: 'utf8' });
  const output = `${result.stdout}${result.stderr}`.trim();
  if (result.status !== 0 || output !== '') {
    console.error(output || `systemd-analyze verify exited with ${result.status}`);
    process.exit(1);
  }
  console.log(`systemd-analyze verify: ${units.join(', ')} ok`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
