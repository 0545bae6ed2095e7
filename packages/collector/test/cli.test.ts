import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientsAdd, clientsList } from '../src/cli/clients.js';
import { eventsList } from '../src/cli/events.js';
import { memoryOutput } from '../src/cli/output.js';
import { runCli } from '../src/cli/program.js';
import { stagesAdd, stagesList, stagesRotateToken } from '../src/cli/stages.js';
import { OperationError } from '../src/domain/operations.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/types.js';

let dir: string;
let dbFile: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pruuv-cli-'));
  dbFile = join(dir, 'pruuv.db');
  store = openSqliteStore(dbFile);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function operationError(run: () => unknown): Promise<OperationError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof OperationError) return error;
    throw error;
  }
  throw new Error('expected an OperationError');
}

async function admitWebhookEvent(s: Store, stage: { id: string; client_id: string; key: string }, reference: string, clicks: Record<string, { value: string }> = {}) {
  const result = await s.events.admit(
    {
      id: randomUUID(),
      client_id: stage.client_id,
      stage_id: stage.id,
      stage_key: stage.key,
      source: 'webhook',
      reference,
      consent: 'unspecified',
      clicks,
      utm: { utm_source: 'google' },
      email_sha256: 'a'.repeat(64),
      demographics: {},
    },
    new Date(),
  );
  if (result.status !== 'stored') throw new Error(`event not stored: ${result.status}`);
  return result.event;
}

describe('clients add', () => {
  it('creates a client and prints its id and site key', async () => {
    const out = memoryOutput();
    const client = await clientsAdd(store, { name: 'Acme', origins: ['https://www.acme.example/'], scriptUrl: 'https://c.example/s.js' }, out);
    expect(client.origins).toEqual(['https://www.acme.example']);
    expect(out.text).toContain(`<script async src="https://c.example/s.js" data-site="${client.site_key}"></script>`);
    expect(out.text).toContain(client.id);
    expect(out.text).toContain(client.site_key);
    expect((await store.clients.get(client.id))?.name).toBe('Acme');
  });

  it('prints { client } with --json', async () => {
    const out = memoryOutput(true);
    const client = await clientsAdd(store, { name: 'Acme', origins: ['http://localhost:3000'] }, out);
    expect(JSON.parse(out.text)).toEqual({ client });
  });

  const badOrigins = ['acme.example', 'https://acme.example/path', 'ftp://acme.example', 'https://acme.example?x=1', 'https://u:p@acme.example'];
  for (const origin of badOrigins) {
    it(`rejects the origin ${origin} as invalid input`, async () => {
      const error = await operationError(async () => await clientsAdd(store, { name: 'Acme', origins: [origin] }, memoryOutput()));
      expect(error.kind).toBe('invalid');
      expect(error.message).toContain(`Invalid origin "${origin}"`);
      expect(await store.clients.list()).toEqual([]);
    });
  }
});

describe('clients list', () => {
  it('lists clients as a table and as JSON', async () => {
    const a = await store.clients.create({ name: 'Alpha' });
    const b = await store.clients.create({ name: 'Beta', origins: ['https://b.example'] });
    const text = memoryOutput();
    await clientsList(store, {}, text);
    expect(text.text.split('\n')[0]).toMatch(/^ID\s+NAME\s+SITE KEY\s+ORIGINS\s+COUNTRY\s+CREATED$/);
    expect(text.text).toContain(a.site_key);
    expect(text.text).toContain('https://b.example');
    const json = memoryOutput(true);
    await clientsList(store, {}, json);
    expect(JSON.parse(json.text)).toEqual({ clients: [a, b] });
  });
});

