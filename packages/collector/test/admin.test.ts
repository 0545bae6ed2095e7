import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearerMatches } from '../src/http/admin.js';
import type { Client, Stage, Store } from '../src/store/types.js';
import { startCollector, tempDir, type Running } from './helpers/harness.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

let tmp: ReturnType<typeof tempDir>;
let run: Running | undefined;
let store: Store;

beforeEach(() => {
  tmp = tempDir();
});
afterEach(async () => {
  await run?.close();
  run = undefined;
  tmp.cleanup();
});

/** Serves a fresh collector on a real SQLite file, with the admin API on when `adminToken` is set. */
async function listen(adminToken: string | undefined): Promise<string> {
  run = await startCollector({ dbFile: join(tmp.dir, 'pruuv.db'), app: adminToken === undefined ? {} : { adminToken } });
  store = run.store;
  return run.url;
}

async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; rawBody?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined || options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = options.rawBody ?? JSON.stringify(options.body);
  }
  const res = await fetch(`${base}/api/admin${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

describe('admin API', () => {
  describe('without PRUUV_ADMIN_TOKEN', () => {
    const routes = [
      ['GET', '/clients'],
      ['POST', '/clients'],
      ['GET', '/events'],
      ['POST', '/stages/stg_x/rotate-token'],
    ] as const;
    for (const [method, path] of routes) {
      it(`answers 404 to ${method} ${path}, even with a bearer token`, async () => {
        const base = await listen(undefined);
        const res = await call(base, method, path, method === 'POST' ? { body: { name: 'x' } } : {});
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ error: 'Not found' });
        expect(await store.clients.list()).toEqual([]);
      });
    }
  });

  describe('authentication', () => {
    const cases: { name: string; token: string | null }[] = [
      { name: 'no Authorization header', token: null },
      { name: 'a wrong token', token: 'admin-token-0123456789abcdeX' },
      { name: 'a prefix of the token', token: ADMIN_TOKEN.slice(0, -1) },
      { name: 'an empty bearer', token: '' },
    ];
    for (const { name, token } of cases) {
      it(`answers 401 to ${name}`, async () => {
        const base = await listen(ADMIN_TOKEN);
        const res = await call(base, 'POST', '/clients', { token, body: { name: 'Acme' } });
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ error: 'Unauthorized' });
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(await store.clients.list()).toEqual([]);
      });
    }

    it('throttles an address after 10 wrong tokens in 10 minutes: 429 with Retry-After, even to the right token, until the window passes', async () => {
      const base = await listen(ADMIN_TOKEN);
      for (let i = 0; i < 10; i++) {
        expect((await call(base, 'GET', '/clients', { token: `guess-${i}` })).status).toBe(401);
        run!.clock.advance(1000);
      }
      const blocked = await call(base, 'GET', '/clients');
      expect(blocked.status).toBe(429);
      expect(blocked.body).toEqual({ error: 'Rate limit exceeded' });
      expect(blocked.headers.get('retry-after')).toBe('590');
      run!.clock.advance(590_000);
      expect((await call(base, 'GET', '/clients')).status).toBe(200);
    });

    it('logs a throttled address once per window, never the token', async () => {
      const { pino } = await import('pino');
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
      run = await startCollector({ dbFile: join(tmp.dir, 'pruuv.db'), app: { adminToken: ADMIN_TOKEN, logger } });
      store = run.store;
      for (let i = 0; i < 15; i++) await call(run.url, 'GET', '/clients', { token: `guess-${i}` });
      const warned = lines.filter((l) => l.includes('admin: failed tokens from this address, throttled'));
      expect(warned).toHaveLength(1);
      expect(lines.join('')).not.toContain('guess-');
    });

    it('accepts the scheme in any case', () => {
      expect(bearerMatches(`bearer ${ADMIN_TOKEN}`, ADMIN_TOKEN)).toBe(true);
      expect(bearerMatches(`Basic ${ADMIN_TOKEN}`, ADMIN_TOKEN)).toBe(false);
      expect(bearerMatches(undefined, ADMIN_TOKEN)).toBe(false);
    });
  });

  describe('clients', () => {
    it('creates a client with normalised origins and lists it', async () => {
      const base = await listen(ADMIN_TOKEN);
      const created = await call(base, 'POST', '/clients', { body: { name: ' Acme ', origins: ['https://www.acme.example/'] } });
      expect(created.status).toBe(201);
      const client = created.body.client as Client;
      expect(client).toMatchObject({ name: 'Acme', origins: ['https://www.acme.example'] });
      expect(client.site_key).toMatch(/\S{10,}/);
      expect(created.headers.get('cache-control')).toBe('no-store');

      const listed = await call(base, 'GET', '/clients');
      expect(listed).toMatchObject({ status: 200, body: { clients: [client] } });
    });

    const invalid: { name: string; body: unknown; field: string }[] = [
      { name: 'a missing name', body: { origins: [] }, field: 'name' },
      { name: 'an empty name', body: { name: '  ' }, field: 'name' },
      { name: 'an origin with a path', body: { name: 'A', origins: ['https://a.example/x'] }, field: 'origins' },
      { name: 'origins that are not an array', body: { name: 'A', origins: 'https://a.example' }, field: 'origins' },
    ];
    for (const { name, body, field } of invalid) {
      it(`answers 400 with details for ${name}`, async () => {
        const base = await listen(ADMIN_TOKEN);
        const res = await call(base, 'POST', '/clients', { body });
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('Validation failed');
        const details = res.body.details as Record<string, string[]>;
        expect(Object.keys(details).some((k) => k === field || k.startsWith(`${field}.`))).toBe(true);
      });
    }

    it("creates a client with a default country and changes it with PATCH /clients/:id", async () => {
      const base = await listen(ADMIN_TOKEN);
      const created = await call(base, 'POST', '/clients', { body: { name: 'Acme', default_country: 'de' } });
      expect(created.status).toBe(201);
      const client = created.body.client as Client;
      expect(client.default_country).toBe('DE');
      const changed = await call(base, 'PATCH', `/clients/${client.id}`, { body: { default_country: 'GB' } });
      expect(changed).toMatchObject({ status: 200, body: { client: { id: client.id, default_country: 'GB' } } });
      const cleared = await call(base, 'PATCH', `/clients/${client.id}`, { body: { default_country: null } });
      expect(cleared.status).toBe(200);
      expect(cleared.body.client).not.toHaveProperty('default_country');
      const bad = await call(base, 'PATCH', `/clients/${client.id}`, { body: { default_country: 'ZZ' } });
      expect(bad.status).toBe(400);
      expect(Object.keys(bad.body.details as object)).toContain('default_country');
      expect((await call(base, 'PATCH', '/clients/cli_missing', { body: { default_country: 'GB' } })).status).toBe(404);
    });

    it('answers 400 to an unknown field', async () => {
      const base = await listen(ADMIN_TOKEN);
      const res = await call(base, 'POST', '/clients', { body: { name: 'A', site_key: 'mine' } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'Validation failed', details: { site_key: [expect.stringContaining('Unknown field')] } });
    });

    it('answers 400 to malformed JSON', async () => {
      const base = await listen(ADMIN_TOKEN);
      const res = await call(base, 'POST', '/clients', { rawBody: '{"name":' });
      expect(res).toMatchObject({ status: 400, body: { error: 'Invalid JSON' } });
    });
  });

  describe('stages', () => {
    it('creates a stage with a working token and lists it without the token', async () => {
      const base = await listen(ADMIN_TOKEN);
      const client = await store.clients.create({ name: 'Acme' });
      const created = await call(base, 'POST', `/clients/${client.id}/stages`, { body: { key: 'lead', name: 'Lead' } });
      expect(created.status).toBe(201);
      const stage = created.body.stage as Stage;
      const token = created.body.token as string;
      expect(created.body.webhook_url).toBe(`${base}/api/webhooks/funnel/${stage.id}`);
      expect(await store.stages.verifyToken(stage.id, token)).toBe(true);

      const listed = await call(base, 'GET', `/clients/${client.id}/stages`);
      expect(listed.body).toEqual({ stages: [stage] });
      expect(JSON.stringify(listed.body)).not.toContain(token);
    });

    it('answers 404 for an unknown client', async () => {
      const base = await listen(ADMIN_TOKEN);
      expect(await call(base, 'GET', '/clients/cli_nope/stages')).toMatchObject({ status: 404, body: { error: 'Client not found' } });
      expect(await call(base, 'POST', '/clients/cli_nope/stages', { body: { key: 'lead', name: 'Lead' } })).toMatchObject({
        status: 404,
        body: { error: 'Client not found' },
      });
    });

    it('answers 409 to a duplicate stage key', async () => {
      const base = await listen(ADMIN_TOKEN);
      const client = await store.clients.create({ name: 'Acme' });
      await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
      const res = await call(base, 'POST', `/clients/${client.id}/stages`, { body: { key: 'lead', name: 'Again' } });
      expect(res.status).toBe(409);
      expect(await store.stages.list(client.id)).toHaveLength(1);
    });

    it('answers 400 to an invalid stage key', async () => {
      const base = await listen(ADMIN_TOKEN);
      const client = await store.clients.create({ name: 'Acme' });
      const res = await call(base, 'POST', `/clients/${client.id}/stages`, { body: { key: 'Lead!', name: 'Lead' } });
      expect(res.status).toBe(400);
      expect((res.body.details as Record<string, string[]>).key).toHaveLength(1);
    });

    it('rotates a token: the old one stops working', async () => {
      const base = await listen(ADMIN_TOKEN);
      const client = await store.clients.create({ name: 'Acme' });
      const { stage, token: old } = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
      const res = await call(base, 'POST', `/stages/${stage.id}/rotate-token`);
      expect(res.status).toBe(200);
      expect(res.body.stage_id).toBe(stage.id);
      const token = res.body.token as string;
      expect(await store.stages.verifyToken(stage.id, old)).toBe(false);
      expect(await store.stages.verifyToken(stage.id, token)).toBe(true);
    });

    it('answers 404 when rotating an unknown stage', async () => {
      const base = await listen(ADMIN_TOKEN);
      expect(await call(base, 'POST', '/stages/stg_nope/rotate-token')).toMatchObject({ status: 404, body: { error: 'Stage not found' } });
    });
  });

  describe('events', () => {
    async function admit(stage: Stage, reference: string): Promise<string> {
      const id = randomUUID();
      const result = await store.events.admit(
        { id, client_id: stage.client_id, stage_id: stage.id, stage_key: stage.key, source: 'webhook', reference, consent: 'unspecified', clicks: {}, utm: {}, demographics: {} },
        new Date(),
      );
      expect(result.status).toBe('stored');
      return id;
    }

    it('lists events filtered by client, stage and limit', async () => {
      const base = await listen(ADMIN_TOKEN);
      const a = await store.clients.create({ name: 'A' });
      const b = await store.clients.create({ name: 'B' });
      const { stage: lead } = await store.stages.create({ client_id: a.id, key: 'lead', name: 'Lead' });
      const { stage: sale } = await store.stages.create({ client_id: a.id, key: 'sale', name: 'Sale' });
      const { stage: other } = await store.stages.create({ client_id: b.id, key: 'lead', name: 'Lead' });
      await admit(lead, 'R1');
      await admit(sale, 'R2');
      await admit(other, 'R3');

      const all = await call(base, 'GET', '/events');
      expect((all.body.events as unknown[]).length).toBe(3);
      const ofA = await call(base, 'GET', `/events?client=${a.id}`);
      expect((ofA.body.events as { reference: string }[]).map((e) => e.reference).sort()).toEqual(['R1', 'R2']);
      const ofSale = await call(base, 'GET', `/events?stage=${sale.id}`);
      expect((ofSale.body.events as { reference: string }[]).map((e) => e.reference)).toEqual(['R2']);
      const one = await call(base, 'GET', '/events?limit=1');
      expect(one.body.events).toHaveLength(1);
    });

    const bad = ['limit=0', 'limit=abc', 'limit=5000'];
    for (const query of bad) {
      it(`answers 400 to ${query}`, async () => {
        const base = await listen(ADMIN_TOKEN);
        expect(await call(base, 'GET', `/events?${query}`)).toMatchObject({ status: 400, body: { error: 'Validation failed' } });
      });
    }

    it('answers 404 for an unknown stage filter', async () => {
      const base = await listen(ADMIN_TOKEN);
      expect(await call(base, 'GET', '/events?stage=stg_nope')).toMatchObject({ status: 404, body: { error: 'Stage not found' } });
    });
  });

  it('answers JSON 404 to an unknown admin route', async () => {
    const base = await listen(ADMIN_TOKEN);
    expect(await call(base, 'GET', '/nothing-here')).toMatchObject({ status: 404, body: { error: 'Not found' } });
  });
});
