/**
 * `pruuv connections set` keeps secrets off the command line: `--x-stdin`,
 * `--x-file` and `--ask`, and a warning when a secret is an argument.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseKeyRing } from '@pruuv/sender';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import type { PasswordSource } from '../src/cli/users.js';
import { createConnections } from '../src/domain/connections.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { tempDir } from './helpers/harness.js';

const KEY = randomBytes(32).toString('base64');
let dir: ReturnType<typeof tempDir>;
let dbFile: string;
let clientId: string;
beforeEach(async () => {
  dir = tempDir();
  dbFile = `${dir.dir}/pruuv.db`;
  const store = openSqliteStore(dbFile);
  clientId = (await store.clients.create({ name: 'Acme' })).id;
  await store.close();
});
afterEach(() => dir.cleanup());

async function pruuv(args: string[], passwords?: PasswordSource): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args, '--db', dbFile], {
    env: { PRUUV_ENCRYPTION_KEY: KEY },
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    ...(passwords !== undefined ? { passwords } : {}),
  });
  return { code, stdout, stderr };
}

async function storedSecret(platform: 'meta' | 'google', name: string): Promise<unknown> {
  const store = openSqliteStore(dbFile);
  try {
    const loaded = await createConnections(store).load(clientId, platform, parseKeyRing(KEY));
    return (loaded?.connection as unknown as Record<string, unknown> | undefined)?.[name];
  } finally {
    await store.close();
  }
}

const meta = (...extra: string[]) => ['connections', 'set', '--client', clientId, '--platform', 'meta', '--pixel-id', '1234567890123456', ...extra];

describe('secrets of pruuv connections set', () => {
  it('reads a secret from stdin, without a warning', async () => {
    const result = await pruuv(meta('--access-token-stdin'), { readStdin: async () => 'EAAB-from-stdin\n' });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(await storedSecret('meta', 'access_token')).toBe('EAAB-from-stdin');
    expect(result.stdout).not.toContain('EAAB-from-stdin');
  });

  it('reads secrets from files, several at once', async () => {
    writeFileSync(`${dir.dir}/secret`, 'google-client-secret\n');
    writeFileSync(`${dir.dir}/refresh`, 'google-refresh-token');
    const result = await pruuv([
      'connections', 'set', '--client', clientId, '--platform', 'google', '--customer-id', '123-456-7890', '--conversion-action-id', '987654321',
      '--client-id', 'x.apps.googleusercontent.com', '--client-secret-file', `${dir.dir}/secret`, '--refresh-token-file', `${dir.dir}/refresh`,
    ]);
    expect(result.code).toBe(0);
    expect(await storedSecret('google', 'client_secret')).toBe('google-client-secret');
    expect(await storedSecret('google', 'refresh_token')).toBe('google-refresh-token');
    const missing = await pruuv(meta('--access-token-file', `${dir.dir}/nope`));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Cannot read --access-token-file .*nope: ENOENT/);
  });

  it('asks the platform’s secrets on the terminal with --ask', async () => {
    const prompts: string[] = [];
    const result = await pruuv(meta('--ask'), { readStdin: async () => '', ask: async (prompt) => (prompts.push(prompt), 'EAAB-asked') });
    expect(result.code).toBe(0);
    expect(prompts).toEqual(['access token (access_token, leave empty to keep): ']);
    expect(await storedSecret('meta', 'access_token')).toBe('EAAB-asked');
  });

  it('warns when a secret is an argument, naming the safer ways, never printing it', async () => {
    const result = await pruuv(meta('--access-token', 'EAAB-on-argv'));
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: --access-token on the command line is visible to other users .* use --access-token-stdin, --access-token-file or --ask/);
    expect(`${result.stdout}${result.stderr}`).not.toContain('EAAB-on-argv');
  });

  it('refuses two secrets from stdin, or one secret two ways', async () => {
    const google = ['connections', 'set', '--client', clientId, '--platform', 'google', '--client-secret-stdin', '--refresh-token-stdin'];
    expect((await pruuv(google, { readStdin: async () => 'x' })).stderr).toMatch(/Only one secret can be read from stdin; use --refresh-token-file/);
    expect((await pruuv(meta('--access-token', 'a', '--access-token-stdin'), { readStdin: async () => 'b' })).stderr).toMatch(/one way only/);
  });

  it('takes the secret piped into the built bin', () => {
    const bin = fileURLToPath(new URL('../bin/pruuv.js', import.meta.url));
    const run = spawnSync(bin, [...meta('--access-token-stdin'), '--db', dbFile], { input: 'EAAB-piped\n', encoding: 'utf8', env: { PATH: process.env.PATH, PRUUV_ENCRYPTION_KEY: KEY }, timeout: 15_000 });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    return storedSecret('meta', 'access_token').then((v) => expect(v).toBe('EAAB-piped'));
  });
});