describe('stages add', () => {
  it('returns a working token, the webhook URL and a curl line', async () => {
    const client = await store.clients.create({ name: 'Acme' });
    const out = memoryOutput();
    const { stage, token, webhook_url } = await stagesAdd(store, { client: client.id, key: 'lead', name: 'Lead', baseUrl: 'https://c.example/' }, out);
    expect(webhook_url).toBe(`https://c.example/api/webhooks/funnel/${stage.id}`);
    expect(await store.stages.verifyToken(stage.id, token)).toBe(true);
    expect(out.text).toContain(token);
    expect(out.text).toContain(`curl -X POST ${webhook_url} -H "Authorization: Bearer ${token}"`);
  });

  it('prints { stage, token, webhook_url } with --json', async () => {
    const client = await store.clients.create({ name: 'Acme' });
    const out = memoryOutput(true);
    const result = await stagesAdd(store, { client: client.id, key: 'sale', name: 'Sale', baseUrl: 'http://localhost:8787' }, out);
    expect(JSON.parse(out.text)).toEqual(result);
  });

  it('says the client is unknown', async () => {
    const error = await operationError(async () => await stagesAdd(store, { client: 'cli_nope', key: 'lead', name: 'Lead', baseUrl: 'http://x' }, memoryOutput()));
    expect([error.kind, error.message]).toEqual(['not_found', "Unknown client 'cli_nope'"]);
  });

  it('refuses a second stage with the same key', async () => {
    const client = await store.clients.create({ name: 'Acme' });
    await stagesAdd(store, { client: client.id, key: 'lead', name: 'Lead', baseUrl: 'http://x' }, memoryOutput());
    const error = await operationError(async () => await stagesAdd(store, { client: client.id, key: 'lead', name: 'Lead 2', baseUrl: 'http://x' }, memoryOutput()));
    expect(error.kind).toBe('conflict');
  });

  it('rejects an invalid stage key', async () => {
    const client = await store.clients.create({ name: 'Acme' });
    const error = await operationError(async () => await stagesAdd(store, { client: client.id, key: 'Lead Form', name: 'Lead', baseUrl: 'http://x' }, memoryOutput()));
    expect(error.kind).toBe('invalid');
    expect(error.message).toContain('Stage key must be');
  });
});

describe('stages rotate-token', () => {
  it('replaces the token: the old one stops working', async () => {
    const client = await store.clients.create({ name: 'Acme' });
    const { stage, token: old } = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
    const out = memoryOutput(true);
    const result = await stagesRotateToken(store, { stageId: stage.id, baseUrl: 'http://localhost:8787' }, out);
    expect(JSON.parse(out.text)).toEqual({ stage_id: stage.id, token: result.token, webhook_url: `http://localhost:8787/api/webhooks/funnel/${stage.id}` });
    expect(result.token).not.toBe(old);
    expect(await store.stages.verifyToken(stage.id, old)).toBe(false);
    expect(await store.stages.verifyToken(stage.id, result.token)).toBe(true);
  });

  it('says the stage is unknown', async () => {
    const error = await operationError(async () => await stagesRotateToken(store, { stageId: 'stg_nope', baseUrl: 'http://x' }, memoryOutput()));
    expect([error.kind, error.message]).toEqual(['not_found', "Unknown stage 'stg_nope'"]);
  });
});

describe('stages list', () => {
  it('lists stages of one client, never a token', async () => {
    const a = await store.clients.create({ name: 'A' });
    const b = await store.clients.create({ name: 'B' });
    const { stage, token } = await store.stages.create({ client_id: a.id, key: 'lead', name: 'Lead' });
    await store.stages.create({ client_id: b.id, key: 'sale', name: 'Sale' });
    const json = memoryOutput(true);
    await stagesList(store, { client: a.id }, json);
    expect(JSON.parse(json.text)).toEqual({ stages: [stage] });
    expect(json.text).not.toContain(token);
    const text = memoryOutput();
    await stagesList(store, {}, text);
    expect(text.text.trim().split('\n')).toHaveLength(3);
  });
});

describe('events list', () => {
  it('shows time, stage, reference, source and click ids present', async () => {
    const client = await store.clients.create({ name: 'Acme' });
    const { stage } = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
    await admitWebhookEvent(store, stage, 'CRM-REF-001', { gclid: { value: 'G1' }, fbclid: { value: 'F1' } });
    const out = memoryOutput();
    await eventsList(store, {}, out);
    const [header, row] = out.text.trim().split('\n');
    expect(header).toMatch(/^TIME\s+STAGE\s+REFERENCE\s+SOURCE\s+CLICK IDS\s+INHERITED\s+HELD$/);
    expect(row).toMatch(/^\d{4}-\d\d-\d\dT\S+\s+lead\s+CRM-REF-001\s+webhook\s+(gclid,fbclid|fbclid,gclid)\s+-\s+-$/);
  });

  it('prints full records with --json, filtered and limited', async () => {
    const client = await store.clients.create({ name: 'Acme' });
    const { stage: lead } = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
    const { stage: sale } = await store.stages.create({ client_id: client.id, key: 'sale', name: 'Sale' });
    const e1 = await admitWebhookEvent(store, lead, 'R1');
    await admitWebhookEvent(store, sale, 'R2');
    await admitWebhookEvent(store, lead, 'R3');
    const out = memoryOutput(true);
    const events = await eventsList(store, { stage: lead.id, limit: '5' }, out);
    expect(events.map((e) => e.reference).sort()).toEqual(['R1', 'R3']);
    const parsed = JSON.parse(out.text) as { events: { id: string; email_sha256?: string }[] };
    expect(parsed.events.find((e) => e.id === e1.id)).toEqual(JSON.parse(JSON.stringify(await store.events.get(e1.id))));
    expect(await eventsList(store, { limit: 1 }, memoryOutput())).toHaveLength(1);
  });

  const badLimits = ['0', '1001', 'ten', '2.5'];
  for (const limit of badLimits) {
    it(`rejects --limit ${limit}`, async () => {
      expect((await operationError(async () => await eventsList(store, { limit }, memoryOutput()))).kind).toBe('invalid');
    });
  }

  it('says an unknown stage is unknown', async () => {
    expect((await operationError(async () => await eventsList(store, { stage: 'stg_nope' }, memoryOutput()))).message).toBe("Unknown stage 'stg_nope'");
  });
});

