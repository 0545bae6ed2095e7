/**
 * The built bin, spawned as users run it (`node dist/cli.js …`). Needs `npm run build`
 * first (the root `npm test` builds in `pretest`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
/** What npm links as `pruuv` (it imports dist/cli.js). */
const LAUNCHER = fileURLToPath(new URL('../bin/pruuv.js', import.meta.url));

let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build -w @pruuv/collector\` first`);
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pruuv-bin-'));
  env = { PATH: process.env.PATH, PRUUV_DB: join(dir, 'pruuv.db') };
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function pruuv(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 15_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function launcher(...args: string[]) {
  const result = spawnSync(LAUNCHER, args, { env, encoding: 'utf8', timeout: 15_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('pruuv (built bin)', () => {
  it('creates a client and a stage, and lists them as JSON through the npm bin', () => {
    const added = pruuv('clients', 'add', '--name', 'Acme', '--origin', 'https://acme.example', '--json');
    expect(added.code).toBe(0);
    expect(added.stderr).toBe('');
    const { client } = JSON.parse(added.stdout) as { client: { id: string; site_key: string } };

    const stage = pruuv('stages', 'add', '--client', client.id, '--key', 'lead', '--name', 'Lead');
    expect(stage.code).toBe(0);
    expect(stage.stdout).toMatch(/webhook token: pwh_\w+/);
    expect(stage.stdout).toContain('curl -X POST http://localhost:8787/api/webhooks/funnel/stg_');

    const listed = launcher('stages', 'list', '--json');
    expect((JSON.parse(listed.stdout) as { stages: { key: string }[] }).stages.map((s) => s.key)).toEqual(['lead']);
  });

  it('exits 2 on a usage error and 1 on an unknown stage, with one line on stderr', () => {
    const usage = pruuv('clients', 'add', '--name', 'A', '--origin', 'not an origin');
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim().split('\n')).toHaveLength(1);
    const unknown = pruuv('stages', 'rotate-token', 'stg_missing');
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toContain("Unknown stage 'stg_missing'");
  });

  it('serves until SIGTERM, then closes gracefully with exit code 0', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--json'], {
      env: { ...env, PRUUV_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server did not start: ${stdout}`)), 10_000);
        child.stdout.on('data', () => {
          if (stdout.includes('collector listening')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const res = await fetch(`http://127.0.0.1:${port}/api/admin/clients`);
      expect(res.status).toBe(404); // no PRUUV_ADMIN_TOKEN: the admin API is off

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
      expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['collector listening', 'request', 'shutting down', 'collector stopped']));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
