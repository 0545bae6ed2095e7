/**
 * What operators touch: the `pruuv` commands for connections, sends, keys and
 * stage event names, the admin API's audit log, `pruuv serve`'s schedule and
 * refusal, and the `npm start` sandbox wiring. Real SQLite, fakes over HTTP.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PLATFORM_IDS } from '@pruuv/sender';
import { createApp } from '../src/http/app.js';
import { runCli } from '../src/cli/program.js';
import { loadConfig } from '../src/config.js';
import { DEMO_KEY_FILE, demoBanner, demoKey, sendingBanner, setupDemo, setupDemoSending } from '../src/demo.js';
import { createLogger } from '../src/logger.js';
import { listSends } from '../src/domain/send-lists.js';
import { listGoogleStatus } from '../src/domain/send-lists.js';
import { createSender } from '../src/send/sender.js';
import { ServerStartError, startServer, type RunningServer } from '../src/http/server.js';
import { FAKE_FIELDS, newKey, outboxRow, sendEnv, type SendEnv } from './send-helpers.js';

const SECRETS = ['fake-meta-token', 'fake-client-secret', 'fake-refresh-token', 'fake-tiktok-token'];

let env: SendEnv | undefined;
let server: Server | undefined;
let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
  if (server !== undefined) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
  await env?.close();
  env = undefined;
});

/** The environment `pruuv` needs to reach the fakes. */
function cliEnv(e: SendEnv, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PRUUV_DB: e.dbFile,
    PRUUV_ENCRYPTION_KEY: e.key,
    PRUUV_META_API_URL: e.fakes.urls.meta,
    PRUUV_GOOGLE_ADS_API_URL: e.fakes.urls.googleAds,
    PRUUV_GOOGLE_DATA_MANAGER_API_URL: e.fakes.urls.dataManager,
    PRUUV_GOOGLE_OAUTH_TOKEN_URL: e.fakes.urls.oauthToken,
    PRUUV_TIKTOK_API_URL: e.fakes.urls.tiktok,
    ...extra,
  };
}

async function run(args: string[], environment: NodeJS.ProcessEnv) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env: environment,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