describe('events held and events release', () => {
  const NOW = new Date('2026-03-02T10:00:00.000Z');
  async function heldSetup() {
    const client = await store.clients.create({ name: 'Acme' });
    const { stage } = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
    const admit = async (reference: string, held_reason?: 'bot_user_agent' | 'no_fetch_metadata') => {
      const result = await store.events.admit(
        { id: randomUUID(), client_id: client.id, stage_id: stage.id, stage_key: 'lead', source: 'pixel', reference, consent: 'unspecified', clicks: { gclid: { value: 'G' } }, utm: {}, demographics: {}, ...(held_reason ? { held_reason } : {}) },
        NOW,
      );
      if (result.status !== 'stored') throw new Error(result.status);
      return result.event;
    };
    return { client, stage, admit };
  }

  it('lists held events with their reason, and the held and throttled counts per site under every list', async () => {
    const { client, admit } = await heldSetup();
    const bot = await admit('v1', 'bot_user_agent');
    await admit('v2');
    await store.throttles.record([{ client_id: client.id, scope: 'address', count: 940 }], new Date(NOW.getTime() - 3_600_000));
    const out = memoryOutput();
    await eventsList(store, {}, out, NOW);
    expect(out.text).toMatch(/lead\s+v1\s+pixel\s+gclid\s+-\s+bot_user_agent/);
    expect(out.text).toContain('Beacons held (until released: pruuv events release) or throttled (429) in the last 24 hours:');
    expect(out.text).toMatch(new RegExp(`${client.id}\\s+Acme\\s+1\\s+2026-03-02T10:00:00.000Z\\s+940\\s+0`));
    const held = await eventsList(store, { held: true }, memoryOutput(), NOW);
    expect(held.map((e) => e.id)).toEqual([bot.id]);
    const json = memoryOutput(true);
    await eventsList(store, {}, json, NOW);
    expect((JSON.parse(json.text) as { beacons: unknown }).beacons).toEqual({
      since: '2026-03-01T10:00:00.000Z',
      sites: [{ client_id: client.id, client_name: 'Acme', held: 1, oldest_held: NOW.toISOString(), throttled_address: 940, throttled_site: 0 }],
    });
  });

  it('releases a client\'s held events through the command line, and says when nothing matched', async () => {
    const { client, admit } = await heldSetup();
    const a = await admit('v1', 'bot_user_agent');
    const b = await admit('v2', 'no_fetch_metadata');
    const file = dbFile;
    const one = memoryOutput(true);
    expect(await runCli(['events', 'release', '--event', a.id, '--db', file, '--json'], { env: {}, stdout: { write: (t: string) => one.write(t.trimEnd()) }, stderr: { write: () => true } })).toBe(0);
    expect(JSON.parse(one.text)).toEqual({ released: [a.id] });
    const all = memoryOutput();
    expect(await runCli(['events', 'release', '--client', client.id, '--db', file], { env: {}, stdout: { write: (t: string) => all.write(t.trimEnd()) }, stderr: { write: () => true } })).toBe(0);
    expect(all.text.trim()).toBe('Released 1 held event; the next send pass sends them.');
    expect((await store.events.get(b.id))?.released_at).toBeDefined();
    const none = memoryOutput();
    await runCli(['events', 'held', '--db', file], { env: {}, stdout: { write: (t: string) => none.write(t.trimEnd()) }, stderr: { write: () => true } });
    expect(none.text).toMatch(/^Nothing held or throttled since /);
    const err: string[] = [];
    expect(await runCli(['events', 'release', '--db', file], { env: {}, stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t) } })).toBe(2);
    expect(err.join('')).toContain('Give a client or event_ids to release');
  });
});

