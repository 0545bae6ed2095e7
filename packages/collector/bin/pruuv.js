#!/usr/bin/env node
// The `pruuv` bin: a committed launcher for the built CLI (dist/cli.js). The bin cannot point
// at dist/ itself: npm links a package's bins at install time and silently skips files that do
// not exist yet (npm's bin-links "link-gently"), and dist/ is only built after `npm ci`.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('error: @pruuv/collector is not built yet: run `npm run build` at the repository root\n');
  process.exit(1);
}
await import(cli.href);