describe('pruuv connections', () => {
  it('sets each platform from flags and never prints a secret', async () => {
    env = await sendEnv({ connect: [] });
    const vars = cliEnv(env);
    const c = env.client.id;
    const outputs = [
      await run(['connections', 'set', '--client', c, '--platform', 'meta', '--pixel-id', '1234567890123456', '--access-token', 'fake-meta-token', '--test-event-code', 'TEST42'], vars),
      await run(
        ['connections', 'set', '--client', c, '--platform', 'google', '--customer-id', '123-456-7890', '--conversion-action-id', '987654321', '--client-id', 'fake-client-id.apps.googleusercontent.com', '--client-secret', 'fake-client-secret', '--refresh-token', 'fake-refresh-token', '--api', 'ads', '--login-customer-id', '1112223334'],
        vars,
      ),
      await run(['connections', 'set', '--client', c, '--platform', 'tiktok', '--pixel-code', 'CFAKEPIXEL0000000000', '--access-token', 'fake-tiktok-token', '--dry-run'], vars),
      await run(['connections', 'list'], vars),
      await run(['connections', 'list', '--json'], vars),
    ];
    for (const o of outputs) expect(o.code, o.stderr).toBe(0);
    const all = outputs.map((o) => o.stdout + o.stderr).join('\n');
    for (const secret of SECRETS) expect(all).not.toContain(secret);
    const { connections } = JSON.parse(outputs[4]!.stdout) as { connections: Array<{ platform: string; settings: Record<string, unknown>; secrets: string[] }> };
    expect(connections.map((x) => [x.platform, x.secrets])).toEqual([
      ['google', ['client_secret', 'refresh_token']],
      ['meta', ['access_token']],
      ['tiktok', ['access_token']],
    ]);
    expect(connections[0]!.settings).toMatchObject({ api: 'ads', customer_id: '1234567890', login_customer_id: '1112223334' });
    expect(connections[2]!.settings).toMatchObject({ dry_run: true });
    expect(outputs[3]!.stdout).toContain('access_token=(encrypted)');

    const undo = await run(['connections', 'set', '--client', c, '--platform', 'tiktok', '--no-dry-run', '--no-test-event-code', '--json'], vars);
    // `match` is filled with its default and stays: it says which events go to TikTok.
    expect((JSON.parse(undo.stdout) as { connection: { settings: Record<string, unknown> } }).connection.settings).toEqual({ pixel_code: 'CFAKEPIXEL0000000000', match: 'any' });
  });

  it('sets TikTok to click-ID-only with --match, and connections list shows it', async () => {
    env = await sendEnv({ connect: [] });
    const vars = cliEnv(env);
    const c = env.client.id;
    const base = ['connections', 'set', '--client', c, '--platform', 'tiktok', '--pixel-code', 'CFAKEPIXEL0000000000', '--access-token', 'fake-tiktok-token'];
    expect((await run(base, vars)).code).toBe(0);
    expect((await run(['connections', 'list'], vars)).stdout).toContain('match=any');
    const set = await run([...base, '--match', 'click-id-only'], vars);
    expect(set.code, set.stderr).toBe(0);
    expect((await run(['connections', 'list'], vars)).stdout).toContain('match=click-id-only');
    const bad = await run([...base, '--match', 'sometimes'], vars);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/any, click-id-only/);
  });

  it("sets Microsoft's UET Conversions API path with --api uet-capi, the tag id and its token from a file; --api takes each platform's own choices only", async () => {
    env = await sendEnv({ connect: [] });
    const vars = cliEnv(env);
    const c = env.client.id;
    const tokenFile = `${env.dir}/uet-token.txt`;
    writeFileSync(tokenFile, 'uet-secret-token\n');
    const base = ['connections', 'set', '--client', c, '--platform', 'microsoft', '--customer-id', '251000001', '--account-id', '180000001', '--goal-name', 'Offline', '--refresh-token-file', tokenFile];
    const set = await run([...base, '--api', 'uet-capi', '--uet-tag-id', '187000001', '--uet-api-token-file', tokenFile], vars);
    expect(set.code, set.stderr).toBe(0);
    const list = await run(['connections', 'list'], vars);
    expect(list.stdout).toContain('api=uet-capi uet_tag_id=187000001 uet_api_token=(encrypted)');
    expect(list.stdout + set.stdout).not.toContain('uet-secret-token');
    const wrong = await run([...base, '--api', 'ads'], vars);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/--api.*"offline-conversions"\|"uet-capi"/);
  });

  it('says how to make a key when PRUUV_ENCRYPTION_KEY is unset', async () => {
    env = await sendEnv({ connect: [] });
    const result = await run(['connections', 'set', '--client', env.client.id, '--platform', 'meta', '--pixel-id', '1', '--access-token', 'x'], { PRUUV_DB: env.dbFile });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PRUUV_ENCRYPTION_KEY is not set.*openssl rand -base64 32/);
  });

  it('rejects a bad value as a usage error naming the flag', async () => {
    env = await sendEnv({ connect: [] });
    const result = await run(['connections', 'set', '--client', env.client.id, '--platform', 'meta', '--pixel-id', 'abc', '--access-token', 'x'], cliEnv(env));
    expect(result).toMatchObject({ code: 2, stderr: expect.stringContaining('--pixel-id') });
    expect((await run(['connections', 'set', '--client', env.client.id, '--platform', 'bing'], cliEnv(env))).code).toBe(2);
  });
});

describe('pruuv stages set-events', () => {
  it('merges overrides and rejects a non-numeric Google action', async () => {
    env = await sendEnv({ connect: [] });
    const vars = cliEnv(env);
    expect((await run(['stages', 'set-events', env.lead.id, '--meta', 'SubmitApplication'], vars)).code).toBe(0);
    const second = await run(['stages', 'set-events', env.lead.id, '--google-action', '555', '--json'], vars);
    expect(JSON.parse(second.stdout)).toMatchObject({ stage: { event_names: { meta: 'SubmitApplication', google_conversion_action_id: '555' } } });
    const bad = await run(['stages', 'set-events', env.lead.id, '--google-action', 'AW-555'], vars);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('--google-action') });
    const cleared = await run(['stages', 'set-events', env.lead.id, '--clear', '--tiktok', 'Contact', '--json'], vars);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ stage: { event_names: { tiktok: 'Contact' } } });
    expect((JSON.parse(cleared.stdout) as { stage: { event_names: object } }).stage.event_names).toEqual({ tiktok: 'Contact' });
  });
});

