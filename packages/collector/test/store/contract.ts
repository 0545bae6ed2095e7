/**
 * The storage contract: what every engine's {@link Store} must do, written once
 * and run against each engine with the same test code (`sqlite.test.ts`,
 * `postgres.test.ts`). Engine-specific checks (pragmas, files, triggers) stay
 * in those files.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PLATFORM_IDS, standardMessage, type SendRecord } from '@pruuv/sender';

/** Outbox rows per event: one per platform of the registry. */
const N = PLATFORM_IDS.length;
import { InvalidInputError } from '../../src/errors.js';
import type { AuditRecord, EventDay, KeysetPage, NewEvent, OutboxRow, PageCursor, SendAttempt, SendDay, Store, StoredEvent } from '../../src/store/types.js';

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
  /** Drops the daily roll-ups and runs their migration again: its backfill counts the stored rows. */
  backfillAgain(): Promise<void>;
  /** Drops the database of the last `open`. */
  cleanup(): Promise<void>;
}

export const NOW = new Date('2026-03-02T10:00:00.000Z');
const now = (): Date => NOW;
const HOUR = 3_600_000;
const at = (ms: number): Date => new Date(NOW.getTime() + ms);

/** The identifiers the roll-up keys list, sorted: spelled out here, so the store's list is checked against them. */
const ROLLUP_IDS = ['fbc', 'fbclid', 'fbp', 'gbraid', 'gclid', 'msclkid', 'ttclid', 'ttp', 'wbraid'];
const utcDay = (t: unknown): string => new Date(t as string).toISOString().slice(0, 10);
const byKey = <T>(key: (x: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
const eventDayKey = (d: EventDay): string => `${d.client_id}|${d.day}|${d.stage_id}|${d.ids.join(',')}`;
const sendDayKey = (d: SendDay): string => `${d.client_id}|${d.day}|${d.platform}|${d.status}`;

/**
 * A row of `events` as the store wrote it before SQLite migration 025 and PostgreSQL 020 (every
 * value inline: the user agent, the receive time as text, times and hashes equal to others), and
 * the event it reads back as.
 */
export const OLD_ROW = {
  id: 'e-old', client_id: 'cli_1', stage_id: 'stg_1', stage_key: 'lead', source: 'pixel', reference: 'old', consent: 'granted',
  received_at: '2026-01-01T00:00:00.000Z', received_ms: Date.parse('2026-01-01T00:00:00.000Z'),
  data_timestamp: '2026-01-01T00:00:00.000Z', client_time: '2026-01-01T00:00:00.000Z',
  gclid: 'g-old', gclid_ts: '2025-12-31T23:00:00.000Z', ttclid: 't-old', ttclid_ts: '2025-12-31T23:00:00.000Z',
  email_sha256: 'a'.repeat(64), email_sha256_google: 'a'.repeat(64), phone_sha256: 'b'.repeat(64), phone_sha256_meta: 'c'.repeat(64),
  user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  demographics: '{}',
  // A referrer as a forged beacon may send one, and a landing on the page's own site.
  page_url: 'https://a.example/thanks', referrer: '/checkout',
  first_touch: JSON.stringify({ params: { gclid: 'g-old' }, url: 'https://a.example/?gclid=g-old', ts: '2025-12-31T23:00:00.000Z' }),
};
export const OLD_EVENT: StoredEvent = {
  id: 'e-old', client_id: 'cli_1', stage_id: 'stg_1', stage_key: 'lead', source: 'pixel', reference: 'old', consent: 'granted',
  received_at: OLD_ROW.received_at, data_timestamp: OLD_ROW.data_timestamp, client_time: OLD_ROW.client_time,
  clicks: { gclid: { value: 'g-old', ts: OLD_ROW.gclid_ts }, ttclid: { value: 't-old', ts: OLD_ROW.ttclid_ts } }, utm: {}, demographics: {},
  email_sha256: OLD_ROW.email_sha256, email_sha256_google: OLD_ROW.email_sha256_google, phone_sha256: OLD_ROW.phone_sha256,
  phone_sha256_meta: OLD_ROW.phone_sha256_meta, user_agent: OLD_ROW.user_agent, page_url: OLD_ROW.page_url, referrer: OLD_ROW.referrer,
  first_touch: JSON.parse(OLD_ROW.first_touch) as StoredEvent['first_touch'],
};

/**
 * Audit records as written before the log named its client by key (SQLite 032, PostgreSQL 026):
 * two clients, times not in id order with ties, and one of a client the database does not know.
 */
export const OLD_RECORD_TIMES = ['2026-01-01T00:00:00.005Z', '2026-01-01T00:00:00.001Z', '2026-01-01T00:00:00.005Z', '2026-01-01T23:59:59.999Z', '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2025-12-31T23:59:59.999Z'];
/** The client of the `i`-th of {@link OLD_RECORD_TIMES}, and its status (`failed` every third, else `sent`). */
export const oldRecordClient = (i: number): string => (i === 6 ? 'cli_gone' : i % 2 === 0 ? 'cli_1' : 'cli_2');
export const oldRecordStatus = (i: number): 'failed' | 'sent' => (i % 3 === 0 ? 'failed' : 'sent');

/** After that migration, the store lists and pages those records by client (and status) in time order, each with its client's id. */
export async function expectOldRecordsListed(store: Store): Promise<void> {
  const want = (keep: (i: number) => boolean) =>
    OLD_RECORD_TIMES.map((t, i) => ({ t, i, id: i + 1 }))
      .filter(({ i }) => keep(i))
      .sort((x, y) => Date.parse(y.t) - Date.parse(x.t) || y.id - x.id)
      .map(({ i }) => [`e${i}`, oldRecordClient(i)]);
  const walk = async (query: { client_id?: string; status?: 'failed' }) => {
    const seen: Array<[string, string | null]> = [];
    let cursor: string | undefined;
    do {
      const page = await store.sends.search({ ...query, limit: 2, ...(cursor !== undefined ? { cursor: { after: cursor } } : {}) });
      seen.push(...page.rows.map((r): [string, string | null] => [r.event_id, r.client_id]));
      cursor = page.next;
    } while (cursor !== undefined);
    return seen;
  };
  expect(await walk({})).toEqual(want(() => true));
  expect(await walk({ client_id: 'cli_1' })).toEqual(want((i) => oldRecordClient(i) === 'cli_1'));
  expect(await walk({ client_id: 'cli_2', status: 'failed' })).toEqual(want((i) => oldRecordClient(i) === 'cli_2' && oldRecordStatus(i) === 'failed'));
  expect(await walk({ client_id: 'cli_gone' })).toEqual([]);
  expect((await store.sends.list({ client_id: 'cli_2', limit: 100 })).map((r) => [r.event_id, r.client_id])).toEqual(want((i) => oldRecordClient(i) === 'cli_2'));
}

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

    it('renames a client (trimmed), refuses an empty or too long name, and answers undefined for an unknown id', async () => {
      const client = await store.clients.create({ name: 'A', origins: ['https://a.example'] });
      expect(await store.clients.bySiteKey(client.site_key)).toMatchObject({ name: 'A' });
      expect(await store.clients.rename(client.id, '  Acme <b>Ltd</b> ')).toEqual({ ...client, name: 'Acme <b>Ltd</b>' });
      expect(await store.clients.bySiteKey(client.site_key)).toMatchObject({ name: 'Acme <b>Ltd</b>', origins: ['https://a.example'] });
      await expect(store.clients.rename(client.id, '  ')).rejects.toThrow(/client name/);
      await expect(store.clients.rename(client.id, 'x'.repeat(201))).rejects.toThrow(/client name/);
      expect((await store.clients.get(client.id))?.name).toBe('Acme <b>Ltd</b>');
      expect(await store.clients.rename('cli_missing', 'B')).toBeUndefined();
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

    it('sees a client renamed by another process', async () => {
      const client = await store.clients.create({ name: 'A' });
      expect((await store.clients.bySiteKey(client.site_key))?.name).toBe('A');
      await (await other()).clients.rename(client.id, 'B');
      await engine.propagation();
      expect((await store.clients.bySiteKey(client.site_key))?.name).toBe('B');
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

    it('stores the event and one outbox row per platform', async () => {
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
        ...PLATFORM_IDS.map((platform) => ({ platform, status: 'pending', attempts: 0 })),
      ]);
    });

    it('reads touches and fbc back as admitted, though what repeats the event\'s own click IDs is stored once', async () => {
      const first = { ts: '2026-03-01T09:00:00.000Z', url: 'https://a.example/?gclid=g', params: { gclid: 'g', utm_source: 'google' } } as never;
      const later = { ts: '2026-03-02T09:00:00.000Z', url: 'https://a.example/?fbclid=f', params: { fbclid: 'f' } } as never;
      const once = newEvent(stageId, clientId, { reference: 'once', first_touch: first, last_touch: first });
      const twice = newEvent(stageId, clientId, { reference: 'twice', first_touch: first, last_touch: later });
      const lastOnly = newEvent(stageId, clientId, { reference: 'last', last_touch: later });
      // The touch's click ID and Meta's fbc that are the event's own fbclid and gclid are stored once too.
      const clicks = { gclid: { value: 'g', ts: '2026-03-01T09:00:00.000Z' }, fbclid: { value: 'f' } };
      const own = newEvent(stageId, clientId, { reference: 'own', clicks, fbc: 'fb.1.1554763741205.f', first_touch: first, last_touch: later });
      const appendix = newEvent(stageId, clientId, { reference: 'appendix', clicks, fbc: 'fb.1.1554763741205.f.AQAAAAAA', first_touch: later });
      const other = newEvent(stageId, clientId, { reference: 'other', clicks: { fbclid: { value: 'f2' } }, fbc: 'fb.1.1554763741205.f', first_touch: later });
      for (const event of [once, twice, lastOnly, own, appendix, other]) {
        await store.events.admit(event, NOW);
        expect(await store.events.get(event.id)).toEqual({ ...event, received_at: '2026-03-02T10:00:00.000Z' });
      }
    });

    it('reads every event back as admitted, though what repeats is stored once: receive time, click times, hashes, user agents', async () => {
      const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
      const SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';
      const hash = (c: string): string => c.repeat(64);
      const received = NOW.toISOString();
      const ts = '2026-03-02T09:00:00.000Z';
      // A beacon: its browser clock and conversion time are the receive time, its three clicks share a time; the user agent is new.
      const pixel = newEvent(stageId, clientId, {
        reference: 'p1', source: 'pixel', consent: 'granted', client_time: received, data_timestamp: received, user_agent: CHROME,
        clicks: { fbclid: { value: 'f1', ts }, gclid: { value: 'g1', ts }, ttclid: { value: 't1', ts } },
        email_sha256: hash('a'), email_sha256_google: hash('a'), phone_sha256: hash('c'), phone_sha256_meta: hash('d'),
        utm: { utm_source: 'google', utm_campaign: 'spring' },
        page_url: 'https://a.example/thanks?order=1', referrer: 'https://a.example/checkout',
        // The landing that recorded the clicks: its time and UTM parameters are the event's, its origin the page's.
        first_touch: { params: { gclid: 'g1', utm_source: 'google', utm_campaign: 'spring' }, url: 'https://a.example/?gclid=g1', ts },
        last_touch: { params: { gclid: 'g1', utm_source: 'google', utm_campaign: 'spring' }, url: 'https://a.example/?gclid=g1', ts },
      });
      // The same user agent again; times that differ from the receive time and from each other; a click without a time.
      const again = newEvent(stageId, clientId, {
        reference: 'p2', source: 'pixel', client_time: '2026-03-02T09:59:59.500Z', data_timestamp: '2026-03-01T00:00:00.000Z', user_agent: CHROME,
        clicks: { fbclid: { value: 'f2', ts }, gclid: { value: 'g2', ts: '2026-03-02T08:00:00.000Z' }, wbraid: { value: 'w2' }, ttclid: { value: 't2', ts } },
        utm: { utm_source: 'bing' },
        // A referrer on another site, one that starts with '/' or '~' as sent, a landing on another origin.
        page_url: 'https://a.example/thanks', referrer: 'https://www.google.com/',
        // An earlier landing: another time and UTM source than the event's.
        first_touch: { params: { utm_source: 'google', utm_medium: 'cpc' }, url: 'https://b.example/?utm_source=google', ts: '2026-02-01T00:00:00.000Z' },
      });
      // A webhook: a Gmail address whose Google and Microsoft hashes differ from the base one, a phone, no user agent.
      const webhook = newEvent(stageId, clientId, {
        reference: 'w1', data_timestamp: '2026-03-02T09:30:00.000Z',
        email_sha256: hash('1'), email_sha256_google: hash('2'), email_sha256_microsoft: hash('3'), phone_sha256: hash('4'), phone_sha256_meta: hash('5'),
      });
      // The Microsoft and Meta forms equal to the base hashes; another user agent, and a client time equal to the receive time without a data timestamp.
      const same = newEvent(stageId, clientId, {
        reference: 'w2', client_time: received, user_agent: SAFARI, clicks: { msclkid: { value: 'm1', ts } }, page_url: 'https://a.example/', referrer: '/checkout',
        email_sha256: hash('6'), email_sha256_microsoft: hash('6'), phone_sha256: hash('7'), phone_sha256_meta: hash('7'),
      });
      for (const event of [pixel, again, webhook, same]) {
        expect(await store.events.admit(event, NOW)).toEqual({ status: 'stored', event: { ...event, received_at: received } });
      }
      // Read through every path: by id, many, a client's, a list, a search, and by another process.
      const expected = [pixel, again, webhook, same].map((e) => ({ ...e, received_at: received }));
      for (const e of expected) {
        expect(await store.events.get(e.id)).toEqual(e);
        expect(await store.events.getOfClient(e.id, clientId)).toEqual(e);
      }
      expect([...(await store.events.getMany(expected.map((e) => e.id))).values()].sort(byKey((e) => e.reference))).toEqual(expected);
      expect((await store.events.list({ client_id: clientId, limit: 10 })).sort(byKey((e) => e.reference))).toEqual(expected);
      expect((await store.events.search({ client_id: clientId, limit: 10 })).rows.sort(byKey((e) => e.reference))).toEqual(expected);
      const second = await other();
      expect(await second.events.get(again.id)).toEqual(expected[1]);

      // What the rows hold: each repeat stored once.
      const rows = new Map((await engine.rows('events')).map((r) => [r['reference'], r]));
      const agents = await engine.rows('user_agents');
      expect(agents.map((a) => a['user_agent']).sort()).toEqual([CHROME, SAFARI].sort());
      const keyOf = (ua: string) => Number(agents.find((a) => a['user_agent'] === ua)!['id']);
      const touch = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);
      // A hash as the engine stores it: 32 bytes on SQLite, hex text on PostgreSQL.
      const stored = (hex: string): unknown => (engine.name === 'sqlite' ? Buffer.from(hex, 'hex') : hex);
      expect(touch(rows.get('p1')!['first_touch'])).toEqual({ params: { gclid: 0, utm_source: 0, utm_campaign: 0 }, url: '/?gclid=g1', ts: 0 });
      expect(rows.get('p1')).toMatchObject({ page_url: '*https://a.example/thanks?order=1', referrer: '/checkout' });
      expect(rows.get('p2')).toMatchObject({ page_url: 'https://a.example/thanks', referrer: 'https://www.google.com/' });
      expect(rows.get('w2')).toMatchObject({ page_url: 'https://a.example/', referrer: '/checkout' });
      expect(touch(rows.get('p1')!['last_touch'])).toBe(0);
      expect(touch(rows.get('p2')!['first_touch'])).toEqual(again.first_touch);
      expect(rows.get('p1')).toMatchObject({ user_agent: null, client_time: '', data_timestamp: '', fbclid_ts: ts, gclid_ts: '', ttclid_ts: '', email_sha256: stored(hash('a')), email_sha256_google: '', phone_sha256_meta: stored(hash('d')) });
      expect(Number(rows.get('p1')!['user_agent_key'])).toBe(keyOf(CHROME));
      expect(Number(rows.get('p2')!['user_agent_key'])).toBe(keyOf(CHROME));
      expect(rows.get('p2')).toMatchObject({ client_time: again.client_time, data_timestamp: again.data_timestamp, gclid_ts: '2026-03-02T08:00:00.000Z', wbraid_ts: null, ttclid_ts: ts });
      expect(rows.get('w1')).toMatchObject({ user_agent: null, user_agent_key: null, email_sha256_google: stored(hash('2')), email_sha256_microsoft: stored(hash('3')), phone_sha256_meta: stored(hash('5')) });
      expect(rows.get('w2')).toMatchObject({ client_time: '', data_timestamp: null, email_sha256_microsoft: '', phone_sha256_meta: '' });
      expect(Number(rows.get('w2')!['user_agent_key'])).toBe(keyOf(SAFARI));
      // SQLite stores the receive time once (its received_ms); PostgreSQL keeps the instant in its 8-byte type.
      if (engine.name === 'sqlite') expect(rows.get('p1')!['received_at']).toBe('');
      else expect((rows.get('p1')!['received_at'] as Date).toISOString()).toBe(received);
      // Another process finds the key of a user agent it has not seen and adds the next one once.
      const third = newEvent(stageId, clientId, { reference: 'p3', source: 'pixel', user_agent: SAFARI });
      const fourth = newEvent(stageId, clientId, { reference: 'p4', source: 'pixel', user_agent: 'curl/8.5.0' });
      await second.events.admit(third, at(1000));
      await second.events.admit(fourth, at(2000));
      await store.events.admit(newEvent(stageId, clientId, { reference: 'p5', source: 'pixel', user_agent: 'curl/8.5.0' }), at(3000));
      expect(await engine.rows('user_agents')).toHaveLength(3);
      expect((await store.events.get(third.id))?.user_agent).toBe(SAFARI);
      expect((await store.events.get(fourth.id))?.user_agent).toBe('curl/8.5.0');
    });

    it('stores concurrent beacons of two stages and two processes whose user agents are new, each user agent once', async () => {
      const sale = (await store.stages.create({ client_id: clientId, key: 'sale', name: 'Sale' })).stage.id;
      const second = await other();
      const agents = Array.from({ length: 6 }, (_, i) => `Mozilla/5.0 (agent ${i})`);
      // Each stage's groups meet the new user agents in opposite orders.
      const admissions = [store, second].flatMap((s, p) =>
        [stageId, sale].flatMap((stage, k) =>
          agents.map((_, i) => {
            const ua = agents[(p + k) % 2 === 0 ? i : agents.length - 1 - i]!;
            return s.events.admit(newEvent(stage, clientId, { reference: `c${p}${k}${i}`, source: 'pixel', user_agent: ua }), at(i));
          }),
        ),
      );
      const results = await Promise.all(admissions);
      expect(results.map((r) => r.status)).toEqual(admissions.map(() => 'stored'));
      expect((await engine.rows('user_agents')).map((r) => r['user_agent']).sort()).toEqual([...agents].sort());
      for (const r of results) {
        const stored = (r as { event: StoredEvent }).event;
        expect((await store.events.get(stored.id))?.user_agent).toBe(stored.user_agent);
      }
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

    it("counts each stage's events received after a time, and 0 for a stage without any", async () => {
      const sale = (await store.stages.create({ client_id: clientId, key: 'sale', name: 'Sale' })).stage.id;
      for (let i = 0; i < 4; i++) await store.events.admit(newEvent(stageId, clientId, { reference: `l${i}` }), at(i * 10 * 60_000));
      await store.events.admit(newEvent(sale, clientId, { reference: 's', stage_key: 'sale' }), at(HOUR));
      // After +10 min (exclusive): the lead events at +20 and +30 min.
      expect(await store.events.stageCounts([stageId, sale, 'stg_none'], at(10 * 60_000))).toEqual(
        new Map([[stageId, 2], [sale, 1], ['stg_none', 0]]),
      );
      expect(await store.events.stageCounts([stageId], at(-1))).toEqual(new Map([[stageId, 4]]));
      expect(await store.events.stageCounts([], NOW)).toEqual(new Map());
      // What the hourly quota counts: a beacon is not counted.
      await store.events.admit(newEvent(stageId, clientId, { reference: 'beacon', source: 'pixel' }), at(HOUR));
      expect(await store.events.stageCounts([stageId], at(-1))).toEqual(new Map([[stageId, 4]]));
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
      expect((await store.outbox.forEvent(event.id)).map((r) => r.status)).toEqual(PLATFORM_IDS.map(() => 'held'));
      await store.events.admit(newEvent(stageId, clientId, { reference: 'ok' }), NOW);
      const claimed = await claimAll(store, 1000);
      expect(claimed).toHaveLength(N);
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
        Array.from({ length: N }, () => ['pending', at(5000).toISOString()]),
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

  describe('daily roll-ups', () => {
    const ALL_DAYS = { from: '2000-01-01', to: '2100-12-31' };
    /** The event roll-up recounted from the stored events. */
    const recountEvents = async (): Promise<EventDay[]> => {
      const days = new Map<string, EventDay>();
      for (const r of await engine.rows('events')) {
        const d: EventDay = {
          // The receive time as `received_ms` (`received_at` is '' on SQLite rows that store it once).
          day: utcDay(Number(r['received_ms'])),
          client_id: String(r['client_id']),
          stage_id: String(r['stage_id']),
          ids: ROLLUP_IDS.filter((k) => r[k] !== null && r[k] !== undefined),
          events: 0,
          email: 0,
          phone: 0,
        };
        const known = days.get(eventDayKey(d)) ?? d;
        known.events++;
        if (r['email_sha256'] !== null) known.email++;
        if (r['phone_sha256'] !== null) known.phone++;
        days.set(eventDayKey(d), known);
      }
      return [...days.values()].sort(byKey(eventDayKey));
    };
    /** The send roll-up recounted from the audit log. */
    const recountSends = async (): Promise<SendDay[]> => {
      const days = new Map<string, SendDay>();
      // A record names its client by its key (audit-row.ts).
      const clientOf = new Map((await engine.rows('clients')).map((c) => [Number(c['key']), String(c['id'])]));
      for (const r of await engine.rows('send_attempts')) {
        const d = { day: utcDay(r['attempted_at']), client_id: r['client_id'] === null ? clientOf.get(Number(r['client_key'])) : String(r['client_id']), platform: r['platform'], status: r['status'], count: 0 } as SendDay;
        const known = days.get(sendDayKey(d)) ?? d;
        known.count++;
        days.set(sendDayKey(d), known);
      }
      return [...days.values()].sort(byKey(sendDayKey));
    };
    const storedEventDays = async (s: Store, clientIds: string[]): Promise<EventDay[]> =>
      (await Promise.all(clientIds.map((client_id) => s.stats.eventDays({ client_id, ...ALL_DAYS })))).flat().sort(byKey(eventDayKey));
    const storedSendDays = async (s: Store, clientIds: string[]): Promise<SendDay[]> =>
      (await Promise.all(clientIds.map((client_id) => s.stats.sendDays({ client_id, ...ALL_DAYS })))).flat().sort(byKey(sendDayKey));

    it('counts admitted events by day, stage and identifiers, as a recount of the stored events finds them', async () => {
      const a = (await store.clients.create({ name: 'A' })).id;
      const b = (await store.clients.create({ name: 'B' })).id;
      const lead = (await store.stages.create({ client_id: a, key: 'lead', name: 'Lead' })).stage.id;
      const sale = (await store.stages.create({ client_id: a, key: 'sale', name: 'Sale' })).stage.id;
      const bLead = (await store.stages.create({ client_id: b, key: 'lead', name: 'Lead' })).stage.id;
      const every = newEvent(lead, a, {
        reference: 'every',
        clicks: Object.fromEntries(['fbclid', 'gclid', 'wbraid', 'gbraid', 'ttclid', 'msclkid'].map((k) => [k, { value: `v-${k}` }])),
        fbc: 'fb.1.1700000000000.v-fbclid',
        fbp: 'fb.1.1700000000000.123',
        ttp: 'ttp-1',
        email_sha256: 'e'.repeat(64),
        phone_sha256: 'f'.repeat(64),
      });
      const admissions = [
        // Yesterday (UTC) and today.
        await store.events.admit(newEvent(lead, a, { reference: 'g1', clicks: { gclid: { value: 'g1' } } }), at(-11 * HOUR)),
        await store.events.admit(newEvent(lead, a, { reference: 'g2', clicks: { gclid: { value: 'g2' } }, email_sha256: 'a'.repeat(64) }), NOW),
        await store.events.admit(every, NOW),
        await store.events.admit(newEvent(sale, a, { reference: 'm1', clicks: { fbclid: { value: 'f' } }, fbc: 'fb.1.1.f', fbp: 'fb.1.1.2' }), NOW),
        await store.events.admit(newEvent(bLead, b, { reference: 't1', clicks: { ttclid: { value: 't' } }, ttp: 'x', phone_sha256: 'b'.repeat(64) }), NOW),
        await store.events.admit(newEvent(bLead, b, { reference: 'none' }), NOW),
        // Not stored, not counted: a resent id, the same reference within 60 s.
        await store.events.admit({ ...every, reference: 'again' }, at(1000)),
        await store.events.admit(newEvent(lead, a, { reference: 'g2', clicks: { gclid: { value: 'g2b' } } }), at(2000)),
        // Joined: no click ID of its own, inherits the gclid of the same reference.
        await store.events.admit(newEvent(sale, a, { reference: 'g1', email_sha256: 'a'.repeat(64) }), at(3000)),
      ];
      expect(admissions.map((x) => x.status)).toEqual(['stored', 'stored', 'stored', 'stored', 'stored', 'stored', 'duplicate_event_id', 'duplicate', 'stored']);
      // Concurrent admissions share transactions (group commit) on both engines.
      const burst = await Promise.all(
        Array.from({ length: 12 }, (_, i) => store.events.admit(newEvent(i % 2 === 0 ? lead : sale, a, { reference: `burst-${i}`, fbp: 'fb.1.1.9' }), at(4000))),
      );
      expect(burst.filter((x) => x.status === 'stored')).toHaveLength(12);
      // Beyond the hourly quota (another process with a quota of 2): not stored, not counted.
      const limited = await other(2);
      const refused = [];
      for (let i = 0; i < 3; i++) refused.push((await limited.events.admit(newEvent(bLead, b, { reference: `q${i}` }), at(5000 + i))).status);
      expect(refused).toEqual(['rate_limited', 'rate_limited', 'rate_limited']);

      const stored = await storedEventDays(store, [a, b]);
      expect(stored).toEqual(await recountEvents());
      expect(stored.reduce((n, d) => n + d.events, 0)).toBe(19);
      expect(stored).toContainEqual({ day: '2026-03-01', client_id: a, stage_id: lead, ids: ['gclid'], events: 1, email: 0, phone: 0 });
      expect(stored).toContainEqual({ day: '2026-03-02', client_id: a, stage_id: lead, ids: ROLLUP_IDS, events: 1, email: 1, phone: 1 });
      expect(stored).toContainEqual({ day: '2026-03-02', client_id: a, stage_id: sale, ids: ['gclid'], events: 1, email: 1, phone: 0 });
      expect(stored).toContainEqual({ day: '2026-03-02', client_id: b, stage_id: bLead, ids: [], events: 1, email: 0, phone: 0 });
      // A client's rows only, and only the days asked for.
      expect((await store.stats.eventDays({ client_id: b, ...ALL_DAYS })).every((d) => d.client_id === b)).toBe(true);
      expect(await store.stats.eventDays({ client_id: a, from: '2026-03-01', to: '2026-03-01' })).toEqual([
        { day: '2026-03-01', client_id: a, stage_id: lead, ids: ['gclid'], events: 1, email: 0, phone: 0 },
      ]);

      // The migration's backfill counts the same rows the same way.
      await engine.backfillAgain();
      expect(await storedEventDays(store, [a, b])).toEqual(stored);
    });

    it("counts a commit's audit records by day, platform and status, as a recount of the audit log finds them", async () => {
      const a = (await store.clients.create({ name: 'A' })).id;
      const b = (await store.clients.create({ name: 'B' })).id;
      const aLead = (await store.stages.create({ client_id: a, key: 'lead', name: 'Lead' })).stage.id;
      const bLead = (await store.stages.create({ client_id: b, key: 'lead', name: 'Lead' })).stage.id;
      for (let i = 0; i < 3; i++) await store.events.admit(newEvent(aLead, a, { reference: `a${i}` }), NOW);
      await store.events.admit(newEvent(bLead, b, { reference: 'b0' }), NOW);
      const claimed = await store.outbox.claim({ owner: 'me', now: NOW, cutoff: NOW, leaseUntil: at(60_000), limit: 100, retriesOnly: false });
      expect(claimed).toHaveLength(4 * N);
      const statuses = ['sent', 'sent', 'failed', 'skipped', 'dead', 'retrying'] as const;
      const record = (c: (typeof claimed)[number], i: number, attemptedAt: Date): SendRecord => ({
        outbox_id: c.id,
        event_id: c.event_id,
        client_id: c.client_id,
        stage_id: c.client_id === a ? aLead : bLead,
        platform: c.platform,
        status: statuses[i % statuses.length]!,
        dedup_key: c.event_id,
        batch_size: claimed.length,
        retry_count: 0,
        attempted_at: attemptedAt.toISOString(),
        dry_run: false,
        pass_id: 'pass-1',
      });
      // Two batches, on either side of midnight UTC.
      const first = claimed.slice(0, 6);
      await store.outbox.commit({
        owner: 'me',
        now: at(14 * HOUR - 1000),
        updates: first.map((c, i) => ({ id: c.id, status: statuses[i]!, attempts: 1 })),
        records: first.map((c, i) => record(c, i, at(14 * HOUR - 1000))),
      });
      const second = claimed.slice(6);
      // Its lease ran out and another sender took the rows: its updates are dropped, its records kept (and counted).
      expect(await store.outbox.claim({ owner: 'other', now: at(14 * HOUR), cutoff: at(14 * HOUR), leaseUntil: at(15 * HOUR), limit: 100, retriesOnly: false })).toHaveLength(4 * N - 6 + 1);
      await store.outbox.commit({
        owner: 'me',
        now: at(14 * HOUR + 1000),
        updates: second.map((c, i) => ({ id: c.id, status: statuses[i]!, attempts: 1 })),
        records: second.map((c, i) => record(c, i, at(14 * HOUR + 1000))),
      });
      // A batch without records (a retry's row update only) counts nothing.
      await store.outbox.commit({ owner: 'other', now: at(14 * HOUR + 2000), updates: [], records: [] });

      const stored = await storedSendDays(store, [a, b]);
      expect(stored).toEqual(await recountSends());
      expect(stored.reduce((n, d) => n + d.count, 0)).toBe(4 * N);
      expect(new Set(stored.map((d) => d.day))).toEqual(new Set(['2026-03-02', '2026-03-03']));
      const dead = stored.filter((d) => d.status === 'dead');
      const deadOf = (client: string) => dead.filter((d) => d.client_id === client).reduce((n, d) => n + d.count, 0);
      expect(deadOf(a) + deadOf(b)).toBe(2);
      expect(await store.stats.sendTotals({ status: 'dead', from: '2026-03-01' })).toEqual(
        [a, b].filter((c) => deadOf(c) > 0).sort().map((client_id) => ({ client_id, count: deadOf(client_id) })),
      );
      expect(await store.stats.sendTotals({ status: 'dead', from: '2026-03-01', client_id: b })).toEqual(deadOf(b) > 0 ? [{ client_id: b, count: deadOf(b) }] : []);
      expect(await store.stats.sendTotals({ status: 'sent', from: '2026-03-04' })).toEqual([]);
      expect(await store.stats.sendDays({ client_id: a, from: '2026-03-03', to: '2026-03-03' })).toEqual(stored.filter((d) => d.client_id === a && d.day === '2026-03-03'));

      await engine.backfillAgain();
      expect(await storedSendDays(store, [a, b])).toEqual(stored);
    });

    it("finds each stage's latest event and its events in the last hour, for one client or all", async () => {
      const a = (await store.clients.create({ name: 'A' })).id;
      const b = (await store.clients.create({ name: 'B' })).id;
      const lead = (await store.stages.create({ client_id: a, key: 'lead', name: 'Lead' })).stage.id;
      const quiet = (await store.stages.create({ client_id: a, key: 'quiet', name: 'Quiet' })).stage.id;
      const bLead = (await store.stages.create({ client_id: b, key: 'lead', name: 'Lead' })).stage.id;
      await store.events.admit(newEvent(lead, a, { reference: 'old' }), at(-2 * HOUR));
      for (let i = 0; i < 4; i++) await store.events.admit(newEvent(lead, a, { reference: `r${i}` }), at(-HOUR + 1000 * (i + 1)));
      await store.events.admit(newEvent(bLead, b, { reference: 'x' }), at(-3 * 24 * HOUR));
      expect(await store.stats.stageActivity({ now: NOW })).toEqual([
        { stage_id: lead, client_id: a, last_event_at: at(-HOUR + 4000).toISOString(), last_hour: 4 },
        { stage_id: quiet, client_id: a, last_hour: 0 },
        { stage_id: bLead, client_id: b, last_event_at: at(-3 * 24 * HOUR).toISOString(), last_hour: 0 },
      ]);
      expect(await store.stats.stageActivity({ client_id: b, now: NOW })).toEqual([
        { stage_id: bLead, client_id: b, last_event_at: at(-3 * 24 * HOUR).toISOString(), last_hour: 0 },
      ]);
      // The window slides: one second later the first of the four has left it.
      expect((await store.stats.stageActivity({ client_id: a, now: at(1000) }))[0]?.last_hour).toBe(3);
      // A beacon is the stage's latest event, but not in what the quota counts.
      await store.events.admit(newEvent(lead, a, { reference: 'beacon', source: 'pixel' }), at(-500));
      expect(await store.stats.stageActivity({ client_id: a, now: NOW })).toEqual([
        { stage_id: lead, client_id: a, last_event_at: at(-500).toISOString(), last_hour: 4 },
        { stage_id: quiet, client_id: a, last_hour: 0 },
      ]);
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
      expect(new Set(ids).size).toBe(10 * N);
      expect(a.every((c) => c.client_id === clientId && c.attempts === 0 && c.status === 'pending')).toBe(true);
      expect(await store.outbox.claim(claimInput('c', 1000))).toEqual([]);
      // The leases ran out: a third claimer takes every row again.
      expect(await store.outbox.claim(claimInput('c', 61_000))).toHaveLength(10 * N);
    });

    it("stores a first attempt's frozen fields on rows the owner leases, keeps the first, and hands them back on every claim", async () => {
      const event = newEvent(stageId, clientId);
      await store.events.admit(event, NOW);
      const claimed = await store.outbox.claim(claimInput('me'));
      const ms = claimed.find((c) => c.platform === 'microsoft')!;
      const meta = claimed.find((c) => c.platform === 'meta')!;
      expect(ms.frozen).toBeUndefined();
      const first = '{"name":"Offline purchases","hashes":true}';
      expect(await store.outbox.freeze({ owner: 'me', now: NOW, rows: [{ id: ms.id, fields: first }] })).toEqual([{ id: ms.id, fields: first }]);
      // A second freeze never replaces the first; another owner writes nothing.
      expect(await store.outbox.freeze({ owner: 'me', now: NOW, rows: [{ id: ms.id, fields: '{"name":"Other","hashes":false}' }] })).toEqual([{ id: ms.id, fields: first }]);
      expect(await store.outbox.freeze({ owner: 'other', now: NOW, rows: [{ id: meta.id, fields: 'x' }] })).toEqual([]);
      expect(await store.outbox.freeze({ owner: 'me', now: NOW, rows: [] })).toEqual([]);
      await store.outbox.commit({
        owner: 'me',
        now: NOW,
        updates: claimed.map((c) => ({ id: c.id, status: c.id === ms.id ? 'retrying' : 'sent', due_at: at(HOUR).toISOString(), attempts: 1, first_attempt_at: NOW.toISOString() })),
        records: [],
      });
      expect(await store.outbox.due({ now: at(HOUR), limit: 10 })).toMatchObject([{ id: ms.id, frozen: first }]);
      const again = await store.outbox.claim(claimInput('next', HOUR));
      expect(again).toMatchObject([{ id: ms.id, attempts: 1, frozen: first }]);
      expect((await engine.rows('outbox')).filter((r) => r['frozen_fields'] !== null).map((r) => r['frozen_fields'])).toEqual([first]);
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
      // One client's paused connections only.
      expect(await store.outbox.held({ client_id: clientId })).toHaveLength(1);
      expect(await store.outbox.held({ client_id: 'cli_other' })).toEqual([]);
      // What a paused connection holds back, counted up to a cap when asked.
      for (let i = 0; i < 4; i++) await store.events.admit(newEvent(stageId, clientId, { reference: `held-${i}` }), NOW);
      expect((await store.outbox.held())[0]?.waiting).toBe(4);
      expect((await store.outbox.held({ upTo: 3 }))[0]?.waiting).toBe(3);
      expect((await store.outbox.held({ client_id: clientId, upTo: 10 }))[0]?.waiting).toBe(4);
    });

    it('removes in the commit the rows never attempted that the owner still leases, and records nothing for them', async () => {
      const event = newEvent(stageId, clientId);
      await store.events.admit(event, NOW);
      const claimed = await store.outbox.claim(claimInput('me'));
      const id = (p: string) => claimed.find((c) => c.platform === p)!.id;
      // Google was attempted once and is due again: a row with attempts is never removed.
      await store.outbox.commit({ owner: 'me', now: NOW, updates: [{ id: id('google'), status: 'retrying', due_at: NOW.toISOString(), attempts: 1 }], records: [] });
      const [google] = await store.outbox.claim(claimInput('me', 1000));
      expect(google?.id).toBe(id('google'));
      // The TikTok row's lease runs out and another worker takes it.
      const thief = await store.outbox.claim(claimInput('thief', 61_000));
      expect(thief.map((c) => c.id).sort()).toEqual([id('meta'), id('tiktok'), id('microsoft')].sort());
      await store.outbox.release({ owner: 'thief', ids: [id('meta'), id('microsoft')], now: at(61_000) });
      await store.outbox.claim(claimInput('me', 62_000));
      await store.outbox.commit({
        owner: 'me',
        now: at(62_000),
        updates: [{ id: id('meta'), status: 'sent', attempts: 1, first_attempt_at: at(62_000).toISOString() }],
        records: [],
        discard: [id('microsoft'), id('tiktok'), id('google')],
      });
      const rows = await store.outbox.forEvent(event.id);
      expect(rows.map((r) => [r.platform, r.status, r.lease_owner])).toEqual([
        ['meta', 'sent', undefined],
        ['google', 'retrying', 'me'],
        ['tiktok', 'pending', 'thief'],
      ]);
      expect(await store.sends.list({ event_id: event.id, limit: 10 })).toEqual([]);
      expect((await engine.rows('outbox')).map((r) => r['platform']).sort()).toEqual(['google', 'meta', 'tiktok']);
    });

    it("stores no client nor creation time on a row (they are the event's) and reads the client on every path: rows, claims, due rows, a paused connection's", async () => {
      const otherClient = (await store.clients.create({ name: 'B' })).id;
      const otherStage = (await store.stages.create({ client_id: otherClient, key: 'lead', name: 'Lead' })).stage.id;
      const a = newEvent(stageId, clientId, { reference: 'a' });
      const b = newEvent(otherStage, otherClient, { reference: 'b' });
      await store.events.admit(a, NOW);
      await store.events.admit(b, NOW);
      expect((await engine.rows('outbox')).map((r) => r['client_id'])).toEqual(Array.from({ length: 2 * N }, () => null));
      // SQLite's column is NOT NULL: '' there.
      expect((await engine.rows('outbox')).map((r) => r['created_at'] || null)).toEqual(Array.from({ length: 2 * N }, () => null));
      const clientOf = new Map([[a.id, clientId], [b.id, otherClient]]);
      const rows = await store.outbox.forEvents([a.id, b.id]);
      expect(rows.map((r) => [r.event_id, r.client_id])).toEqual(rows.map((r) => [r.event_id, clientOf.get(r.event_id)]));
      expect((await store.outbox.forEvent(a.id)).map((r) => r.client_id)).toEqual(Array.from({ length: N }, () => clientId));
      expect((await store.outbox.get(rows[0]!.id))?.client_id).toBe(clientOf.get(rows[0]!.event_id));
      expect((await store.outbox.due({ now: NOW, limit: 100 })).map((c) => [c.event_id, c.client_id])).toEqual(
        rows.map((r) => [r.event_id, clientOf.get(r.event_id)]),
      );
      expect((await store.outbox.due({ now: NOW, limit: 100, client_id: otherClient })).map((c) => c.event_id)).toEqual(Array.from({ length: N }, () => b.id));
      // A paused connection holds back its own client's rows only, and counts them.
      const paused = await store.connections.save({ id: 'con_m', client_id: clientId, platform: 'meta', settings: {}, secrets: 'v1:x', secret_names: [] }, NOW);
      await store.outbox.commit({ owner: 'nobody', now: NOW, updates: [], records: [], pause: { connection_id: paused.id, reason: 'auth: token revoked' } });
      expect(await store.outbox.held()).toEqual([expect.objectContaining({ connection_id: paused.id, client_id: clientId, waiting: 1 })]);
      const claimed = await store.outbox.claim(claimInput('me'));
      expect(claimed.map((c) => [c.event_id, c.platform, c.client_id]).sort()).toEqual(
        rows.filter((r) => !(r.event_id === a.id && r.platform === 'meta')).map((r) => [r.event_id, r.platform, clientOf.get(r.event_id)]).sort(),
      );
    });

    it('reads each finished row and its records back as committed: sent, failed, dead, skipped, and sent after a retry', async () => {
      const one = newEvent(stageId, clientId, { reference: 'final-1' });
      const two = newEvent(stageId, clientId, { reference: 'final-2' });
      await store.events.admit(one, NOW);
      await store.events.admit(two, at(1));
      const claimed = await store.outbox.claim(claimInput('p', 10));
      const row = (event: NewEvent, platform: string) => claimed.find((c) => c.event_id === event.id && c.platform === platform)!;
      const t1 = at(1000).toISOString();
      const t2 = at(HOUR + 1000).toISOString();
      const record = (event: NewEvent, platform: 'meta' | 'google' | 'tiktok' | 'microsoft', status: SendRecord['status'], attempted_at: string, extra: Partial<SendRecord> = {}): SendRecord => ({
        outbox_id: row(event, platform).id,
        event_id: event.id,
        client_id: clientId,
        stage_id: stageId,
        platform,
        connection_id: `con_${platform}`,
        status,
        dedup_key: event.id,
        batch_size: 2,
        retry_count: 0,
        attempted_at,
        dry_run: false,
        pass_id: 'pass-1',
        request_id: `req-${platform}`,
        ...extra,
      });
      // A skip has no connection and made no request.
      const skipped = record(one, 'microsoft', 'skipped', t1, { reason: 'no_connection', message: standardMessage('microsoft', 'skipped', 'no_connection')! });
      delete skipped.connection_id;
      delete skipped.request_id;
      const first = [
        record(one, 'meta', 'sent', t1, { http_status: 200 }),
        record(one, 'google', 'failed', t1, { http_status: 400, reason: 'invalid', error_code: 'INVALID_ARGUMENT', error_message: 'bad gclid' }),
        record(one, 'tiktok', 'retrying', t1, { http_status: 503, reason: 'server_error', next_attempt_at: at(HOUR).toISOString() }),
        skipped,
        record(two, 'meta', 'dead', t1, { http_status: 500, reason: 'server_error', message: 'Gave up after 3 attempts.' }),
      ];
      await store.outbox.commit({
        owner: 'p',
        now: at(1000),
        updates: [
          { id: row(one, 'meta').id, status: 'sent', attempts: 1, first_attempt_at: t1 },
          { id: row(one, 'google').id, status: 'failed', attempts: 1, first_attempt_at: t1, last_error: 'invalid: bad gclid' },
          { id: row(one, 'tiktok').id, status: 'retrying', due_at: at(HOUR).toISOString(), attempts: 1, first_attempt_at: t1, last_error: 'server_error: 503' },
          { id: row(one, 'microsoft').id, status: 'skipped', attempts: 0 },
          { id: row(two, 'meta').id, status: 'dead', attempts: 3, first_attempt_at: t1, last_error: 'server_error: 500' },
        ],
        records: first,
      });
      const waiting = claimed.filter((c) => c.event_id === two.id && c.platform !== 'meta').map((c) => c.id);
      await store.outbox.release({ owner: 'p', ids: waiting, now: at(1000) });
      const retried = await store.outbox.claim({ ...claimInput('p2', HOUR), retriesOnly: true });
      expect(retried.map((c) => c.id)).toEqual([row(one, 'tiktok').id]);
      const again = record(one, 'tiktok', 'sent', t2, { http_status: 200, retry_count: 1, pass_id: 'pass-2' });
      await store.outbox.commit({ owner: 'p2', now: at(HOUR + 1000), updates: [{ id: row(one, 'tiktok').id, status: 'sent', attempts: 2, first_attempt_at: t1 }], records: [again] });

      // Every field of each row, as it read before rows stored less (no lease, the client, due and finish times).
      const final = (event: NewEvent, platform: string, fields: Partial<OutboxRow>): OutboxRow => ({
        id: row(event, platform).id,
        event_id: event.id,
        platform: platform as OutboxRow['platform'],
        client_id: clientId,
        ...fields,
      } as OutboxRow);
      const received = (event: NewEvent) => (event === one ? NOW : at(1)).toISOString();
      const done = { updated_at: t1, finished_at: t1 };
      const ofOne: Record<string, OutboxRow> = {
        meta: final(one, 'meta', { status: 'sent', due_at: received(one), attempts: 1, first_attempt_at: t1, ...done }),
        google: final(one, 'google', { status: 'failed', due_at: received(one), attempts: 1, first_attempt_at: t1, last_error: 'invalid: bad gclid', ...done }),
        tiktok: final(one, 'tiktok', { status: 'sent', due_at: at(HOUR).toISOString(), attempts: 2, first_attempt_at: t1, updated_at: t2, finished_at: t2 }),
        microsoft: final(one, 'microsoft', { status: 'skipped', due_at: received(one), attempts: 0, ...done }),
      };
      expect(await store.outbox.forEvents([one.id, two.id])).toEqual([
        ...PLATFORM_IDS.map((p) => ofOne[p]),
        ...PLATFORM_IDS.map((p) =>
          p === 'meta'
            ? final(two, 'meta', { status: 'dead', due_at: received(two), attempts: 3, first_attempt_at: t1, last_error: 'server_error: 500', ...done })
            : final(two, p, { status: 'pending', due_at: received(two), attempts: 0, updated_at: t1 }),
        ),
      ]);
      expect(await store.outbox.get(row(one, 'tiktok').id)).toEqual(ofOne['tiktok']);
      // Each record, through every list, as it was written.
      const read = (r: AuditRecord): SendAttempt => ({
        id: expect.any(Number) as unknown as number,
        attempted_at: r.attempted_at,
        client_id: r.client_id,
        stage_id: r.stage_id ?? null,
        event_id: r.event_id,
        platform: r.platform,
        connection_id: r.connection_id ?? null,
        status: r.status,
        reason: r.reason ?? null,
        message: r.message ?? null,
        error_code: r.error_code ?? null,
        error_message: r.error_message ?? null,
        http_status: r.http_status ?? null,
        request_id: r.request_id ?? null,
        dedup_key: r.dedup_key,
        batch_size: r.batch_size ?? null,
        retry_count: r.retry_count,
        next_attempt_at: r.next_attempt_at ?? null,
        dry_run: r.dry_run,
        pass_id: r.pass_id ?? null,
      });
      const newestFirst = [again, ...[...first].reverse()].map(read);
      expect((await store.sends.search({ limit: 50 })).rows).toEqual(newestFirst);
      expect((await store.sends.search({ client_id: clientId, limit: 50 })).rows).toEqual(newestFirst);
      expect((await store.sends.search({ event_id: one.id, limit: 50 })).rows).toEqual(newestFirst.filter((s) => s.event_id === one.id));
      expect((await store.sends.search({ status: 'dead', limit: 50 })).rows).toEqual([read(first[4]!)]);
      expect((await store.sends.search({ client_id: clientId, status: 'sent', limit: 50 })).rows).toEqual([read(again), read(first[0]!)]);
      expect(await store.sends.list({ limit: 50 })).toEqual(newestFirst);
    });

    it("stores no due time on a row that finished due at its event's receipt, and reads the receipt back", async () => {
      const event = newEvent(stageId, clientId, { reference: 'due-once' });
      await store.events.admit(event, NOW);
      const claimed = await store.outbox.claim(claimInput('p', 10));
      const [sent, retrying, ...rest] = claimed;
      await store.outbox.commit({
        owner: 'p',
        now: at(1000),
        updates: [
          { id: sent!.id, status: 'sent', attempts: 1, first_attempt_at: at(1000).toISOString() },
          { id: retrying!.id, status: 'retrying', due_at: at(HOUR).toISOString(), attempts: 1, first_attempt_at: at(1000).toISOString() },
          ...rest.map((c) => ({ id: c.id, status: 'dead' as const, attempts: 1, due_at: at(HOUR).toISOString() })),
        ],
        records: [],
      });
      const due = new Map((await engine.rows('outbox')).map((r) => [Number(r['id']), r['due_at'] || null]));
      // SQLite's column is NOT NULL: '' there. A waiting row, and a finished row due at another time, keep theirs.
      expect(due.get(sent!.id)).toBeNull();
      expect(due.get(retrying!.id)).not.toBeNull();
      for (const c of rest) expect(due.get(c.id)).not.toBeNull();
      const rows = new Map((await store.outbox.forEvent(event.id)).map((r) => [r.id, r.due_at]));
      expect(rows.get(sent!.id)).toBe(NOW.toISOString());
      expect(rows.get(retrying!.id)).toBe(at(HOUR).toISOString());
      for (const c of rest) expect(rows.get(c.id)).toBe(at(HOUR).toISOString());
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

  describe('retention', () => {
    const DAY = 86_400_000;
    // The cutoff of a 180-day retention at NOW.
    const before = at(-180 * DAY);
    let clientId: string;
    let stageId: string;
    beforeEach(async () => {
      clientId = (await store.clients.create({ name: 'A' })).id;
      stageId = (await store.stages.create({ client_id: clientId, key: 'lead', name: 'Lead' })).stage.id;
    });
    /** Claims every due row at `ms` and commits each with the status `statusOf` gives its event, with one audit record per row. */
    const pass = async (ms: number, statusOf: (eventId: string) => 'sent' | 'retrying' | undefined): Promise<void> => {
      const claimed = await store.outbox.claim({ owner: `p${ms}`, now: at(ms), cutoff: at(ms), leaseUntil: at(ms + 60_000), limit: 1000, retriesOnly: false });
      const mine = claimed.filter((c) => statusOf(c.event_id) !== undefined);
      await store.outbox.commit({
        owner: `p${ms}`,
        now: at(ms),
        updates: mine.map((c) => ({
          id: c.id,
          status: statusOf(c.event_id)!,
          attempts: c.attempts + 1,
          first_attempt_at: c.first_attempt_at ?? at(ms).toISOString(),
          ...(statusOf(c.event_id) === 'retrying' ? { due_at: at(ms + DAY).toISOString() } : {}),
        })),
        records: mine.map((c) => ({
          outbox_id: c.id,
          event_id: c.event_id,
          client_id: clientId,
          stage_id: stageId,
          platform: c.platform,
          status: statusOf(c.event_id)!,
          dedup_key: c.event_id,
          batch_size: mine.length,
          retry_count: c.attempts,
          attempted_at: at(ms).toISOString(),
          dry_run: false,
          pass_id: `p${ms}`,
        })),
      });
      await store.outbox.release({ owner: `p${ms}`, ids: claimed.map((c) => c.id), now: at(ms) });
    };
    /** Old events in every state, and newer ones: what a 180-day sweep at NOW must tell apart. */
    const seed = async () => {
      const e = {
        sentA: newEvent(stageId, clientId, { reference: 'a', clicks: { gclid: { value: 'g-a' } } }),
        sentB: newEvent(stageId, clientId, { reference: 'b' }),
        retrying: newEvent(stageId, clientId, { reference: 'r' }),
        endedLate: newEvent(stageId, clientId, { reference: 'l' }),
        held: newEvent(stageId, clientId, { reference: 'h', source: 'pixel', held_reason: 'bot_user_agent' }),
        newer: newEvent(stageId, clientId, { reference: 'n' }),
        heir: newEvent(stageId, clientId, { reference: 'a', stage_key: 'sale' }),
      };
      for (const key of ['sentA', 'sentB', 'retrying', 'endedLate', 'held'] as const) await store.events.admit(e[key], at(-200 * DAY));
      // 199 days ago: two sent, two to retry; 20 days ago the late one ends; 9 days ago a newer one is sent.
      await pass(-199 * DAY, (id) => (id === e.sentA.id || id === e.sentB.id ? 'sent' : 'retrying'));
      await pass(-20 * DAY, (id) => (id === e.endedLate.id ? 'sent' : id === e.retrying.id ? 'retrying' : undefined));
      await store.events.admit(e.newer, at(-10 * DAY));
      await pass(-9 * DAY, (id) => (id === e.newer.id ? 'sent' : id === e.retrying.id ? 'retrying' : undefined));
      // The heir joins sentA by reference 150 days in: it copies sentA's click ID.
      await store.events.admit(e.heir, at(-50 * DAY));
      return e;
    };

    it('removes exactly the events older than the cutoff whose sends all ended before it, with their rows', async () => {
      const e = await seed();
      expect((await store.events.get(e.heir.id))?.inherited).toEqual({ from_event_id: e.sentA.id, fields: ['gclid'] });
      const sentAttempts = (await store.sends.list({ event_id: e.sentA.id, limit: 10 })).length;
      expect(sentAttempts).toBe(N);
      expect(await store.retention.removable(before)).toBe(3);
      // The held event was never released: it goes with its held rows (and no audit record).
      expect(await store.retention.prune({ before, limit: 500 })).toEqual({ events: 3, outbox: 3 * N, send_attempts: 2 * N, user_agents: 0 });
      for (const gone of [e.sentA, e.sentB, e.held]) {
        expect(await store.events.get(gone.id)).toBeUndefined();
        expect(await store.outbox.forEvent(gone.id)).toEqual([]);
        expect(await store.sends.list({ event_id: gone.id, limit: 10 })).toEqual([]);
      }
      for (const kept of [e.retrying, e.endedLate, e.newer, e.heir]) {
        expect(await store.events.get(kept.id)).toBeDefined();
        expect(await store.outbox.forEvent(kept.id)).toHaveLength(N);
      }
      expect((await store.sends.list({ event_id: e.endedLate.id, limit: 10 })).length).toBe(2 * N);
      // The heir keeps what it inherited; the link to the removed event goes.
      expect((await store.events.get(e.heir.id))?.inherited).toEqual({ fields: ['gclid'] });
      expect((await store.events.get(e.heir.id))?.clicks).toEqual({ gclid: { value: 'g-a' } });
      expect(await store.retention.removable(before)).toBe(0);
      expect(await store.retention.prune({ before, limit: 500 })).toEqual({ events: 0, outbox: 0, send_attempts: 0, user_agents: 0 });
    });

    it("removes a request's row with the last audit record naming it, and keeps one a kept record names", async () => {
      const sent = newEvent(stageId, clientId, { reference: 's' });
      const later = newEvent(stageId, clientId, { reference: 'l' });
      const retrying = newEvent(stageId, clientId, { reference: 'r' });
      for (const e of [sent, later, retrying]) await store.events.admit(e, at(-200 * DAY));
      // One request per pass here (no platform request id): the first holds records of a removed and a kept event.
      await pass(-199 * DAY, (id) => (id === sent.id ? 'sent' : id === retrying.id ? 'retrying' : undefined));
      await pass(-198 * DAY, (id) => (id === later.id ? 'sent' : undefined));
      const passes = async (): Promise<string[]> => (await engine.rows('send_requests')).map((r) => String(r.pass_id)).sort();
      expect(await passes()).toEqual([`p${-199 * DAY}`, `p${-198 * DAY}`].sort());
      expect(await store.retention.prune({ before, limit: 500 })).toEqual({ events: 2, outbox: 2 * N, send_attempts: 2 * N, user_agents: 0 });
      // The second pass's request named only removed records: it goes; the first's still names the retrying event's records.
      expect(await passes()).toEqual([`p${-199 * DAY}`]);
      const kept = await store.sends.list({ event_id: retrying.id, limit: 10 });
      expect(kept).toHaveLength(N);
      expect(kept.every((r) => r.pass_id === `p${-199 * DAY}`)).toBe(true);
    });

    it('removes an old event whose rows a pass removed (no connection), and one that kept some of them', async () => {
      const none = newEvent(stageId, clientId, { reference: 'x' });
      const some = newEvent(stageId, clientId, { reference: 'y' });
      for (const e of [none, some]) await store.events.admit(e, at(-200 * DAY));
      const claimed = await store.outbox.claim({ owner: 'p', now: at(-199 * DAY), cutoff: at(-199 * DAY), leaseUntil: at(-199 * DAY + 60_000), limit: 100, retriesOnly: false });
      const meta = claimed.find((c) => c.event_id === some.id && c.platform === 'meta')!;
      await store.outbox.commit({
        owner: 'p',
        now: at(-199 * DAY),
        updates: [{ id: meta.id, status: 'sent', attempts: 1, first_attempt_at: at(-199 * DAY).toISOString() }],
        records: [],
        discard: claimed.filter((c) => c.id !== meta.id).map((c) => c.id),
      });
      expect(await store.outbox.forEvent(none.id)).toEqual([]);
      expect(await store.outbox.forEvent(some.id)).toHaveLength(1);
      expect(await store.retention.removable(before)).toBe(2);
      expect(await store.retention.prune({ before, limit: 500 })).toEqual({ events: 2, outbox: 1, send_attempts: 0, user_agents: 0 });
      expect(await engine.rows('events')).toEqual([]);
    });

    it('keeps every event with a row still due, however old', async () => {
      const e = await seed();
      await store.retention.prune({ before: at(0), limit: 500 });
      // At NOW as the cutoff, only the rows still due hold their events back: retrying, and the heir's pending rows.
      const left = (await engine.rows('events')).map((r) => r.id).sort();
      expect(left).toEqual([e.retrying.id, e.heir.id].sort());
    });

    it('removes a held event once older than the cutoff, and keeps a released one until its sends end', async () => {
      const held = newEvent(stageId, clientId, { reference: 'h1', source: 'pixel', held_reason: 'bot_user_agent' });
      const released = newEvent(stageId, clientId, { reference: 'h2', source: 'pixel', held_reason: 'no_fetch_metadata' });
      const young = newEvent(stageId, clientId, { reference: 'h3', source: 'pixel', held_reason: 'bot_user_agent' });
      await store.events.admit(held, at(-200 * DAY));
      await store.events.admit(released, at(-200 * DAY));
      await store.events.admit(young, at(-100 * DAY));
      expect(await store.events.release({ ids: [released.id] }, at(-1 * DAY))).toEqual([released.id]);
      expect(await store.retention.prune({ before, limit: 500 })).toEqual({ events: 1, outbox: N, send_attempts: 0, user_agents: 0 });
      expect(await store.events.get(held.id)).toBeUndefined();
      expect(await engine.rows('outbox')).toHaveLength(2 * N);
      // The released one is due now: kept until its sends end and the retention passes them.
      expect((await store.outbox.forEvent(released.id)).map((r) => r.status)).toEqual(PLATFORM_IDS.map(() => 'pending'));
      expect((await store.outbox.forEvent(young.id)).map((r) => r.status)).toEqual(PLATFORM_IDS.map(() => 'held'));
    });

    it('removes a user agent with the last events that named it, and keeps one a kept or newer event names', async () => {
      const ua = (name: string): string => `Mozilla/5.0 (${name})`;
      const old = [ua('only old'), ua('only old'), ua('old and new'), ua('old and due')].map((u, i) =>
        newEvent(stageId, clientId, { reference: `u${i}`, source: 'pixel', user_agent: u }),
      );
      for (const e of old) await store.events.admit(e, at(-200 * DAY));
      const due = old[3]!;
      await pass(-199 * DAY, (id) => (id === due.id ? 'retrying' : 'sent'));
      const newer = newEvent(stageId, clientId, { reference: 'u4', source: 'pixel', user_agent: ua('old and new') });
      await store.events.admit(newer, at(-10 * DAY));
      expect(await engine.rows('user_agents')).toHaveLength(3);
      expect(await store.retention.prune({ before, limit: 500 })).toEqual({ events: 3, outbox: 3 * N, send_attempts: 3 * N, user_agents: 1 });
      expect((await engine.rows('user_agents')).map((r) => r['user_agent']).sort()).toEqual([ua('old and due'), ua('old and new')]);
      expect((await store.events.get(newer.id))?.user_agent).toBe(ua('old and new'));
      expect((await store.events.get(due.id))?.user_agent).toBe(ua('old and due'));
      // Once the kept events' sends end and they pass the retention, their user agents go with them: none left over.
      await pass(-1 * DAY, (id) => (id === due.id || id === newer.id ? 'sent' : undefined));
      expect(await store.retention.prune({ before: at(0), limit: 500 })).toEqual({ events: 2, outbox: 2 * N, send_attempts: 3 * N, user_agents: 2 });
      expect(await engine.rows('user_agents')).toEqual([]);
    });

    it('removes at most the batch size per call, oldest first', async () => {
      for (let i = 0; i < 5; i++) await store.events.admit(newEvent(stageId, clientId, { reference: `o${i}` }), at((-300 + i) * DAY));
      await pass(-290 * DAY, () => 'sent');
      const removed: number[] = [];
      for (let i = 0; i < 4; i++) removed.push((await store.retention.prune({ before, limit: 2 })).events);
      expect(removed).toEqual([2, 2, 1, 0]);
      expect(await engine.rows('events')).toEqual([]);
      expect(await engine.rows('send_attempts')).toEqual([]);
    });

    it('leaves the daily roll-ups as they were', async () => {
      await seed();
      const days = await engine.rows('daily_events');
      const sendDays = await engine.rows('daily_sends');
      await store.retention.prune({ before, limit: 500 });
      expect(await engine.rows('daily_events')).toEqual(days);
      expect(await engine.rows('daily_sends')).toEqual(sendDays);
    });

    it('lists rows and bytes of every table', async () => {
      await seed();
      const tables = await store.monitor.tables();
      const byName = new Map(tables.map((t) => [t.table, t]));
      expect(byName.get('events')).toMatchObject({ rows: 7 });
      expect(byName.get('outbox')).toMatchObject({ rows: 7 * N });
      expect(byName.get('events')!.bytes).toBeGreaterThan(0);
      expect([...byName.keys()]).toEqual(expect.arrayContaining(['send_attempts', 'daily_events', 'clients', 'schema_migrations']));
    });
  });

  describe('monitor', () => {
    it('is ready on a migrated database, and reads the gauges of /metrics', async () => {
      expect(await store.monitor.ready(1000)).toEqual({ ready: true });
      const empty = await store.monitor.gauges(NOW);
      expect(empty).toMatchObject({ outbox_due: 0, paused_connections: [] });
      expect(empty.oldest_due_at).toBeUndefined();
      expect(empty.database_bytes).toBeGreaterThan(0);

      const a = await store.clients.create({ name: 'A' });
      const stageId = (await store.stages.create({ client_id: a.id, key: 'lead', name: 'Lead' })).stage.id;
      await store.events.admit(newEvent(stageId, a.id, { reference: 'first' }), NOW);
      await store.events.admit(newEvent(stageId, a.id, { reference: 'second' }), at(60_000));
      const perEvent = (await engine.rows('outbox')).length / 2;
      expect(perEvent).toBeGreaterThan(0);
      // Before the second event's rows fall due, then after.
      expect(await store.monitor.gauges(at(30_000))).toMatchObject({ outbox_due: perEvent, oldest_due_at: NOW.toISOString() });
      expect(await store.monitor.gauges(at(120_000))).toMatchObject({ outbox_due: 2 * perEvent, oldest_due_at: NOW.toISOString() });

      for (const [id, platform] of [['con_m', 'meta'], ['con_t', 'tiktok'], ['con_g', 'google']] as const) {
        await store.connections.save({ id, client_id: a.id, platform, settings: {}, secrets: null, secret_names: [] }, NOW);
      }
      await store.connections.pause('con_m', 'auth: 190', NOW);
      await store.connections.pause('con_t', 'auth: 40100', NOW);
      expect((await store.monitor.gauges(NOW)).paused_connections).toEqual([
        { platform: 'meta', count: 1 },
        { platform: 'tiktok', count: 1 },
      ]);
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

  describe('when a connection was last used', () => {
    it('is set by a commit whose records reached the platform, to the latest attempt, never moved back', async () => {
      const client = await store.clients.create({ name: 'A' });
      const stageId = (await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' })).stage.id;
      const meta = await store.connections.save({ id: 'con_m', client_id: client.id, platform: 'meta', settings: { pixel_id: '1' }, secrets: 'v1:x', secret_names: ['access_token'] }, NOW);
      const google = await store.connections.save({ id: 'con_g', client_id: client.id, platform: 'google', settings: {}, secrets: 'v1:y', secret_names: ['refresh_token'] }, NOW);
      expect(meta.last_used_at).toBeUndefined();
      const events = [newEvent(stageId, client.id, { reference: 'a' }), newEvent(stageId, client.id, { reference: 'b' })];
      for (const e of events) await store.events.admit(e, NOW);
      const claimed = await store.outbox.claim({ owner: 'me', now: NOW, cutoff: NOW, leaseUntil: at(HOUR), limit: 100, retriesOnly: false });
      const record = (platform: 'meta' | 'google', i: number, extra: Record<string, unknown>) => {
        const row = claimed.filter((c) => c.platform === platform)[i]!;
        return {
          outbox_id: row.id, event_id: row.event_id, client_id: client.id, stage_id: stageId, platform, connection_id: platform === 'meta' ? meta.id : google.id,
          dedup_key: row.event_id, batch_size: 2, retry_count: 0, dry_run: false, pass_id: 'p', ...extra,
        } as Parameters<Store['outbox']['commit']>[0]['records'][number];
      };
      // Meta: one sent at +2 s and one failed at +3 s; Google: pre-flight skips only (nothing went out).
      await store.outbox.commit({
        owner: 'me',
        now: at(5000),
        updates: [],
        records: [
          record('meta', 0, { status: 'sent', http_status: 200, attempted_at: at(2000).toISOString() }),
          record('meta', 1, { status: 'failed', http_status: 400, attempted_at: at(3000).toISOString() }),
          record('google', 0, { status: 'skipped', reason: 'missing_click_id', attempted_at: at(4000).toISOString() }),
        ],
      });
      expect((await store.connections.get(client.id, 'meta'))?.last_used_at).toBe(at(3000).toISOString());
      expect((await store.connections.get(client.id, 'google'))?.last_used_at).toBeUndefined();
      // A Google validate-only answer used the credentials; an older commit (another process) moves nothing back.
      await store.outbox.commit({
        owner: 'me',
        now: at(9000),
        updates: [],
        records: [
          record('google', 1, { status: 'skipped', reason: 'dry_run', http_status: 200, attempted_at: at(8000).toISOString() }),
          record('meta', 0, { status: 'retrying', reason: 'timeout', attempted_at: at(1000).toISOString() }),
        ],
      });
      expect((await store.connections.get(client.id, 'google'))?.last_used_at).toBe(at(8000).toISOString());
      expect((await store.connections.get(client.id, 'meta'))?.last_used_at).toBe(at(8000).toISOString());
      await (await other()).outbox.commit({
        owner: 'me',
        now: at(9000),
        updates: [],
        records: [record('meta', 0, { status: 'retrying', reason: 'timeout', attempted_at: at(1000).toISOString() })],
      });
      expect((await store.connections.get(client.id, 'meta'))?.last_used_at).toBe(at(8000).toISOString());
      // Saving new credentials keeps it: it says when the stored ones were last used.
      expect((await store.connections.save({ id: 'x', client_id: client.id, platform: 'meta', settings: { pixel_id: '2' }, secrets: null, secret_names: [] }, at(HOUR))).last_used_at).toBe(
        at(8000).toISOString(),
      );
    });
  });

  describe('oauth', () => {
    const pending = (over: Record<string, string>, user: string, client: string) => ({
      key_hash: 'h1', kind: 'authorize' as const, user_id: user, session_hash: 's1', client_id: client, platform: 'google' as const,
      payload: 'k1:cipher', created_at: NOW.toISOString(), expires_at: at(600_000).toISOString(), ...over,
    });

    it('hands a pending authorization out once, by key hash and kind, and sweeps expired ones', async () => {
      const client = await store.clients.create({ name: 'A' });
      const user = await store.users.create({ email: 'a@x.example', role: 'admin', password_hash: 'h' }, NOW);
      await store.oauth.putPending(pending({}, user.id, client.id));
      await store.oauth.putPending(pending({ key_hash: 'h2', kind: 'grant', expires_at: NOW.toISOString() }, user.id, client.id));
      expect(await store.oauth.getPending('h1', 'grant')).toBeUndefined();
      expect(await store.oauth.getPending('h1', 'authorize')).toMatchObject({ user_id: user.id, payload: 'k1:cipher', expires_at: at(600_000).toISOString() });
      // Two callers race for the same state: exactly one gets it.
      const taken = await Promise.all([store.oauth.takePending('h1', 'authorize'), (await other()).oauth.takePending('h1', 'authorize')]);
      expect(taken.filter((t) => t !== undefined)).toHaveLength(1);
      expect(await store.oauth.takePending('h1', 'authorize')).toBeUndefined();
      expect(await store.oauth.sweepPending(NOW)).toBe(1);
      expect(await store.oauth.getPending('h2', 'grant')).toBeUndefined();
    });

    it("keeps a connection's grant facts, records refreshes, and forgets them with the connection", async () => {
      const a = await store.clients.create({ name: 'A' });
      const con = await store.connections.save({ id: 'con_g', client_id: a.id, platform: 'google', settings: {}, secrets: 'k1:x', secret_names: ['refresh_token'] }, NOW);
      await store.oauth.saveGrant({ connection_id: con.id, granted_at: NOW.toISOString(), access_expires_at: at(HOUR).toISOString(), user_action_by: at(7 * 24 * HOUR).toISOString(), scopes: ['s1', 's2'] });
      expect(await store.oauth.grant(con.id)).toEqual({ connection_id: con.id, granted_at: NOW.toISOString(), access_expires_at: at(HOUR).toISOString(), user_action_by: at(7 * 24 * HOUR).toISOString(), scopes: ['s1', 's2'] });
      await store.oauth.refreshed(con.id, at(HOUR), at(2 * HOUR));
      expect(await store.oauth.grants({ client_id: a.id })).toEqual([
        { connection_id: con.id, client_id: a.id, platform: 'google', granted_at: NOW.toISOString(), access_expires_at: at(2 * HOUR).toISOString(), refreshed_at: at(HOUR).toISOString(), user_action_by: at(7 * 24 * HOUR).toISOString(), scopes: ['s1', 's2'] },
      ]);
      expect(await store.oauth.grants({ client_id: 'cli_other' })).toEqual([]);
      await store.connections.remove(a.id, 'google');
      expect(await store.oauth.grants()).toEqual([]);
    });

    it('lets one holder at a time take the refresh lease, until it runs out or is given back', async () => {
      const t = NOW.getTime();
      const second = await other();
      expect(await store.oauth.acquireRefresh('con_1', 'w1', t, t + 30_000)).toBe(true);
      expect(await second.oauth.acquireRefresh('con_1', 'w2', t + 1000, t + 31_000)).toBe(false);
      expect(await store.oauth.acquireRefresh('con_1', 'w1', t + 1000, t + 31_000)).toBe(true);
      expect(await second.oauth.acquireRefresh('con_1', 'w2', t + 31_000, t + 61_000)).toBe(true);
      await store.oauth.releaseRefresh('con_1', 'w1');
      expect(await store.oauth.acquireRefresh('con_1', 'w1', t + 32_000, t + 62_000)).toBe(false);
      await second.oauth.releaseRefresh('con_1', 'w2');
      expect(await store.oauth.acquireRefresh('con_1', 'w1', t + 32_000, t + 62_000)).toBe(true);
    });
  });

  describe('pixel origins', () => {
    it('keeps the latest hit per client and origin, across processes, and lists one client or all', async () => {
      const a = await store.clients.create({ name: 'A', origins: ['https://a.example', 'https://www.a.example'] });
      const b = await store.clients.create({ name: 'B', origins: ['https://b.example'] });
      expect(await store.pixelOrigins.list({ client_id: a.id })).toEqual([]);
      await store.pixelOrigins.seen(a.id, 'https://www.a.example', at(60_000));
      await store.pixelOrigins.seen(a.id, 'https://a.example', NOW);
      await store.pixelOrigins.seen(b.id, 'https://b.example', NOW);
      // Another process with an older time (written later) leaves the later one.
      await (await other()).pixelOrigins.seen(a.id, 'https://www.a.example', at(1000));
      await store.pixelOrigins.seen(a.id, 'https://a.example', at(120_000));
      expect(await store.pixelOrigins.list({ client_id: a.id })).toEqual([
        { client_id: a.id, origin: 'https://a.example', last_seen_at: at(120_000).toISOString() },
        { client_id: a.id, origin: 'https://www.a.example', last_seen_at: at(60_000).toISOString() },
      ]);
      // Every client's: grouped by client (their order is the engine's collation of ids), origins in order.
      const all = (await store.pixelOrigins.list()).map((r) => `${r.client_id} ${r.origin}`);
      expect([...all].sort()).toEqual([`${a.id} https://a.example`, `${a.id} https://www.a.example`, `${b.id} https://b.example`].sort());
      expect(all.indexOf(`${a.id} https://www.a.example`) - all.indexOf(`${a.id} https://a.example`)).toBe(1);
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

    it('lists the latest runs, newest slot first, a run in progress without its end', async () => {
      expect(await store.runs.recent(5)).toEqual([]);
      const slots = ['2026-02-28T03:00:00.000Z', '2026-03-01T03:00:00.000Z', '2026-03-02T03:00:00.000Z'].map((t) => new Date(t));
      for (const slot of slots) await store.runs.claimSlot({ slot, owner: 'a', trigger: 'schedule', now: slot });
      await store.runs.finishSlot({ slot: slots[0]!, now: new Date(slots[0]!.getTime() + 5000), summary: { sent: 1 } });
      await store.runs.finishSlot({ slot: slots[1]!, now: new Date(slots[1]!.getTime() + 7000), summary: { pass_id: 'p2', sent: 12, dead: 1, duration_ms: 7000 } });
      expect(await store.runs.recent(2)).toEqual([
        { slot: '2026-03-02T03:00:00.000Z', owner: 'a', trigger: 'schedule', started_at: '2026-03-02T03:00:00.000Z' },
        {
          slot: '2026-03-01T03:00:00.000Z',
          owner: 'a',
          trigger: 'schedule',
          started_at: '2026-03-01T03:00:00.000Z',
          finished_at: '2026-03-01T03:00:07.000Z',
          summary: { pass_id: 'p2', sent: 12, dead: 1, duration_ms: 7000 },
        },
      ]);
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

  describe('dashboard lists', () => {
    let a: string;
    let b: string;
    let leadA: string;
    let saleA: string;
    let leadB: string;
    beforeEach(async () => {
      a = (await store.clients.create({ name: 'A' })).id;
      b = (await store.clients.create({ name: 'B' })).id;
      leadA = (await store.stages.create({ client_id: a, key: 'lead', name: 'Lead' })).stage.id;
      saleA = (await store.stages.create({ client_id: a, key: 'sale', name: 'Sale' })).stage.id;
      leadB = (await store.stages.create({ client_id: b, key: 'lead', name: 'Lead' })).stage.id;
    });

    /** Every page forward from the first, then every page back from the last: the ids of each walk, newest first. */
    async function walk<T>(read: (cursor?: PageCursor) => Promise<KeysetPage<T>>, id: (row: T) => string | number) {
      const forward: Array<string | number> = [];
      let page = await read();
      expect(page.prev).toBeUndefined();
      forward.push(...page.rows.map(id));
      let pages = 1;
      while (page.next !== undefined) {
        page = await read({ after: page.next });
        forward.push(...page.rows.map(id));
        if (++pages > 200) throw new Error('too many pages');
      }
      const backward: Array<string | number> = [...page.rows.map(id)];
      while (page.prev !== undefined) {
        page = await read({ before: page.prev });
        backward.unshift(...page.rows.map(id));
        if (++pages > 400) throw new Error('too many pages');
      }
      return { forward, backward, pages };
    }

    interface Seeded {
      id: string;
      client: string;
      stage: string;
      source: 'pixel' | 'webhook';
      reference: string;
      click: boolean;
      ms: number;
      n: number;
    }

    /** 30 events of A (two stages, both sources, some with click IDs, several in one millisecond) and 6 of B. */
    async function seedEvents(): Promise<Seeded[]> {
      const seeded: Seeded[] = [];
      for (let n = 0; n < 36; n++) {
        const ofB = n % 6 === 5;
        const client = ofB ? b : a;
        const stage = ofB ? leadB : n % 3 === 0 ? saleA : leadA;
        const source = n % 4 === 0 ? 'pixel' : 'webhook';
        const click = n % 5 === 0 || n === 7;
        // Events 10 to 14 share one millisecond: the keyset's tie-break orders them.
        const ms = n >= 10 && n <= 14 ? 10 * 60_000 : n * 60_000;
        const event = newEvent(stage, client, {
          source,
          reference: n === 20 || n === 3 ? 'crm-shared' : `crm-${n}`,
          stage_key: stage === saleA ? 'sale' : 'lead',
          ...(click ? { clicks: { gclid: { value: `G-${n}`, ts: NOW.toISOString() } } } : n === 8 ? { fbc: 'fb.1.1.x' } : {}),
        });
        await store.events.admit(event, at(ms));
        seeded.push({ id: event.id, client, stage, source, reference: event.reference, click: click || n === 8, ms, n });
      }
      return seeded;
    }
    const newestFirst = (rows: Seeded[]) => [...rows].sort((x, y) => y.ms - x.ms || y.n - x.n).map((r) => r.id);

    it('pages events newest first by keyset, with no duplicate and no gap either way', async () => {
      const seeded = await seedEvents();
      const expected = newestFirst(seeded.filter((e) => e.client === a));
      const { forward, backward, pages } = await walk((cursor) => store.events.search({ client_id: a, limit: 4, ...(cursor ? { cursor } : {}) }), (e) => e.id);
      expect(forward).toEqual(expected);
      expect(backward).toEqual(expected);
      expect(pages).toBeGreaterThan(10);
      const all = await walk((cursor) => store.events.search({ limit: 7, ...(cursor ? { cursor } : {}) }), (e) => e.id);
      expect(all.forward).toEqual(newestFirst(seeded));
      expect(all.backward).toEqual(newestFirst(seeded));
      // Events stored after a page was read never shift the next one.
      const first = await store.events.search({ client_id: a, limit: 4 });
      await store.events.admit(newEvent(leadA, a, { reference: 'late' }), at(100 * 60_000));
      expect((await store.events.search({ client_id: a, limit: 4, cursor: { after: first.next! } })).rows.map((e) => e.id)).toEqual(expected.slice(4, 8));
    });

    it('filters events by stage, source, reference, received time and click IDs, alone and together', async () => {
      const seeded = await seedEvents();
      const cases: Array<{ name: string; query: Record<string, unknown>; keep: (e: Seeded) => boolean }> = [
        { name: 'stage', query: { stage_id: saleA }, keep: (e) => e.stage === saleA },
        { name: 'stage of the client', query: { stage_id: saleA, client_id: a }, keep: (e) => e.stage === saleA },
        { name: 'stage of another client', query: { stage_id: leadB, client_id: a }, keep: () => false },
        { name: 'source', query: { client_id: a, source: 'pixel' }, keep: (e) => e.client === a && e.source === 'pixel' },
        { name: 'reference of a client', query: { client_id: a, reference: 'crm-shared' }, keep: (e) => e.client === a && e.reference === 'crm-shared' },
        { name: 'reference of any client', query: { reference: 'crm-5' }, keep: (e) => e.reference === 'crm-5' },
        { name: 'reference at a stage', query: { reference: 'crm-shared', stage_id: leadA }, keep: (e) => e.reference === 'crm-shared' && e.stage === leadA },
        { name: 'with click IDs (fbc counts)', query: { client_id: a, has_click_id: true }, keep: (e) => e.client === a && e.click },
        { name: 'without click IDs', query: { has_click_id: false }, keep: (e) => !e.click },
        {
          name: 'received time, from inclusive, before exclusive',
          query: { client_id: a, received_from: at(10 * 60_000).toISOString(), received_before: at(20 * 60_000).toISOString() },
          keep: (e) => e.client === a && e.ms >= 10 * 60_000 && e.ms < 20 * 60_000,
        },
        {
          name: 'everything at once',
          query: { client_id: a, stage_id: leadA, source: 'webhook', has_click_id: false, received_from: at(5 * 60_000).toISOString() },
          keep: (e) => e.client === a && e.stage === leadA && e.source === 'webhook' && !e.click && e.ms >= 5 * 60_000,
        },
      ];
      for (const { name, query, keep } of cases) {
        const { forward, backward } = await walk((cursor) => store.events.search({ ...query, limit: 3, ...(cursor ? { cursor } : {}) }), (e) => e.id);
        expect(forward, name).toEqual(newestFirst(seeded.filter(keep)));
        expect(backward, name).toEqual(newestFirst(seeded.filter(keep)));
      }
    });

    it('stops a page at its scan limit when a filter no index narrows is rare, and goes on from there', async () => {
      const seeded = await seedEvents();
      const pixel = newestFirst(seeded.filter((e) => e.client === a && e.source === 'pixel'));
      const first = await store.events.search({ client_id: a, source: 'pixel', limit: 5, scan_limit: 6 });
      expect(first.rows.length).toBeLessThan(5);
      expect(first.scan).toEqual({ scanned: 6, scanned_to: expect.stringMatching(/^2026-03-02T/) });
      const { forward, backward } = await walk(
        (cursor) => store.events.search({ client_id: a, source: 'pixel', limit: 5, scan_limit: 6, ...(cursor ? { cursor } : {}) }),
        (e) => e.id,
      );
      expect(forward).toEqual(pixel);
      expect(backward).toEqual(pixel);
    });

    it('refuses a cursor it did not make, and reads an event only for its own client', async () => {
      const [e] = await seedEvents();
      await expect(store.events.search({ limit: 5, cursor: { after: "1'; DROP TABLE events; --" } })).rejects.toThrow(InvalidInputError);
      await expect(store.sends.search({ limit: 5, cursor: { before: '12' } })).rejects.toThrow(InvalidInputError);
      expect((await store.events.getOfClient(e!.id, e!.client))?.id).toBe(e!.id);
      expect(await store.events.getOfClient(e!.id, e!.client === a ? b : a)).toBeUndefined();
      expect(await store.events.getOfClient('missing', a)).toBeUndefined();
    });

    /** Audit records for 8 events of A and 4 of B on every platform, at spread times. */
    async function seedSends(): Promise<Array<AuditRecord & { n: number; ms: number }>> {
      const events: Array<{ id: string; client: string; stage: string }> = [];
      for (let i = 0; i < 12; i++) {
        const client = i % 3 === 2 ? b : a;
        const stage = client === b ? leadB : leadA;
        const event = newEvent(stage, client, { reference: `s-${i}` });
        await store.events.admit(event, NOW);
        events.push({ id: event.id, client, stage });
      }
      const claimed = await store.outbox.claim({ owner: 'seed', now: NOW, cutoff: NOW, leaseUntil: at(HOUR), limit: 100, retriesOnly: false });
      const records: Array<AuditRecord & { n: number; ms: number }> = [];
      const statuses = ['sent', 'sent', 'failed', 'skipped', 'retrying', 'dead'] as const;
      let n = 0;
      for (const row of claimed.sort((x, y) => x.id - y.id)) {
        const event = events.find((e) => e.id === row.event_id)!;
        // Three attempts share each minute: the id orders them.
        const ms = 60_000 * Math.floor(n / 3);
        records.push({
          n,
          ms,
          outbox_id: row.id,
          event_id: row.event_id,
          client_id: event.client,
          stage_id: event.stage,
          platform: row.platform,
          status: statuses[n % statuses.length]!,
          dedup_key: row.event_id,
          batch_size: 1,
          retry_count: 0,
          attempted_at: at(ms).toISOString(),
          dry_run: false,
          pass_id: 'p',
        });
        n++;
      }
      // Committed out of time order, as two workers would: the list is by attempt time.
      const shuffled = [...records].sort((x, y) => (x.n % 2) - (y.n % 2) || x.n - y.n);
      for (const r of shuffled) {
        const { n: _n, ms: _ms, ...record } = r;
        await store.outbox.commit({ owner: 'seed', now: NOW, updates: [], records: [record as never] });
      }
      return records;
    }

    it('pages the audit log by attempt time with every filter, alone and together', async () => {
      const records = await seedSends();
      const ids = async (query: Record<string, unknown>) => {
        const seen = await walk((cursor) => store.sends.search({ ...query, limit: 4, ...(cursor ? { cursor } : {}) }), (s) => `${s.event_id}/${s.platform}/${s.attempted_at}`);
        expect(seen.backward).toEqual(seen.forward);
        return seen.forward;
      };
      // Ties in time are ordered by id, which here follows commit order: check the set per minute and the time order.
      const expectSame = async (name: string, query: Record<string, unknown>, keep: (r: (typeof records)[number]) => boolean) => {
        const got = await ids(query);
        const want = records.filter(keep);
        expect([...got].sort(), name).toEqual(want.map((r) => `${r.event_id}/${r.platform}/${r.attempted_at}`).sort());
        const times = got.map((k) => String(k).split('/')[2]!);
        expect(times, name).toEqual([...times].sort().reverse());
      };
      await expectSame('all', {}, () => true);
      await expectSame('client', { client_id: a }, (r) => r.client_id === a);
      await expectSame('status', { status: 'failed' }, (r) => r.status === 'failed');
      await expectSame('client and status', { client_id: b, status: 'sent' }, (r) => r.client_id === b && r.status === 'sent');
      await expectSame('platform', { platform: 'google' }, (r) => r.platform === 'google');
      await expectSame('client, status and platform', { client_id: a, status: 'sent', platform: 'meta' }, (r) => r.client_id === a && r.status === 'sent' && r.platform === 'meta');
      const event = records[4]!.event_id;
      await expectSame('event', { event_id: event }, (r) => r.event_id === event);
      await expectSame('event of another client', { event_id: event, client_id: records[4]!.client_id === a ? b : a }, () => false);
      await expectSame(
        'time range, from inclusive, before exclusive',
        { attempted_from: at(3 * 60_000).toISOString(), attempted_before: at(6 * 60_000).toISOString() },
        (r) => r.ms >= 3 * 60_000 && r.ms < 6 * 60_000,
      );
      const page = await store.sends.search({ client_id: a, limit: 2 });
      expect(page.rows[0]).toMatchObject({ client_id: a, dry_run: false, batch_size: 1, pass_id: 'p', error_message: null });
    });

    it('lists the rows a pass would claim now without leasing them, and reads rows by id and by events', async () => {
      const events: NewEvent[] = [];
      for (let i = 0; i < 4; i++) {
        const e = newEvent(i === 3 ? leadB : leadA, i === 3 ? b : a, { reference: `d-${i}` });
        await store.events.admit(e, at(i === 2 ? HOUR : 0));
        events.push(e);
      }
      const due = await store.outbox.due({ now: at(60_000), limit: 100 });
      // Event 2 is due only in an hour.
      expect(new Set(due.map((d) => d.event_id))).toEqual(new Set([events[0]!.id, events[1]!.id, events[3]!.id]));
      expect(due.every((d) => d.status === 'pending' && d.attempts === 0)).toBe(true);
      expect((await store.outbox.due({ now: at(60_000), limit: 100, client_id: b })).map((d) => d.client_id)).toEqual(PLATFORM_IDS.map(() => b));
      expect(await store.outbox.due({ now: at(60_000), limit: 2 })).toHaveLength(2);
      // Listing leased nothing: a claim takes every due row.
      const claimed = await store.outbox.claim({ owner: 'x', now: at(60_000), cutoff: at(60_000), leaseUntil: at(HOUR), limit: 1, retriesOnly: false });
      const left = await store.outbox.due({ now: at(60_000), limit: 100 });
      expect(left).toHaveLength(3 * N - 1);
      expect(left.map((d) => d.id)).not.toContain(claimed[0]!.id);
      // A paused connection holds its rows back, as claims do.
      const meta = await store.connections.save({ id: 'con_m', client_id: a, platform: 'meta', settings: {}, secrets: null, secret_names: [] }, NOW);
      await store.connections.pause(meta.id, 'auth', NOW);
      expect((await store.outbox.due({ now: at(60_000), limit: 100 })).filter((d) => d.client_id === a && d.platform === 'meta')).toEqual([]);
      const rows = await store.outbox.forEvents([events[0]!.id, events[3]!.id, 'missing']);
      expect(rows.map((r) => [r.event_id, r.platform])).toEqual([
        ...PLATFORM_IDS.map((p) => [events[0]!.id, p]),
        ...PLATFORM_IDS.map((p) => [events[3]!.id, p]),
      ]);
      expect(await store.outbox.get(rows[N]!.id)).toMatchObject({ id: rows[N]!.id, event_id: events[3]!.id, client_id: b, status: 'pending', attempts: 0 });
      expect(await store.outbox.get(999_999)).toBeUndefined();
    });

    it('makes a failed or dead row due again with its audit record, once, keeping its first attempt', async () => {
      const event = newEvent(leadA, a, { reference: 'retry' });
      await store.events.admit(event, NOW);
      const claimed = await store.outbox.claim({ owner: 'p', now: NOW, cutoff: NOW, leaseUntil: at(HOUR), limit: 10, retriesOnly: false });
      const [meta, google, tiktok] = ['meta', 'google', 'tiktok'].map((p) => claimed.find((c) => c.platform === p)!);
      const first = at(1000).toISOString();
      await store.outbox.commit({
        owner: 'p',
        now: at(1000),
        updates: [
          { id: meta!.id, status: 'dead', attempts: 3, first_attempt_at: first, last_error: 'server_error: 503' },
          { id: google!.id, status: 'failed', attempts: 1, first_attempt_at: first, last_error: 'invalid' },
          { id: tiktok!.id, status: 'sent', attempts: 1, first_attempt_at: first },
        ],
        records: [],
      });
      expect((await store.outbox.get(meta!.id))?.finished_at).toBe(first);
      const record = (id: number, platform: 'meta' | 'google' | 'tiktok'): AuditRecord => ({
        outbox_id: id,
        event_id: event.id,
        client_id: a,
        stage_id: leadA,
        platform,
        status: 'retrying',
        reason: 'retry_requested',
        message: 'Retry requested in the dashboard by ada@agency.example.',
        dedup_key: event.id,
        retry_count: 3,
        attempted_at: at(HOUR).toISOString(),
        next_attempt_at: at(HOUR).toISOString(),
        dry_run: false,
      });
      expect(await store.outbox.retryNow({ id: meta!.id, now: at(HOUR), record: record(meta!.id, 'meta') })).toBe(true);
      expect(await store.outbox.get(meta!.id)).toMatchObject({ status: 'retrying', due_at: at(HOUR).toISOString(), attempts: 3, first_attempt_at: first, last_error: 'server_error: 503' });
      expect((await store.outbox.get(meta!.id))?.finished_at).toBeUndefined();
      // Already due again, or sent: nothing changes, nothing is recorded.
      expect(await store.outbox.retryNow({ id: meta!.id, now: at(HOUR), record: record(meta!.id, 'meta') })).toBe(false);
      expect(await store.outbox.retryNow({ id: tiktok!.id, now: at(HOUR), record: record(tiktok!.id, 'tiktok') })).toBe(false);
      expect(await store.outbox.retryNow({ id: google!.id, now: at(HOUR), record: record(google!.id, 'google') })).toBe(true);
      const log = await store.sends.search({ event_id: event.id, limit: 10 });
      expect(log.rows.map((s) => [s.platform, s.status, s.reason, s.batch_size, s.pass_id])).toEqual([
        ['google', 'retrying', 'retry_requested', null, null],
        ['meta', 'retrying', 'retry_requested', null, null],
      ]);
      // Each request counts in the overview's daily roll-up like any audit record, in the same transaction.
      const days = await store.stats.sendDays({ client_id: a, from: '2000-01-01', to: '2100-01-01' });
      expect(days.filter((d) => d.status === 'retrying').reduce((n, d) => n + d.count, 0)).toBe(2);
      // The next follow-up pass takes both.
      const retried = await store.outbox.claim({ owner: 'q', now: at(HOUR), cutoff: at(HOUR), leaseUntil: at(2 * HOUR), limit: 10, retriesOnly: true });
      expect(retried.map((c) => c.platform).sort()).toEqual(['google', 'meta']);
      expect(retried.find((c) => c.platform === 'meta')).toMatchObject({ attempts: 3, first_attempt_at: first });
    });

    it('reads each record as written, though its event, stage, dedup key, a standard message, its pass and request are stored once', async () => {
      const event = newEvent(leadA, a, { reference: 'compact' });
      await store.events.admit(event, NOW);
      const claimed = await store.outbox.claim({ owner: 'p', now: NOW, cutoff: NOW, leaseUntil: at(HOUR), limit: 10, retriesOnly: false });
      const row = (p: string) => claimed.find((c) => c.platform === p)!;
      const base = { event_id: event.id, client_id: a, stage_id: leadA, retry_count: 0, attempted_at: at(1000).toISOString(), dry_run: false, batch_size: 1, pass_id: 'p1' };
      const records: SendRecord[] = [
        // The sender's standard sentences, the event's own dedup key and stage.
        { ...base, outbox_id: row('microsoft').id, platform: 'microsoft', status: 'skipped', reason: 'no_connection', message: standardMessage('microsoft', 'skipped', 'no_connection')!, dedup_key: event.id },
        { ...base, outbox_id: row('google').id, platform: 'google', status: 'skipped', reason: 'dry_run', message: standardMessage('google', 'skipped', 'dry_run')!, dedup_key: event.id },
        // Another message for a reason that has a standard one, another dedup key, another stage, no message.
        { ...base, outbox_id: row('meta').id, platform: 'meta', status: 'skipped', reason: 'no_connection', message: 'The meta connection is incomplete.', dedup_key: 'crm-key', stage_id: leadB },
        { ...base, outbox_id: row('tiktok').id, platform: 'tiktok', status: 'sent', dedup_key: event.id, request_id: 'req-1' },
      ];
      // A later pass, the same request id: another request.
      const later = { ...base, outbox_id: row('tiktok').id, platform: 'tiktok' as const, status: 'sent' as const, dedup_key: event.id, request_id: 'req-1', pass_id: 'p2' };
      await store.outbox.commit({ owner: 'p', now: at(1000), updates: [], records });
      await store.outbox.commit({ owner: 'p', now: at(1000), updates: [], records: [later] });
      records.push(later);
      const log = await store.sends.search({ event_id: event.id, limit: 10 });
      const fields = (r: { event_id: string; platform: string; stage_id?: string | null; dedup_key: string | null; message?: string | null; pass_id?: string | null; request_id?: string | null }) =>
        [r.event_id, r.platform, r.stage_id ?? null, r.dedup_key, r.message ?? null, r.pass_id ?? null, r.request_id ?? null];
      expect(log.rows.map(fields).sort()).toEqual(records.map(fields).sort());
      expect((await store.sends.list({ client_id: a, limit: 10 })).map(fields).sort()).toEqual(records.map(fields).sort());
    });

    it("names a record's client by the client's small integer key, and reads and filters it by the client's id", async () => {
      const ea = newEvent(leadA, a, { reference: 'ka' });
      const eb = newEvent(leadB, b, { reference: 'kb' });
      await store.events.admit(ea, NOW);
      await store.events.admit(eb, NOW);
      const claimed = await store.outbox.claim({ owner: 'p', now: NOW, cutoff: NOW, leaseUntil: at(HOUR), limit: 10, retriesOnly: false });
      const records: SendRecord[] = claimed.map((c, i) => ({
        outbox_id: c.id, event_id: c.event_id, client_id: c.client_id, stage_id: c.client_id === a ? leadA : leadB, platform: c.platform,
        status: i % 2 === 0 ? 'sent' : 'failed', dedup_key: c.event_id, batch_size: claimed.length, retry_count: 0, attempted_at: at(1000 + i).toISOString(), dry_run: false, pass_id: 'p1',
      }));
      // A record of a client the store does not know keeps its id.
      records.push({ ...records[0]!, client_id: 'cli_unknown', attempted_at: at(5000).toISOString() });
      await store.outbox.commit({ owner: 'p', now: at(1000), updates: [], records });
      const keys = new Map((await engine.rows('clients')).map((c) => [String(c['id']), Number(c['key'])]));
      expect(new Set(keys.values()).size).toBe(keys.size);
      for (const key of keys.values()) expect(Number.isInteger(key) && key > 0).toBe(true);
      const stored = (await engine.rows('send_attempts')).map((r) => [r['client_id'], r['client_key'] === null ? null : Number(r['client_key'])]);
      expect(stored.sort()).toEqual(records.map((r) => (keys.has(r.client_id) ? [null, keys.get(r.client_id)!] : [r.client_id, null])).sort());

      const newestFirst = (of: (r: SendRecord) => boolean) =>
        records.filter(of).sort((x, y) => y.attempted_at.localeCompare(x.attempted_at)).map((r) => [r.event_id, r.platform, r.client_id, r.status]);
      const shown = (rows: Array<{ event_id: string; platform: string; client_id: string | null; status: string }>) => rows.map((r) => [r.event_id, r.platform, r.client_id, r.status]);
      expect(shown((await store.sends.search({ limit: 50 })).rows)).toEqual(newestFirst(() => true));
      for (const client of [a, b, 'cli_unknown']) {
        const mine = (r: SendRecord) => r.client_id === client && keys.has(client);
        expect(shown((await store.sends.search({ client_id: client, limit: 50 })).rows), client).toEqual(newestFirst(mine));
        expect(shown(await store.sends.list({ client_id: client, limit: 50 })), client).toEqual(newestFirst(mine));
        expect(shown((await store.sends.search({ client_id: client, status: 'failed', limit: 50 })).rows), client).toEqual(newestFirst((r) => mine(r) && r.status === 'failed'));
        expect(shown(await store.sends.list({ client_id: client, status: 'failed', limit: 50 })), client).toEqual(newestFirst((r) => mine(r) && r.status === 'failed'));
      }
      expect(shown((await store.sends.search({ event_id: eb.id, client_id: b, limit: 50 })).rows)).toEqual(newestFirst((r) => r.event_id === eb.id && r.client_id === b));
      // A new client takes the next key; the others keep theirs.
      const c = (await store.clients.create({ name: 'C' })).id;
      const after = new Map((await engine.rows('clients')).map((r) => [String(r['id']), Number(r['key'])]));
      for (const [id, key] of keys) expect(after.get(id)).toBe(key);
      expect(after.get(c)).toBeGreaterThan(Math.max(...keys.values()));
    });
  });
}