describe('runCli', () => {
  async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, {
      env: { PRUUV_DB: dbFile, ...env },
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
    });
    return { code, stdout, stderr };
  }

  it('runs a full client → stage → list flow with --json', async () => {
    const added = await run(['clients', 'add', '--name', 'Acme', '--origin', 'https://a.example', '--origin', 'https://b.example', '--json']);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    const { client } = JSON.parse(added.stdout) as { client: { id: string; origins: string[] } };
    expect(client.origins).toEqual(['https://a.example', 'https://b.example']);

    const stage = await run(['--json', 'stages', 'add', '--client', client.id, '--key', 'lead', '--name', 'Lead'], { PRUUV_PUBLIC_URL: 'https://c.example' });
    expect(stage.code).toBe(0);
    const created = JSON.parse(stage.stdout) as { stage: { id: string }; token: string; webhook_url: string };
    expect(created.webhook_url).toBe(`https://c.example/api/webhooks/funnel/${created.stage.id}`);

    const listed = await run(['stages', 'list', '--client', client.id, '--json']);
    expect((JSON.parse(listed.stdout) as { stages: { id: string }[] }).stages.map((s) => s.id)).toEqual([created.stage.id]);
  });

  it("sets a client's default country with clients add and clients set, and clears it with --no-default-country", async () => {
    const added = await run(['clients', 'add', '--name', 'Acme', '--default-country', 'gb', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const { client } = JSON.parse(added.stdout) as { client: { id: string; default_country?: string } };
    expect(client.default_country).toBe('GB');
    expect((await run(['clients', 'list'])).stdout).toMatch(/COUNTRY[\s\S]*\bGB\b/);

    const set = await run(['clients', 'set', client.id, '--default-country', 'US', '--json']);
    expect((JSON.parse(set.stdout) as { client: { default_country?: string } }).client.default_country).toBe('US');
    const cleared = await run(['clients', 'set', client.id, '--no-default-country', '--json']);
    expect((JSON.parse(cleared.stdout) as { client: object }).client).not.toHaveProperty('default_country');

    const bad = await run(['clients', 'set', client.id, '--default-country', 'England']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/ISO 3166-1 alpha-2/);
    expect((await run(['clients', 'set', client.id])).code).toBe(2);
  });

  it('uses --db over PRUUV_DB', async () => {
    const other = join(dir, 'other.db');
    await run(['clients', 'add', '--name', 'Elsewhere', '--db', other]);
    const here = await run(['clients', 'list', '--json']);
    const there = await run(['clients', 'list', '--json', '--db', other]);
    expect((JSON.parse(here.stdout) as { clients: unknown[] }).clients).toHaveLength(0);
    expect((JSON.parse(there.stdout) as { clients: unknown[] }).clients).toHaveLength(1);
  });

  const failures: { name: string; args: string[]; code: number; message: RegExp }[] = [
    { name: 'an unknown command', args: ['frobnicate'], code: 2, message: /unknown command 'frobnicate'/ },
    { name: 'an unknown option', args: ['clients', 'list', '--nope'], code: 2, message: /unknown option '--nope'/ },
    { name: 'a missing required option', args: ['clients', 'add'], code: 2, message: /required option '--name <name>' not specified/ },
    { name: 'an invalid origin', args: ['clients', 'add', '--name', 'A', '--origin', 'acme.example'], code: 2, message: /Invalid origin "acme.example"/ },
    { name: 'an invalid limit', args: ['events', 'list', '--limit', 'x'], code: 2, message: /Limit must be an integer from 1 to 1000/ },
    { name: 'an invalid port', args: ['serve', '--port', 'abc'], code: 2, message: /--port <n>' argument 'abc' is invalid/ },
    { name: 'an unknown client', args: ['stages', 'add', '--client', 'cli_x', '--key', 'lead', '--name', 'L'], code: 1, message: /^error: Unknown client 'cli_x' \(list clients with `pruuv clients list`\)\n$/ },
    { name: 'an unknown stage', args: ['stages', 'rotate-token', 'stg_x', '--json'], code: 1, message: /^error: Unknown stage 'stg_x' \(list stages with `pruuv stages list`\)\n$/ },
  ];
  for (const { name, args, code, message } of failures) {
    it(`exits ${code} with one line on stderr for ${name}`, async () => {
      const result = await run(args);
      expect(result.code).toBe(code);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('names the variable of an invalid environment', async () => {
    const result = await run(['clients', 'list'], { PRUUV_LOG_LEVEL: 'loud' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("PRUUV_LOG_LEVEL must be one of");
  });

  it('prints help with exit code 0', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: pruuv');
  });
});