describe('pruuv send and pruuv sends list', () => {
  it('runs a pass now, prints a summary, and lists the audit log', async () => {
    env = await sendEnv({ start: new Date().toISOString() });
    const event = env.addEvent();
    const vars = cliEnv(env);
    const sent = await run(['send'], vars);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(new RegExp(`${PLATFORM_IDS.length} due send\\(s\\)`));
    expect(sent.stdout).toMatch(/meta\s+1\s+0\s+0\s+0\s+0/);
    // No Microsoft connection: its row is removed, counted apart, not skipped.
    expect(sent.stdout).toMatch(/microsoft\s+0\s+0\s+0\s+0\s+0/);
    expect(sent.stdout).toContain('1 send(s) removed unsent and unrecorded: their client has no connection for the platform');
    expect(outboxRow(env.db, event.id, 'google').status).toBe('sent');

    const listed = await run(['sends', 'list', '--platform', 'meta', '--json'], vars);
    const { sends } = JSON.parse(listed.stdout) as { sends: Array<{ event_id: string; status: string; http_status: number }> };
    expect(sends).toEqual([expect.objectContaining({ event_id: event.id, status: 'sent', http_status: 200 })]);
    const table = await run(['sends', 'list', '--status', 'sent'], vars);
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME\s+PLATFORM\s+STATUS\s+EVENT/);
    expect(table.stdout.match(/ sent /g)).toHaveLength(3);
    expect((await run(['sends', 'list', '--status', 'lost'], vars)).code).toBe(2);

    const again = await run(['send', '--json'], vars);
    expect(JSON.parse(again.stdout)).toMatchObject({ claimed: 0, counts: { sent: 0 } });
  });

  it('refuses to send with stored credentials and no key', async () => {
    env = await sendEnv({ connect: ['meta'] });
    const result = await run(['send'], { ...cliEnv(env), PRUUV_ENCRYPTION_KEY: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/have stored credentials but PRUUV_ENCRYPTION_KEY is not set.*openssl rand -base64 32/);
  });
});

describe('pruuv keys rotate', () => {
  it('re-encrypts with the first key so the old one can be dropped', async () => {
    env = await sendEnv();
    const next = newKey();
    const rotated = await run(['keys', 'rotate', '--json'], cliEnv(env, { PRUUV_ENCRYPTION_KEY: `${next},${env.key}` }));
    expect(JSON.parse(rotated.stdout)).toMatchObject({ connections: 3, reencrypted: 3 });
    const listed = await run(['send'], cliEnv(env, { PRUUV_ENCRYPTION_KEY: next }));
    expect(listed.code, listed.stderr).toBe(0);
    const stale = await run(['send'], cliEnv(env));
    expect(stale).toMatchObject({ code: 1, stderr: expect.stringContaining('Add the old key after the current one') });
  });
});

describe('GET /api/admin/sends', () => {
  const TOKEN = 'admin-token-0123456789abcdef';

  async function listen(e: SendEnv): Promise<string> {
    server = createApp({ store: e.store, adminToken: TOKEN }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server!.once('listening', resolve));
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/api/admin`;
  }
  const get = (url: string) => fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } });

  it('answers the audit log with the CLI filters, and connections without secrets', async () => {
    env = await sendEnv({ connect: ['meta', 'tiktok'], fields: { tiktok: { dry_run: true } } });
    env.addEvent();
    await env.pass();
    const base = await listen(env);
    const res = await get(`${base}/sends?platform=meta&client=${env.client.id}&limit=5`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { sends: unknown[] };
    expect(body.sends).toEqual(await listSends(env.store, { platform: 'meta', client: env.client.id, limit: 5 }));
    expect(body.sends).toHaveLength(1);
    // TikTok's dry run is skipped; Google and Microsoft, without a connection, have no record.
    expect(((await (await get(`${base}/sends?status=skipped`)).json()) as { sends: Array<{ platform: string }> }).sends.map((s) => s.platform)).toEqual(['tiktok']);
    const bad = await get(`${base}/sends?status=lost&limit=0`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/status must be one of/);
    const connections = await get(`${base}/connections`);
    const text = await connections.text();
    expect(text).toContain('"platform":"meta"');
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect((await fetch(`${base}/sends`)).status).toBe(401);
  });

  it('answers the Google diagnostics with the CLI filters', async () => {
    env = await sendEnv({ connect: ['google'] });
    env.addEvent();
    await env.pass();
    const base = await listen(env);
    const res = await get(`${base}/google-status?status=PENDING&client=${env.client.id}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { requests: Array<{ status: string; events: number }> };
    expect(body.requests).toEqual(await listGoogleStatus(env.store, { status: 'PENDING', client: env.client.id }));
    expect(body.requests).toMatchObject([{ status: 'PENDING', events: 1 }]);
    expect(((await (await get(`${base}/google-status?status=SUCCESS`)).json()) as { requests: unknown[] }).requests).toEqual([]);
    const bad = await get(`${base}/google-status?status=lost`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/status must be one of/);
    expect((await fetch(`${base}/google-status`)).status).toBe(401);
  });
});

