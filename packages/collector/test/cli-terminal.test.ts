/**
 * Terminal injection through the CLI: stored fields with ANSI escapes, carriage
 * returns, NUL or bidi overrides are printed escaped in human output, exactly
 * in `--json`.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { tempDir } from './helpers/harness.js';

const HOSTILE_REFERENCE = 'ok\u001b[2J\u001b]0;pwned\u0007\rFAKE LINE\u0000\u009b31m';
const HOSTILE_NAME = 'Acme\u202egnp.exe\u001b[31m';

let dir: ReturnType<typeof tempDir>;
let dbFile: string;
beforeEach(async () => {
  dir = tempDir();
  dbFile = `${dir.dir}/pruuv.db`;
  const store = openSqliteStore(dbFile);
  const client = await store.clients.create({ name: HOSTILE_NAME });
  const { stage } = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead\u001b[8m' });
  await store.events.admit(
    { id: randomUUID(), client_id: client.id, stage_id: stage.id, stage_key: 'lead', source: 'webhook', reference: HOSTILE_REFERENCE, consent: 'granted', clicks: {}, utm: {}, demographics: {} },
    new Date(),
  );
  await store.close();
});
afterEach(() => dir.cleanup());

async function pruuv(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args, '--db', dbFile], { env: {}, stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('CLI output on a terminal', () => {
  it('escapes control characters of stored fields in every human-readable list', async () => {
    for (const args of [['events', 'list'], ['clients', 'list'], ['stages', 'list']]) {
      const { code, stdout } = await pruuv(...args);
      expect(code, args.join(' ')).toBe(0);
      expect(stdout, args.join(' ')).not.toMatch(RAW_CONTROL);
    }
    const events = (await pruuv('events', 'list')).stdout;
    expect(events).toContain('ok\\u001b[2J\\u001b]0;pwned\\u0007\\u000dFAKE LINE\\u0000\\u009b31m');
    expect((await pruuv('clients', 'list')).stdout).toContain('Acme\\u202egnp.exe\\u001b[31m');
  });

  it('keeps --json exact: the stored value parses back unchanged', async () => {
    const { stdout } = await pruuv('events', 'list', '--json');
    expect(stdout).not.toMatch(RAW_CONTROL);
    expect((JSON.parse(stdout) as { events: Array<{ reference: string }> }).events[0]!.reference).toBe(HOSTILE_REFERENCE);
  });

  it('escapes an error message that echoes input', async () => {
    const { stderr } = await pruuv('stages', 'list', '--client', 'cli_\u001b[2Jx');
    expect(stderr).not.toMatch(RAW_CONTROL);
    expect(stderr).toContain('\\u001b[2J');
  });
});
