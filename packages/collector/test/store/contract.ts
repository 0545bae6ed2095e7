/**
 * The storage contract: what every engine's {@link Store} must do, written once
 * and run against each engine with the same test code (`sqlite.test.ts`,
 * `postgres.test.ts`). Engine-specific checks (pragmas, files, triggers) stay
 * in those files.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent, Store } from '../../src/store/types.js';

/** How a contract run reaches one engine. */
export interface EngineHarness {
  name: string;
  /** A fresh, empty, migrated database and its store. */
  open(options: { now: () => Date; perHour?: number }): Promise<Store>;
  /** A second store on the database of the last `open` (another process). */
  openOther(options: { now: () => Date; perHour?: number }): Promise<Store>;
  /** Resolves once a change committed by another store is visible to cached reads. */
  propagation(): Promise<void>;
  /** Makes the next outbox insert of the platform fail inside the admission's transaction. */
  breakOutbox(platform: string): Promise<void>;
  /** Rows of a table, raw, for checks of what is stored. */
  rows(table: string): Promise<Array<Record<string, unknown>>>;
  /** Drops the database of the last `open`. */
  cleanup(): Promise<void>;
}

export const NOW = new Date('2026-03-02T10:00:00.000Z');
const now = (): Date => NOW;
const HOUR = 3_600_000;
const at = (ms: number): Date => new Date(NOW.getTime() + ms);

export function newEvent(stageId: string, clientId: string, overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    id: randomUUID(),
    client_id: clientId,
    stage_id: stageId,
    stage_key: 'lead',
    source: 'webhook',
    reference: 'r',
    consent: 'unspecified',
    clicks: {},
    utm: {},
    demographics: {},
    ...overrides,
  };
}