describe('pruuv serve', () => {
  const silent = createLogger({ level: 'silent', pretty: false });

  it('refuses to start with stored credentials and no key', async () => {
    env = await sendEnv({ connect: ['tiktok'] });
    const config = { ...loadConfig({ PRUUV_DB: env.dbFile }), port: 0, host: '127.0.0.1' };
    await expect(startServer(config, { logger: silent, handleSignals: false })).rejects.toThrow(ServerStartError);
    await expect(startServer(config, { logger: silent, handleSignals: false })).rejects.toThrow(/openssl rand -base64 32/);
  });

  it('runs the missed 03:00 pass at start', async () => {
    env = await sendEnv({ start: new Date().toISOString() });
    const event = env.addEvent();
    const config = { ...loadConfig(cliEnv(env)), port: 0, host: '127.0.0.1' };
    env.db.close(); // the server opens its own
    running = await startServer(config, { logger: silent, handleSignals: false });
    expect(running.sender).toBeDefined();
    // The start-up pass runs in the background; wait for its receipts.
    for (let i = 0; i < 100 && env.fakes.counted('tiktok').size === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect([...env.fakes.counted('tiktok').keys()].some((k) => k.includes(event.id))).toBe(true);
  });
});

describe('npm start sandbox', () => {
  it('generates a demo key once and wires the demo client to the fakes', async () => {
    env = await sendEnv({ connect: [], start: new Date().toISOString() });
    const first = demoKey(undefined, env.dbFile);
    expect(first).toMatchObject({ generated: true, file: join(env.dir, DEMO_KEY_FILE) });
    expect(statSync(first.file!).mode & 0o777).toBe(0o600);
    const again = demoKey(undefined, env.dbFile);
    expect(again.generated).toBe(false);
    expect(again.ring.currentId).toBe(first.ring.currentId);
    expect(demoKey(env.ring, join(env.dir, 'other', 'x.db'))).toEqual({ ring: env.ring, generated: false });
    expect(existsSync(join(env.dir, 'other'))).toBe(false);

    const setup = await setupDemo(env.store, 'http://localhost:8787');
    await setupDemoSending(env.store, setup.client, first.ring);
    await setupDemoSending(env.store, setup.client, first.ring); // every start
    const admitted = await env.store.events.admit(
      { id: crypto.randomUUID(), client_id: setup.client.id, stage_id: setup.stages.sale.stage.id, stage_key: 'sale', source: 'webhook', reference: 'demo-sale-001', consent: 'unspecified', clicks: { gclid: { value: 'Cj0-demo' } }, utm: {}, demographics: {}, revenue_value: 250, currency: 'GBP' },
      env.clock.now(),
    );
    expect(admitted.status).toBe('stored');
    const sender = await createSender({ store: env.store, config: { ...env.config, keyRing: first.ring }, now: env.clock.now });
    await sender.runPass();
    expect((await listSends(env.store, { client: setup.client.id, status: 'sent' })).map((s) => s.platform)).toEqual(['google']);

    const banner = demoBanner(setup, { baseUrl: 'http://localhost:8787', dbFile: 'data/demo.db', scriptPath: '/s.js', sending: sendingBanner(env.fakes, first) });
    expect(banner).toMatch(/^SANDBOX: fake ad platforms/m);
    expect(banner).toContain(env.fakes.urls.meta);
    expect(banner).toContain('npx pruuv sends list --db data/demo.db');
    expect(banner).toContain('npx pruuv sends google-status --db data/demo.db');
    expect(banner).toContain('DEMO ONLY');
    expect(banner).not.toContain(String(FAKE_FIELDS.meta['access_token']));
  });
});

describe('pruuv serve --no-worker and pruuv worker', () => {
  it('serves HTTP without sending when --no-worker, and a worker sends the missed slot at start', async () => {
    env = await sendEnv({ start: new Date(Date.now() - 60_000).toISOString(), connect: ['meta'] });
    const event = env.addEvent();
    const config = { ...loadConfig(cliEnv(env)), port: 0, host: '127.0.0.1' };
    const logger = createLogger({ level: 'silent' });
    running = await startServer(config, { logger, handleSignals: false, send: { mode: 'off' } });
    expect(running.sender).toBeUndefined();
    expect(outboxRow(env.db, event.id, 'meta').status).toBe('pending');
    const { startWorker } = await import('../src/send/worker.js');
    const worker = await startWorker(config, { logger, handleSignals: false });
    try {
      // Today's 03:00 slot was missed (the worker was not running): it runs at start.
      for (let i = 0; i < 100 && outboxRow(env.db, event.id, 'meta').status !== 'sent'; i++) await new Promise((r) => setTimeout(r, 50));
      expect(outboxRow(env.db, event.id, 'meta').status).toBe('sent');
      expect(worker.sender?.owner).toMatch(/:\d+:/);
    } finally {
      await worker.close();
    }
  });

  it('refuses to start a worker on a database it cannot reach, naming it without the password', async () => {
    const result = await run(['worker'], { PRUUV_DATABASE_URL: 'postgres://pruuv:hunter2-secret@127.0.0.1:9/pruuv' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Cannot reach the PostgreSQL database 127\.0\.0\.1:9\/pruuv/);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('warns when --database-url carries a password', async () => {
    const result = await run(['clients', 'list', '--database-url', 'postgres://pruuv:hunter2-secret@127.0.0.1:9/pruuv'], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/warning: --database-url holds a password/);
    expect(result.stderr).not.toContain('hunter2');
  });
});
