/**
 * `pruuv users …`: dashboard accounts from the CLI, in process on a real SQLite
 * file, and once through the built bin with the password piped on stdin.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import type { PasswordSource } from '../src/cli/users.js';
import { signIn } from '../src/dashboard/auth/sign-in.js';
import { startSession, resumeSession } from '../src/dashboard/auth/sessions.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { tempDir } from './helpers/harness.js';

let dir: ReturnType<typeof tempDir>;
let dbFile: string;
beforeEach(() => {
  dir = tempDir();
  dbFile = `${dir.dir}/pruuv.db`;
});
afterEach(() => dir.cleanup());

async function pruuv(args: string[], passwords?: PasswordSource): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args, '--db', dbFile], {
    env: {},
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    ...(passwords !== undefined ? { passwords } : {}),
  });
  return { code, stdout, stderr };
}

const stdin = (text: string): PasswordSource => ({ readStdin: async () => text });
const terminal = (...answers: string[]): PasswordSource & { prompts: string[] } => {
  const prompts: string[] = [];
  return {
    prompts,
    readStdin: async () => {
      throw new Error('stdin not expected');
    },
    ask: async (prompt) => {
      prompts.push(prompt);
      return answers.shift() ?? '';
    },
  };
};

describe('pruuv users', () => {
  it('adds an admin with a piped password that then signs in, and lists users without hashes', async () => {
    const added = await pruuv(['users', 'add', '--email', 'Ada@Agency.example', '--role', 'admin', '--password-stdin', '--json'], stdin('a long passphrase\n'));
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout).user).toMatchObject({ email: 'ada@agency.example', role: 'admin' });
    const store = openSqliteStore(dbFile);
    try {
      expect((await signIn(store, { email: 'ada@agency.example', password: 'a long passphrase', address: '127.0.0.1' }, new Date())).ok).toBe(true);
    } finally {
      await store.close();
    }
    const list = await pruuv(['users', 'list', '--json']);
    expect(JSON.parse(list.stdout).users).toEqual([expect.objectContaining({ email: 'ada@agency.example', role: 'admin' })]);
    expect(list.stdout).not.toContain('scrypt');
  });

  it('asks twice on a terminal and refuses two different answers', async () => {
    const asked = terminal('a long passphrase', 'a long passphrasE');
    const result = await pruuv(['users', 'add', '--email', 'ada@agency.example', '--role', 'admin'], asked);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/two passwords differ/);
    expect(asked.prompts).toEqual(['Password (12 characters or more): ', 'Again: ']);
    expect((await pruuv(['users', 'list', '--json'])).stdout).toContain('"users": []');
    const ok = await pruuv(['users', 'add', '--email', 'ada@agency.example', '--role', 'admin'], terminal('a long passphrase', 'a long passphrase'));
    expect(ok.code).toBe(0);
  });

  it('says how to give a password when there is no terminal, and never takes one from argv', async () => {
    const result = await pruuv(['users', 'add', '--email', 'ada@agency.example', '--role', 'admin'], { readStdin: async () => '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--password-stdin/);
    const argv = await pruuv(['users', 'add', '--email', 'ada@agency.example', '--role', 'admin', '--password', 'a long passphrase'], stdin('x'));
    expect(argv.code).toBe(2);
    expect(argv.stderr).toMatch(/unknown option '--password'/);
  });

  it('refuses a short password, a client user without its client, and a client for staff', async () => {
    expect((await pruuv(['users', 'add', '--email', 'a@agency.example', '--role', 'admin', '--password-stdin'], stdin('short'))).stderr).toMatch(/at least 12 characters/);
    const noClient = await pruuv(['users', 'add', '--email', 'c@client.example', '--role', 'client', '--password-stdin'], stdin('a long passphrase'));
    expect(noClient.code).toBe(2);
    expect(noClient.stderr).toMatch(/needs --client/);
    const unknown = await pruuv(['users', 'add', '--email', 'c@client.example', '--role', 'client', '--client', 'cli_nope', '--password-stdin'], stdin('a long passphrase'));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Unknown client 'cli_nope'/);
    const clients = await pruuv(['clients', 'add', '--name', 'Acme', '--json']);
    const clientId = (JSON.parse(clients.stdout) as { client: { id: string } }).client.id;
    expect((await pruuv(['users', 'add', '--email', 's@agency.example', '--role', 'staff', '--client', clientId, '--password-stdin'], stdin('a long passphrase'))).code).toBe(2);
    const viewer = await pruuv(['users', 'add', '--email', 'c@client.example', '--role', 'client', '--client', clientId, '--password-stdin', '--json'], stdin('a long passphrase'));
    expect(JSON.parse(viewer.stdout).user).toMatchObject({ role: 'client', client_id: clientId });
    expect((await pruuv(['users', 'add', '--email', 'C@client.example', '--role', 'staff', '--password-stdin'], stdin('a long passphrase'))).stderr).toMatch(/already exists/);
  });

  it('resets a password and ends every session of the user; removes users but never the last admin', async () => {
    await pruuv(['users', 'add', '--email', 'ada@agency.example', '--role', 'admin', '--password-stdin'], stdin('a long passphrase'));
    let store = openSqliteStore(dbFile);
    const user = (await store.users.byEmail('ada@agency.example'))!;
    const session = await startSession(store, user.id, new Date());
    await store.close();
    expect((await pruuv(['users', 'reset-password', '--email', 'ada@agency.example', '--password-stdin'], stdin('another long one'))).code).toBe(0);
    store = openSqliteStore(dbFile);
    try {
      expect(await resumeSession(store, session, new Date())).toBeUndefined();
      expect((await signIn(store, { email: 'ada@agency.example', password: 'another long one', address: '127.0.0.1' }, new Date())).ok).toBe(true);
    } finally {
      await store.close();
    }
    const last = await pruuv(['users', 'remove', '--email', 'ada@agency.example']);
    expect(last.code).toBe(1);
    expect(last.stderr).toMatch(/last admin/);
    await pruuv(['users', 'add', '--email', 'bo@agency.example', '--role', 'admin', '--password-stdin'], stdin('a long passphrase'));
    expect((await pruuv(['users', 'remove', '--email', 'ada@agency.example'])).code).toBe(0);
    expect((await pruuv(['users', 'remove', '--email', 'ada@agency.example'])).stderr).toMatch(/No user with the email/);
  });

  it('reads the password from stdin through the built bin, and prints no password anywhere', () => {
    const bin = fileURLToPath(new URL('../bin/pruuv.js', import.meta.url));
    const run = spawnSync(bin, ['users', 'add', '--email', 'ada@agency.example', '--role', 'admin', '--password-stdin', '--db', dbFile], {
      input: 'a long passphrase\n',
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
      timeout: 15_000,
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/User created: ada@agency.example \(admin\)/);
    expect(`${run.stdout}${run.stderr}`).not.toContain('a long passphrase');
    const noTty = spawnSync(bin, ['users', 'add', '--email', 'bo@agency.example', '--role', 'admin', '--db', dbFile], { input: '', encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 15_000 });
    expect(noTty.status).toBe(2);
    expect(noTty.stderr).toMatch(/No terminal to ask the password on: pipe it with --password-stdin/);
  });
});