/** Registers the contract tests for one engine. */
export function storeContract(engine: EngineHarness): void {
  let store: Store;
  const others: Store[] = [];
  beforeEach(async () => {
    store = await engine.open({ now });
  });
  afterEach(async () => {
    for (const o of others.splice(0)) await o.close();
    await store.close();
    await engine.cleanup();
  });
  const other = async (perHour?: number): Promise<Store> => {
    const s = await engine.openOther({ now, ...(perHour !== undefined ? { perHour } : {}) });
    others.push(s);
    return s;
  };

  describe('clients', () => {
    it('creates a client with a site key and normalised origins', async () => {
      const client = await store.clients.create({ name: ' Acme ', origins: ['HTTPS://WWW.Example.com:443/', 'http://localhost:3000'] });
      expect(client).toEqual({
        id: expect.stringMatching(/^cli_[0-9A-Za-z]{16}$/),
        name: 'Acme',
        site_key: expect.stringMatching(/^site_[0-9A-Za-z]{16}$/),
        origins: ['http://localhost:3000', 'https://www.example.com'],
        created_at: '2026-03-02T10:00:00.000Z',
      });
      expect(await store.clients.bySiteKey(client.site_key)).toEqual(client);
      expect(await store.clients.get(client.id)).toEqual(client);
      expect(await store.clients.list()).toEqual([client]);
    });

    for (const origin of ['www.example.com', 'ftp://example.com', 'https://example.com/path', 'https://u:p@example.com', 'null']) {
      it(`rejects the origin ${origin} with a how-to-fix message`, async () => {
        await expect(store.clients.create({ name: 'A', origins: [origin] })).rejects.toThrow(/scheme:\/\/host|http/);
        expect(await store.clients.list()).toEqual([]);
      });
    }

    it('replaces origins and answers which origins any client lists', async () => {
      const client = await store.clients.create({ name: 'A', origins: ['https://a.example'] });
      expect(await store.clients.anyAllowsOrigin('https://a.example')).toBe(true);
      expect((await store.clients.setOrigins(client.id, ['https://b.example']))?.origins).toEqual(['https://b.example']);
      expect(await store.clients.anyAllowsOrigin('https://a.example')).toBe(false);
      expect(await store.clients.anyAllowsOrigin('https://b.example')).toBe(true);
      expect(await store.clients.setOrigins('cli_missing', [])).toBeUndefined();
    });

    it("keeps a client's default country, upper-cased, and sets or clears it; the cached site-key read follows", async () => {
      const client = await store.clients.create({ name: 'A', default_country: 'gb' });
      expect(client.default_country).toBe('GB');
      expect((await store.clients.bySiteKey(client.site_key))?.default_country).toBe('GB');
      expect((await store.clients.setDefaultCountry(client.id, 'US'))?.default_country).toBe('US');
      expect((await store.clients.get(client.id))?.default_country).toBe('US');
      expect((await store.clients.bySiteKey(client.site_key))?.default_country).toBe('US');
      const cleared = await store.clients.setDefaultCountry(client.id, null);
      expect(cleared).toBeDefined();
      expect(cleared).not.toHaveProperty('default_country');
      expect(await store.clients.setDefaultCountry('cli_missing', 'GB')).toBeUndefined();
      await expect(store.clients.setDefaultCountry(client.id, 'XX')).rejects.toThrow(/default country/);
      await expect(store.clients.create({ name: 'B', default_country: 'England' })).rejects.toThrow(/default country/);
      expect((await store.clients.create({ name: 'C' })).default_country).toBeUndefined();
    });

    it('lists clients and stages created in the same millisecond in creation order', async () => {
      const clients = [];
      for (let i = 0; i < 6; i++) clients.push(await store.clients.create({ name: `C${i}` }));
      expect((await store.clients.list()).map((c) => c.name)).toEqual(clients.map((c) => c.name));
      const stages = [];
      for (let i = 0; i < 6; i++) stages.push((await store.stages.create({ client_id: clients[0]!.id, key: `k${i}`, name: `S${i}` })).stage);
      expect((await store.stages.list()).map((s) => s.key)).toEqual(stages.map((s) => s.key));
      expect((await store.stages.list(clients[0]!.id)).map((s) => s.key)).toEqual(stages.map((s) => s.key));
    });
  });

  describe('stages', () => {
    it('creates a stage with an unguessable id and returns the token once, storing only its hash', async () => {
      const client = await store.clients.create({ name: 'A' });
      const { stage, token } = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
      expect(stage.id).toMatch(/^stg_[0-9A-Za-z]{22}$/);
      expect(token).toMatch(/^pwh_[0-9A-Za-z]{40}$/);
      expect(stage).not.toHaveProperty('token_hash');
      const rows = await engine.rows('stages');
      expect(JSON.stringify(rows)).not.toContain(token);
      expect(rows[0]?.['token_hash']).toMatch(/^[0-9a-f]{64}$/);
    });

    it('verifies the token and forgets it on rotation', async () => {
      const client = await store.clients.create({ name: 'A' });
      const { stage, token } = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
      expect(await store.stages.verifyToken(stage.id, token)).toBe(true);
      expect(await store.stages.verifyToken(stage.id, `${token}x`)).toBe(false);
      expect(await store.stages.verifyToken('stg_missing', token)).toBe(false);
      const rotated = (await store.stages.rotateToken(stage.id))!;
      expect(rotated).not.toBe(token);
      expect(await store.stages.verifyToken(stage.id, token)).toBe(false);
      expect(await store.stages.verifyToken(stage.id, rotated)).toBe(true);
      expect(await store.stages.rotateToken('stg_missing')).toBeUndefined();
    });

    const badInputs: { name: string; key: string; stageName: string; client?: string; message: RegExp }[] = [
      { name: 'an upper-case key', key: 'Lead', stageName: 'Lead', message: /lower-case/ },
      { name: 'a key with spaces', key: 'new lead', stageName: 'Lead', message: /lower-case/ },
      { name: 'an empty name', key: 'lead', stageName: ' ', message: /name/ },
      { name: 'an unknown client', key: 'lead', stageName: 'Lead', client: 'cli_missing', message: /create it first/ },
    ];
    for (const { name, key, stageName, client, message } of badInputs) {
      it(`rejects ${name}`, async () => {
        const c = await store.clients.create({ name: 'A' });
        await expect(store.stages.create({ client_id: client ?? c.id, key, name: stageName })).rejects.toThrow(message);
      });
    }

    it('rejects a second stage with the same key for a client', async () => {
      const c = await store.clients.create({ name: 'A' });
      await store.stages.create({ client_id: c.id, key: 'lead', name: 'Lead' });
      await expect(store.stages.create({ client_id: c.id, key: 'lead', name: 'Lead 2' })).rejects.toThrow(/already exists/);
    });

    it('lists, finds by key and keeps event-name overrides', async () => {
      const a = await store.clients.create({ name: 'A' });
      const b = await store.clients.create({ name: 'B' });
      const lead = (await store.stages.create({ client_id: a.id, key: 'lead', name: 'Lead' })).stage;
      await store.stages.create({ client_id: b.id, key: 'lead', name: 'Lead' });
      await store.stages.setEventNames(lead.id, { meta: 'Lead', tiktok: ' SubmitForm ', google_conversion_action_id: '' });
      expect((await store.stages.byKey(a.id, 'lead'))?.event_names).toEqual({ meta: 'Lead', tiktok: 'SubmitForm' });
      expect((await store.stages.list(a.id)).map((s) => s.id)).toEqual([lead.id]);
      expect(await store.stages.list()).toHaveLength(2);
    });
  });

  describe('cached clients and stages', () => {
    it('refuses a token rotated by another process', async () => {
      const client = await store.clients.create({ name: 'A' });
      const { stage, token } = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
      expect(await store.stages.verifyToken(stage.id, token)).toBe(true);
      const rotated = (await (await other()).stages.rotateToken(stage.id))!;
      await engine.propagation();
      expect(await store.stages.verifyToken(stage.id, token)).toBe(false);
      expect(await store.stages.verifyToken(stage.id, rotated)).toBe(true);
    });

    it('sees event names, origins and stages another process changes', async () => {
      const client = await store.clients.create({ name: 'A', origins: ['https://a.example'] });
      const lead = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
      expect((await store.stages.get(lead.id))?.event_names).toEqual({});
      expect((await store.stages.byKey(client.id, 'lead'))?.event_names).toEqual({});
      expect((await store.clients.bySiteKey(client.site_key))?.origins).toEqual(['https://a.example']);
      expect(await store.clients.anyAllowsOrigin('https://b.example')).toBe(false);
      expect(await store.stages.byKey(client.id, 'sale')).toBeUndefined();
      const o = await other();
      await o.stages.setEventNames(lead.id, { meta: 'SubmitApplication' });
      await o.clients.setOrigins(client.id, ['https://b.example']);
      await o.stages.create({ client_id: client.id, key: 'sale', name: 'Sale' });
      await engine.propagation();
      expect((await store.stages.get(lead.id))?.event_names).toEqual({ meta: 'SubmitApplication' });
      expect((await store.stages.byKey(client.id, 'lead'))?.event_names).toEqual({ meta: 'SubmitApplication' });
      expect((await store.clients.bySiteKey(client.site_key))?.origins).toEqual(['https://b.example']);
      expect(await store.clients.anyAllowsOrigin('https://a.example')).toBe(false);
      expect(await store.clients.anyAllowsOrigin('https://b.example')).toBe(true);
      expect((await store.stages.byKey(client.id, 'sale'))?.name).toBe('Sale');
    });

    it('sees its own changes at once', async () => {
      const client = await store.clients.create({ name: 'A', origins: ['https://a.example'] });
      const lead = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage;
      expect((await store.clients.bySiteKey(client.site_key))?.origins).toEqual(['https://a.example']);
      expect((await store.stages.byKey(client.id, 'lead'))?.event_names).toEqual({});
      await store.clients.setOrigins(client.id, ['https://b.example']);
      await store.stages.setEventNames(lead.id, { tiktok: 'SubmitForm' });
      expect((await store.clients.bySiteKey(client.site_key))?.origins).toEqual(['https://b.example']);
      expect((await store.stages.get(lead.id))?.event_names).toEqual({ tiktok: 'SubmitForm' });
      expect((await store.stages.byKey(client.id, 'lead'))?.event_names).toEqual({ tiktok: 'SubmitForm' });
    });
  });

  describe('events.admit', () => {
    let clientId: string;
    let stageId: string;
    beforeEach(async () => {
      clientId = (await store.clients.create({ name: 'A' })).id;
      stageId = (await store.stages.create({ client_id: clientId, key: 'lead', name: 'Lead' })).stage.id;
    });

    it('stores the event and its three outbox rows', async () => {
      const event = newEvent(stageId, clientId, {
        clicks: { gclid: { value: 'g', ts: '2026-03-01T09:00:00.000Z' } },
        demographics: { gender: 'f' },
        revenue_value: 12.5,
        first_touch: { ts: '2026-03-01T09:00:00.000Z', url: 'https://a.example/?gclid=g', clicks: ['gclid'], utm: {} } as never,
      });
      const result = await store.events.admit(event, NOW);
      expect(result).toEqual({ status: 'stored', event: { ...event, received_at: '2026-03-02T10:00:00.000Z' } });
      expect(await store.events.get(event.id)).toEqual({ ...event, received_at: '2026-03-02T10:00:00.000Z' });
      expect((await store.events.getMany([event.id, 'missing'])).get(event.id)).toEqual({ ...event, received_at: '2026-03-02T10:00:00.000Z' });
      expect((await store.outbox.forEvent(event.id)).map((r) => ({ platform: r.platform, status: r.status, attempts: r.attempts }))).toEqual([
        { platform: 'meta', status: 'pending', attempts: 0 },
        { platform: 'google', status: 'pending', attempts: 0 },
        { platform: 'tiktok', status: 'pending', attempts: 0 },
      ]);
    });

    it('stores nothing when the outbox write fails', async () => {
      await engine.breakOutbox('tiktok');
      const event = newEvent(stageId, clientId);
      await expect(store.events.admit(event, NOW)).rejects.toThrow(/outbox down/);
      expect(await store.events.get(event.id)).toBeUndefined();
      expect(await engine.rows('outbox')).toEqual([]);
    });

    it('answers a known id as duplicate_event_id', async () => {
      const event = newEvent(stageId, clientId);
      await store.events.admit(event, NOW);
      expect(await store.events.admit({ ...event, reference: 'other' }, at(HOUR))).toEqual({
        status: 'duplicate_event_id',
        event_id: event.id,
      });
    });

    it('answers the same reference at the same stage within 60 s as a duplicate, and stores it after', async () => {
      const first = newEvent(stageId, clientId, { reference: 'crm-1' });
      await store.events.admit(first, NOW);
      expect(await store.events.admit(newEvent(stageId, clientId, { reference: 'crm-1' }), at(59_999))).toEqual({
        status: 'duplicate',
        of_event_id: first.id,
      });
      expect((await store.events.admit(newEvent(stageId, clientId, { reference: 'crm-1' }), at(60_000))).status).toBe('stored');
    });

    it('stores the same reference at another stage', async () => {
      const sale = (await store.stages.create({ client_id: clientId, key: 'sale', name: 'Sale' })).stage.id;
      await store.events.admit(newEvent(stageId, clientId, { reference: 'crm-1' }), NOW);
      expect((await store.events.admit(newEvent(sale, clientId, { reference: 'crm-1', stage_key: 'sale' }), at(1))).status).toBe('stored');
    });

    it('joins a later event without click IDs to the attribution of the same reference', async () => {
      const lead = newEvent(stageId, clientId, { reference: 'jo', clicks: { gclid: { value: 'G-1', ts: '2026-03-01T09:00:00.000Z' } }, fbp: 'fb.1.1.2' });
      await store.events.admit(lead, NOW);
      const sale = (await store.stages.create({ client_id: clientId, key: 'sale', name: 'Sale' })).stage.id;
      const result = await store.events.admit(newEvent(sale, clientId, { reference: 'jo', stage_key: 'sale' }), at(HOUR));
      expect(result.status === 'stored' && result.event.clicks.gclid).toEqual({ value: 'G-1', ts: '2026-03-01T09:00:00.000Z' });
      expect(result.status === 'stored' && result.event.inherited).toEqual({ from_event_id: lead.id, fields: ['gclid', 'fbp'] });
    });

    it('lists by each filter and by both, newest first', async () => {
      const otherClient = (await store.clients.create({ name: 'B' })).id;
      const otherStage = (await store.stages.create({ client_id: otherClient, key: 'lead', name: 'Lead' })).stage.id;
      const sale = (await store.stages.create({ client_id: clientId, key: 'sale', name: 'Sale' })).stage.id;
      const stored: { id: string; stage: string; client: string }[] = [];
      const order = [stageId, otherStage, sale, stageId, otherStage, sale];
      for (let i = 0; i < order.length; i++) {
        const stage = order[i]!;
        const client = stage === otherStage ? otherClient : clientId;
        const e = newEvent(stage, client, { reference: `r${i}` });
        await store.events.admit(e, at(i * 1000));
        stored.push({ id: e.id, stage, client });
      }
      const newest = [...stored].reverse();
      const ids = (events: { id: string }[]) => events.map((e) => e.id);
      expect(ids(await store.events.list({}))).toEqual(ids(newest));
      expect(ids(await store.events.list({ limit: 2 }))).toEqual(ids(newest.slice(0, 2)));
      expect(ids(await store.events.list({ client_id: clientId }))).toEqual(ids(newest.filter((e) => e.client === clientId)));
      expect(ids(await store.events.list({ client_id: otherClient, limit: 1 }))).toEqual([newest.find((e) => e.client === otherClient)!.id]);
      expect(ids(await store.events.list({ stage_id: sale }))).toEqual(ids(newest.filter((e) => e.stage === sale)));
      expect(ids(await store.events.list({ stage_id: sale, client_id: clientId, limit: 1 }))).toEqual([newest.find((e) => e.stage === sale)!.id]);
      expect(await store.events.list({ stage_id: sale, client_id: otherClient })).toEqual([]);
      expect(await store.events.list({ stage_id: 'stg_other' })).toEqual([]);
    });

    it('stores each of 20 concurrent admissions of one reference once', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.events.admit(newEvent(stageId, clientId, { reference: 'same' }), NOW)),
      );
      expect(results.filter((r) => r.status === 'stored')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(19);
    });
  });

  describe('the stage quota', () => {
    let quota: Store;
    let clientId: string;
    let stageId: string;
    beforeEach(async () => {
      await store.close();
      store = await engine.open({ now, perHour: 3 });
      quota = store;
      clientId = (await quota.clients.create({ name: 'A' })).id;
      stageId = (await quota.stages.create({ client_id: clientId, key: 'lead', name: 'Lead' })).stage.id;
    });
    const admitRef = async (s: Store, reference: string, ms: number) => (await s.events.admit(newEvent(stageId, clientId, { reference }), at(ms))).status;

    it('refuses the event beyond the quota and frees a slot when the oldest leaves the hour', async () => {
      expect([await admitRef(quota, 'a', 0), await admitRef(quota, 'b', 1000), await admitRef(quota, 'c', 2000)]).toEqual(['stored', 'stored', 'stored']);
      expect(await quota.events.admit(newEvent(stageId, clientId, { reference: 'd' }), at(HOUR - 1))).toEqual({
        status: 'rate_limited',
        retry_after_seconds: 1,
      });
      expect(await admitRef(quota, 'd', HOUR + 1)).toBe('stored');
      expect(await admitRef(quota, 'e', HOUR + 2)).toBe('rate_limited');
    });

    it('counts events another process stored', async () => {
      expect(await admitRef(quota, 'a', 0)).toBe('stored');
      const o = await other(3);
      expect(await admitRef(o, 'b', 1000)).toBe('stored');
      expect(await admitRef(o, 'c', 2000)).toBe('stored');
      expect(await admitRef(quota, 'd', 3000)).toBe('rate_limited');
    });

    it('accepts exactly the remainder of concurrent admissions across two processes', async () => {
      const o = await other(3);
      expect(await admitRef(quota, 'a', 0)).toBe('stored');
      const statuses = await Promise.all(
        Array.from({ length: 10 }, (_, i) => admitRef(i % 2 === 0 ? quota : o, `c${i}`, 1000 + i)),
      );
      expect(statuses.filter((s) => s === 'stored')).toHaveLength(2);
      expect(statuses.filter((s) => s === 'rate_limited')).toHaveLength(8);
    });

    it('counts again when the clock goes back to an hour it has not counted', async () => {
      expect(await admitRef(quota, 'a', 0)).toBe('stored');
      expect(await admitRef(quota, 'b', 0)).toBe('stored');
      // An hour later a and b have left the window: c, then d (counted again from here).
      expect(await admitRef(quota, 'c', HOUR + 10)).toBe('stored');
      expect(await admitRef(quota, 'd', HOUR + 20)).toBe('stored');
      // Back in the first hour, a, b, c and d are all in the window.
      expect(await admitRef(quota, 'e', 5)).toBe('rate_limited');
    });
    it('never counts pixel events: a stage full of beacons still takes its webhook events', async () => {
      for (const r of ['p1', 'p2', 'p3', 'p4']) {
        expect((await quota.events.admit(newEvent(stageId, clientId, { reference: r, source: 'pixel' }), at(0))).status).toBe('stored');
      }
      expect([await admitRef(quota, 'a', 1), await admitRef(quota, 'b', 2), await admitRef(quota, 'c', 3)]).toEqual(['stored', 'stored', 'stored']);
      expect(await admitRef(quota, 'd', 4)).toBe('rate_limited');
      // And a full stage never refuses a beacon.
      expect((await quota.events.admit(newEvent(stageId, clientId, { reference: 'p5', source: 'pixel' }), at(5))).status).toBe('stored');
    });
  });

  describe('held events', () => {
    let clientId: string;
    let otherClientId: string;
    let stageId: string;
    let otherStageId: string;
    const claimAll = (s: Store, ms: number) =>
      s.outbox.claim({ owner: `o${ms}`, now: at(ms), cutoff: at(ms), leaseUntil: at(ms + 60_000), limit: 100, retriesOnly: false });
    beforeEach(async () => {
      clientId = (await store.clients.create({ name: 'A' })).id;
      otherClientId = (await store.clients.create({ name: 'B' })).id;
      stageId = (await store.stages.create({ client_id: clientId, key: 'lead', name: 'Lead' })).stage.id;
      otherStageId = (await store.stages.create({ client_id: otherClientId, key: 'lead', name: 'Lead' })).stage.id;
    });
    const held = (reference: string, overrides: Partial<NewEvent> = {}) =>
      newEvent(stageId, clientId, { reference, source: 'pixel', held_reason: 'bot_user_agent', clicks: { gclid: { value: 'forged' } }, ...overrides });

    it('stores a held event with its reason, and no send pass claims its rows', async () => {
      const event = held('h1');
      const admission = await store.events.admit(event, NOW);
      expect(admission).toMatchObject({ status: 'stored', event: { held_reason: 'bot_user_agent' } });
      expect(await store.events.get(event.id)).toMatchObject({ held_reason: 'bot_user_agent' });
      expect((await store.events.get(event.id))!.released_at).toBeUndefined();
      expect((await store.outbox.forEvent(event.id)).map((r) => r.status)).toEqual(['held', 'held', 'held']);
      await store.events.admit(newEvent(stageId, clientId, { reference: 'ok' }), NOW);
      const claimed = await claimAll(store, 1000);
      expect(claimed).toHaveLength(3);
      expect(claimed.every((c) => c.event_id !== event.id)).toBe(true);
      expect(await store.outbox.nextFollowUp()).not.toEqual(NOW);
    });

    it('counts and lists held events per client, newest first', async () => {
      const a = held('h1');
      const b = held('h2', { held_reason: 'no_fetch_metadata' });
      await store.events.admit(a, at(0));
      await store.events.admit(b, at(1000));
      await store.events.admit(newEvent(stageId, clientId, { reference: 'ok', source: 'pixel' }), at(2000));
      await store.events.admit(newEvent(otherStageId, otherClientId, { reference: 'h3', source: 'pixel', held_reason: 'not_a_beacon' }), at(3000));
      expect(await store.events.heldCounts()).toEqual(
        [
          { client_id: clientId, held: 2, oldest: at(0).toISOString() },
          { client_id: otherClientId, held: 1, oldest: at(3000).toISOString() },
        ].sort((x, y) => (x.client_id < y.client_id ? -1 : 1)),
      );
      expect((await store.events.list({ held: true, client_id: clientId })).map((e) => e.id)).toEqual([b.id, a.id]);
      expect((await store.events.list({ held: true, stage_id: otherStageId })).map((e) => e.reference)).toEqual(['h3']);
      expect(await store.events.list({ held: true })).toHaveLength(3);
      expect(await store.events.list({ client_id: clientId })).toHaveLength(3);
    });

    it('releases by id or by client: the rows become due at the release, the event keeps its reason', async () => {
      const a = held('h1');
      const b = held('h2');
      const c = newEvent(otherStageId, otherClientId, { reference: 'h3', source: 'pixel', held_reason: 'no_user_agent' });
      for (const e of [a, b, c]) await store.events.admit(e, NOW);
      const plain = newEvent(stageId, clientId, { reference: 'plain' });
      await store.events.admit(plain, NOW);
      expect(await store.events.release({}, at(5000))).toEqual([]);
      // An id of another client, with a client filter, is not released; a plain event is never "released".
      expect(await store.events.release({ ids: [a.id, c.id, plain.id, 'unknown'], client_id: clientId }, at(5000))).toEqual([a.id]);
      expect(await store.events.get(a.id)).toMatchObject({ held_reason: 'bot_user_agent', released_at: at(5000).toISOString() });
      expect((await store.outbox.forEvent(a.id)).map((r) => [r.status, r.due_at])).toEqual(
        Array.from({ length: 3 }, () => ['pending', at(5000).toISOString()]),
      );
      expect(await store.events.release({ ids: [a.id] }, at(6000))).toEqual([]);
      expect(await store.events.release({ client_id: clientId }, at(7000))).toEqual([b.id]);
      expect(await store.events.heldCounts()).toEqual([{ client_id: otherClientId, held: 1, oldest: NOW.toISOString() }]);
      const claimed = await claimAll(store, 8000);
      expect(new Set(claimed.map((r) => r.event_id))).toEqual(new Set([plain.id, a.id, b.id]));
    });

    it('never lends a held event\'s click IDs to a later event of the same reference', async () => {
      await store.events.admit(held('crm-1'), at(0));
      const later = await store.events.admit(newEvent(stageId, clientId, { reference: 'crm-1', stage_key: 'sale' }), at(120_000));
      expect(later).toMatchObject({ status: 'stored' });
      expect((later as { event: { inherited?: unknown; clicks: object } }).event.clicks).toEqual({});
      expect((later as { event: { inherited?: unknown } }).event.inherited).toBeUndefined();
    });
  });

  describe('beacon throttle counts', () => {
    it('adds the counts of several writers per window and sums them per client since a time', async () => {
      const a = (await store.clients.create({ name: 'A' })).id;
      const b = (await store.clients.create({ name: 'B' })).id;
      await store.throttles.record([{ client_id: a, scope: 'address', count: 5 }, { client_id: a, scope: 'site', count: 0 }], at(0));
      const o = await other();
      await o.throttles.record([{ client_id: a, scope: 'address', count: 2 }, { client_id: b, scope: 'site', count: 7 }], at(0));
      await store.throttles.record([{ client_id: a, scope: 'site', count: 1 }], at(60_000));
      expect(await store.throttles.counts(at(0))).toEqual(
        [
          { client_id: a, address: 7, site: 1 },
          { client_id: b, address: 0, site: 7 },
        ].sort((x, y) => (x.client_id < y.client_id ? -1 : 1)),
      );
      expect(await store.throttles.counts(at(1))).toEqual([{ client_id: a, address: 0, site: 1 }]);
      expect(await store.throttles.counts(at(HOUR))).toEqual([]);
    });
  });

  describe('outbox', () => {
    let clientId: string;
    let stageId: string;
    const claimInput = (owner: string, ms = 0, limit = 100) => ({
      owner,
      now: at(ms),
      cutoff: at(ms),
      leaseUntil: at(ms + 60_000),
      limit,
      retriesOnly: false,
    });
    beforeEach(async () => {
      clientId = (await store.clients.create({ name: 'A' })).id;
      stageId = (await store.stages.create({ client_id: clientId, key: 'lead', name: 'Lead' })).stage.id;
    });

    it('hands each due row to one of two concurrent claimers, and again after its lease', async () => {
      for (let i = 0; i < 10; i++) await store.events.admit(newEvent(stageId, clientId, { reference: `r${i}` }), NOW);
      const o = await other();
      const [a, b] = await Promise.all([store.outbox.claim(claimInput('a')), o.outbox.claim(claimInput('b'))]);
      const ids = [...a, ...b].map((c) => c.id);
      expect(new Set(ids).size).toBe(30);
      expect(a.every((c) => c.client_id === clientId && c.attempts === 0 && c.status === 'pending')).toBe(true);
      expect(await store.outbox.claim(claimInput('c', 1000))).toEqual([]);
      // The leases ran out: a third claimer takes every row again.
      expect(await store.outbox.claim(claimInput('c', 61_000))).toHaveLength(30);
    });

    it('commits row updates, audit records, Google requests and a pause in one go', async () => {
      const event = newEvent(stageId, clientId);
      await store.events.admit(event, NOW);
      const google = await store.connections.save(
        { id: 'con_g', client_id: clientId, platform: 'google', settings: { api: 'data-manager' }, secrets: 'v1:x', secret_names: ['refresh_token'] },
        NOW,
      );
      const claimed = await store.outbox.claim(claimInput('me'));
      const row = claimed.find((c) => c.platform === 'google')!;
      const record = {
        outbox_id: row.id,
        event_id: event.id,
        client_id: clientId,
        stage_id: stageId,
        platform: 'google' as const,
        connection_id: google.id,
        status: 'sent' as const,
        request_id: 'req-1',
        dedup_key: event.id,
        batch_size: 1,
        retry_count: 0,
        attempted_at: at(1000).toISOString(),
        dry_run: false,
        pass_id: 'pass-1',
      };
      await store.outbox.commit({
        owner: 'me',
        now: at(1000),
        updates: [{ id: row.id, status: 'sent', attempts: 1, first_attempt_at: at(1000).toISOString() }],
        records: [record],
        googleRequests: [
          { request_id: 'req-1', connection_id: google.id, client_id: clientId, sent_at: at(1000).toISOString(), next_check_at: at(HOUR).toISOString(), events: 3 },
        ],
        pause: { connection_id: google.id, reason: 'auth: token revoked' },
      });
      const rows = await store.outbox.forEvent(event.id);
      expect(rows.find((r) => r.platform === 'google')).toMatchObject({ status: 'sent', attempts: 1 });
      expect(rows.find((r) => r.platform === 'google')?.lease_owner).toBeUndefined();
      const sends = await store.sends.list({ event_id: event.id, limit: 10 });
      expect(sends).toEqual([
        expect.objectContaining({ status: 'sent', request_id: 'req-1', dedup_key: event.id, dry_run: false, error_message: null, retry_count: 0 }),
      ]);
      expect(await store.sends.list({ platform: 'meta', limit: 10 })).toEqual([]);
      expect(await store.googleRequests.list({ limit: 10 })).toEqual([
        expect.objectContaining({ request_id: 'req-1', events: 3, status: 'PENDING', checks: 0, errors: [], warnings: [] }),
      ]);
      expect(await store.googleRequests.nextDue()).toEqual(at(HOUR));
      expect(await store.googleRequests.due(at(HOUR - 1), 10)).toEqual([]);
      const [due] = await store.googleRequests.due(at(HOUR), 10);
      await store.googleRequests.record({
        request_id: due!.request_id,
        status: 'PARTIAL_SUCCESS',
        next_check_at: null,
        checked_at: at(HOUR).toISOString(),
        records: 1,
        errors: [{ reason: 'PROCESSING_ERROR_REASON_INVALID_GCLID', count: 1 }],
        warnings: [],
        last_error: null,
      });
      expect(await store.googleRequests.list({ status: 'PARTIAL_SUCCESS', client_id: clientId, limit: 10 })).toEqual([
        expect.objectContaining({ checks: 1, records: 1, errors: [{ reason: 'PROCESSING_ERROR_REASON_INVALID_GCLID', count: 1 }] }),
      ]);
      expect(await store.googleRequests.nextDue()).toBeUndefined();
      expect((await store.connections.get(clientId, 'google'))?.status).toBe('paused');
      // A paused connection holds its rows back from claims.
      expect(await store.outbox.held()).toEqual([
        expect.objectContaining({ connection_id: google.id, platform: 'google', reason: 'auth: token revoked', waiting: 0 }),
      ]);
    });

    it('renews and releases only the rows the owner holds, and finds the next follow-up', async () => {
      await store.events.admit(newEvent(stageId, clientId), NOW);
      const claimed = await store.outbox.claim(claimInput('me'));
      const ids = claimed.map((c) => c.id);
      expect(await store.outbox.renew({ owner: 'other', ids, leaseUntil: at(HOUR), now: NOW })).toEqual([]);
      expect((await store.outbox.renew({ owner: 'me', ids, leaseUntil: at(HOUR), now: NOW })).sort()).toEqual([...ids].sort());
      expect(await store.outbox.nextFollowUp()).toEqual(at(HOUR));
      await store.outbox.release({ owner: 'me', ids, now: NOW });
      expect(await store.outbox.nextFollowUp()).toBeUndefined();
      const row = claimed[0]!;
      const again = await store.outbox.claim(claimInput('me'));
      expect(again.map((c) => c.id).sort()).toEqual([...ids].sort());
      await store.outbox.commit({
        owner: 'me',
        now: NOW,
        updates: [{ id: row.id, status: 'retrying', due_at: at(600_000).toISOString(), attempts: 1, last_error: 'server_error: 503' }],
        records: [],
      });
      expect((await store.outbox.forEvent(row.event_id)).find((r) => r.id === row.id)).toMatchObject({
        status: 'retrying',
        due_at: at(600_000).toISOString(),
        last_error: 'server_error: 503',
      });
      // The other two rows are still leased (until +60 s); the retry falls due at +10 min.
      expect(await store.outbox.nextFollowUp()).toEqual(at(60_000));
      const retries = await store.outbox.claim({ ...claimInput('me', 600_000), retriesOnly: true });
      expect(retries.map((c) => c.id)).toContain(row.id);
    });
  });

  describe('connections', () => {
    it('saves, replaces, pauses, un-pauses on save, lists, removes and re-encrypts', async () => {
      const a = await store.clients.create({ name: 'A' });
      const saved = await store.connections.save(
        { id: 'con_1', client_id: a.id, platform: 'meta', settings: { pixel_id: '1', dry_run: true }, secrets: 'k1:abc', secret_names: ['access_token'] },
        NOW,
      );
      expect(saved).toEqual({
        id: 'con_1',
        client_id: a.id,
        platform: 'meta',
        status: 'active',
        settings: { pixel_id: '1', dry_run: true },
        secrets: 'k1:abc',
        secret_names: ['access_token'],
        created_at: NOW.toISOString(),
        updated_at: NOW.toISOString(),
      });
      await store.connections.pause('con_1', 'auth: 190', at(1000));
      expect(await store.connections.get(a.id, 'meta')).toMatchObject({ status: 'paused', status_reason: 'auth: 190', paused_at: at(1000).toISOString() });
      const replaced = await store.connections.save(
        { id: 'con_ignored', client_id: a.id, platform: 'meta', settings: { pixel_id: '2' }, secrets: null, secret_names: [] },
        at(2000),
      );
      expect(replaced).toMatchObject({ id: 'con_1', status: 'active', settings: { pixel_id: '2' }, secrets: null, created_at: NOW.toISOString() });
      expect(replaced.status_reason).toBeUndefined();
      await store.connections.save({ id: 'con_2', client_id: a.id, platform: 'google', settings: {}, secrets: 'k1:def', secret_names: ['refresh_token'] }, NOW);
      expect((await store.connections.list()).map((c) => c.platform)).toEqual(['google', 'meta']);
      expect(await store.connections.ciphertexts()).toEqual([{ id: 'con_2', secrets: 'k1:def' }]);
      expect(await store.connections.reencryptAll((c) => c.replace('k1:', 'k2:'), at(3000))).toEqual({ connections: 1, reencrypted: 1 });
      expect((await store.connections.get(a.id, 'google'))?.secrets).toBe('k2:def');
      expect(await store.connections.remove(a.id, 'google')).toBe(true);
      expect(await store.connections.remove(a.id, 'google')).toBe(false);
      expect(await store.connections.list({ client_id: a.id })).toHaveLength(1);
    });
  });

  describe('scheduled runs', () => {
    it('lets one of two processes claim a slot, once', async () => {
      const slot = new Date('2026-03-02T03:00:00.000Z');
      const o = await other();
      const claims = await Promise.all([
        store.runs.claimSlot({ slot, owner: 'a', trigger: 'schedule', now: NOW }),
        o.runs.claimSlot({ slot, owner: 'b', trigger: 'startup', now: NOW }),
      ]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      await store.runs.finishSlot({ slot, now: at(1000), summary: { claimed: 3 } });
      expect(await store.runs.claimSlot({ slot, owner: 'c', trigger: 'schedule', now: at(2000) })).toBe(false);
    });
  });

  describe('users and sessions', () => {
    it('creates users, refuses a taken email or an unknown client, and lists them without hashes', async () => {
      const client = await store.clients.create({ name: 'Acme' });
      const admin = await store.users.create({ email: 'ada@example.com', role: 'admin', password_hash: 'scrypt$h1' }, NOW);
      expect(admin).toEqual({ id: expect.stringMatching(/^usr_[0-9a-f]{32}$/), email: 'ada@example.com', role: 'admin', created_at: NOW.toISOString(), password_changed_at: NOW.toISOString() });
      const viewer = await store.users.create({ email: 'bob@acme.example', role: 'client', client_id: client.id, password_hash: 'scrypt$h2' }, NOW);
      expect(viewer.client_id).toBe(client.id);
      await expect(store.users.create({ email: 'ada@example.com', role: 'staff', password_hash: 'x' }, NOW)).rejects.toThrow(/already exists/);
      await expect(store.users.create({ email: 'eve@example.com', role: 'client', client_id: 'cli_nope', password_hash: 'x' }, NOW)).rejects.toThrow(/Unknown client/);
      expect(await store.users.list()).toEqual([admin, viewer]);
      expect(await store.users.count()).toBe(2);
      expect((await store.users.byEmail('ada@example.com'))?.password_hash).toBe('scrypt$h1');
      expect(await store.users.byEmail('nobody@example.com')).toBeUndefined();
      expect(JSON.stringify(await store.users.list())).not.toContain('scrypt$');
    });

    it('keeps sessions with their user, ends them on a new password or removal, and purges expired ones', async () => {
      const user = await store.users.create({ email: 'ada@example.com', role: 'admin', password_hash: 'scrypt$h1' }, NOW);
      const session = { id_hash: 'a'.repeat(64), user_id: user.id, created_at: NOW.toISOString(), last_seen_at: NOW.toISOString(), expires_at: at(7 * 24 * HOUR).toISOString() };
      await store.sessions.create(session);
      await store.sessions.create({ ...session, id_hash: 'b'.repeat(64), last_seen_at: at(-13 * HOUR).toISOString() });
      const found = await store.sessions.get(session.id_hash);
      expect(found?.session).toEqual(session);
      expect(found?.user).toMatchObject({ id: user.id, email: 'ada@example.com', role: 'admin', password_hash: 'scrypt$h1' });
      await store.sessions.touch(session.id_hash, at(60_000));
      expect((await store.sessions.get(session.id_hash))?.session.last_seen_at).toBe(at(60_000).toISOString());
      // Idle for 13 hours: purged with a 12-hour idle limit; the active one stays.
      expect(await store.sessions.purge(NOW, at(-12 * HOUR))).toBe(1);
      expect(await store.sessions.get('b'.repeat(64))).toBeUndefined();
      expect(await store.users.setPassword(user.id, 'scrypt$h3', at(1000))).toBe(true);
      expect(await store.sessions.get(session.id_hash)).toBeUndefined();
      expect(await store.users.get(user.id)).toMatchObject({ password_hash: 'scrypt$h3', password_changed_at: at(1000).toISOString() });
      expect(await store.users.setPassword('usr_nope', 'x', NOW)).toBe(false);
      await store.sessions.create(session);
      await store.users.rehash(user.id, 'scrypt$h4');
      expect(await store.users.get(user.id)).toMatchObject({ password_hash: 'scrypt$h4', password_changed_at: at(1000).toISOString() });
      expect(await store.sessions.get(session.id_hash)).toBeDefined();
      await store.sessions.remove(session.id_hash);
      await store.sessions.create(session);
      await store.sessions.create({ ...session, id_hash: 'c'.repeat(64) });
      expect(await store.sessions.removeForUser(user.id)).toBe(2);
      await store.sessions.create(session);
      expect(await store.users.remove(user.id)).toBe(true);
      expect(await store.sessions.get(session.id_hash)).toBeUndefined();
      expect(await store.users.remove(user.id)).toBe(false);
    });

    it('counts failed sign-ins per key across processes, clears and purges them', async () => {
      const o = await other();
      await store.loginFailures.record(['k1', 'k2'], at(-20 * 60_000));
      await o.loginFailures.record(['k1'], at(-5 * 60_000));
      expect(await store.loginFailures.recent('k1', at(-15 * 60_000))).toEqual({ count: 1, first: at(-5 * 60_000).toISOString() });
      expect(await store.loginFailures.recent('k1', at(-30 * 60_000))).toEqual({ count: 2, first: at(-20 * 60_000).toISOString() });
      expect(await store.loginFailures.recent('k3', at(-30 * 60_000))).toEqual({ count: 0 });
      await store.loginFailures.clear('k1');
      expect((await o.loginFailures.recent('k1', at(-30 * 60_000))).count).toBe(0);
      expect(await store.loginFailures.purge(at(-10 * 60_000))).toBe(1);
      expect((await store.loginFailures.recent('k2', at(-30 * 60_000))).count).toBe(0);
    });
  });
}
