import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, openDb, type Db } from '../src/db.js';
import { InvalidInputError, MigrationError } from '../src/errors.js';
import { createStore } from '../src/store/index.js';
import type { NewEvent, Store } from '../src/store/types.js';
import { hashToken, newEventId, randomBase62, tokenMatches } from '../src/tokens.js';
import { tempDir } from './helpers/harness.js';

let tmp: ReturnType<typeof tempDir>;
let db: Db;
let store: Store;
const now = () => new Date('2026-03-02T10:00:00.000Z');

beforeEach(() => {
  tmp = tempDir();
  db = openDb(join(tmp.dir, 'nested', 'dir', 'pruuv.db'));
  store = createStore(db, { now });
});
afterEach(() => {
  if (db.open) db.close();
  tmp.cleanup();
});

function newEvent(stageId: string, clientId: string, overrides: Partial<NewEvent> = {}): NewEvent {
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

describe('openDb', () => {
  it('creates the folder, turns on WAL and foreign keys and records the migrations', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const names = (db.prepare('SELECT name FROM schema_migrations').all() as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort());
  });

  it('runs each migration once across reopenings', () => {
    const file = db.name;
    db.close();
    db = openDb(file);
    expect((db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(
      readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).length,
    );
  });

  it('throws MigrationError naming the file and keeps earlier migrations', () => {
    const dir = join(tmp.dir, 'migrations');
    mkdirSync(dir);
    writeFileSync(join(dir, '001_ok.sql'), 'CREATE TABLE a (x INTEGER);');
    writeFileSync(join(dir, '002_bad.sql'), 'CREATE TABLE b (x INTEGER); CREATE TABLEX oops;');
    const file = join(tmp.dir, 'm.db');
    expect(() => openDb(file, { migrationsDir: dir })).toThrow(MigrationError);
    expect(() => openDb(file, { migrationsDir: dir })).toThrow(/002_bad\.sql/);
    writeFileSync(join(dir, '002_bad.sql'), 'CREATE TABLE b (x INTEGER);');
    const fixed = openDb(file, { migrationsDir: dir });
    expect((fixed.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[]).map((r) => r.name)).toEqual([
      '001_ok.sql',
      '002_bad.sql',
    ]);
    fixed.close();
  });
});

describe('store.clients', () => {
  it('creates a client with a site key and normalised origins', () => {
    const client = store.clients.create({ name: ' Acme ', origins: ['HTTPS://WWW.Example.com:443/', 'http://localhost:3000'] });
    expect(client).toEqual({
      id: expect.stringMatching(/^cli_[0-9A-Za-z]{16}$/),
      name: 'Acme',
      site_key: expect.stringMatching(/^site_[0-9A-Za-z]{16}$/),
      origins: ['http://localhost:3000', 'https://www.example.com'],
      created_at: '2026-03-02T10:00:00.000Z',
    });
    expect(store.clients.bySiteKey(client.site_key)).toEqual(client);
    expect(store.clients.get(client.id)).toEqual(client);
    expect(store.clients.list()).toEqual([client]);
  });

  const badOrigins = ['www.example.com', 'ftp://example.com', 'https://example.com/path', 'https://u:p@example.com', 'null'];
  for (const origin of badOrigins) {
    it(`rejects the origin ${origin} with a how-to-fix message`, () => {
      expect(() => store.clients.create({ name: 'A', origins: [origin] })).toThrow(InvalidInputError);
      expect(() => store.clients.create({ name: 'A', origins: [origin] })).toThrow(/scheme:\/\/host|http/);
    });
  }

  it('replaces origins and answers which origins any client lists', () => {
    const client = store.clients.create({ name: 'A', origins: ['https://a.example'] });
    expect(store.clients.anyAllowsOrigin('https://a.example')).toBe(true);
    expect(store.clients.setOrigins(client.id, ['https://b.example'])?.origins).toEqual(['https://b.example']);
    expect(store.clients.anyAllowsOrigin('https://a.example')).toBe(false);
    expect(store.clients.anyAllowsOrigin('https://b.example')).toBe(true);
    expect(store.clients.setOrigins('cli_missing', [])).toBeUndefined();
  });
});

describe('listing order', () => {
  // The store's clock is fixed: every row below is created in the same millisecond.
  it('lists clients and stages created in the same millisecond in creation order', () => {
    const clients = Array.from({ length: 6 }, (_, i) => store.clients.create({ name: `C${i}` }));
    expect(store.clients.list().map((c) => c.name)).toEqual(clients.map((c) => c.name));
    const stages = Array.from({ length: 6 }, (_, i) => store.stages.create({ client_id: clients[0]!.id, key: `k${i}`, name: `S${i}` }).stage);
    expect(store.stages.list().map((s) => s.key)).toEqual(stages.map((s) => s.key));
    expect(store.stages.list(clients[0]!.id).map((s) => s.key)).toEqual(stages.map((s) => s.key));
  });
});

describe('store.stages', () => {
  it('creates a stage with an unguessable id and returns the token once, storing only its hash', () => {
    const client = store.clients.create({ name: 'A' });
    const { stage, token } = store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
    expect(stage.id).toMatch(/^stg_[0-9A-Za-z]{22}$/);
    expect(token).toMatch(/^pwh_[0-9A-Za-z]{40}$/);
    expect(stage).not.toHaveProperty('token_hash');
    const row = db.prepare('SELECT * FROM stages WHERE id = ?').get(stage.id) as Record<string, unknown>;
    expect(Object.values(row)).not.toContain(token);
    expect(row['token_hash']).toBe(hashToken(token));
    db.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(db.name).toString('latin1')).not.toContain(token);
  });

  it('verifies the token and forgets it on rotation', () => {
    const client = store.clients.create({ name: 'A' });
    const { stage, token } = store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
    expect(store.stages.verifyToken(stage.id, token)).toBe(true);
    expect(store.stages.verifyToken(stage.id, `${token}x`)).toBe(false);
    expect(store.stages.verifyToken('stg_missing', token)).toBe(false);
    const rotated = store.stages.rotateToken(stage.id)!;
    expect(rotated).not.toBe(token);
    expect(store.stages.verifyToken(stage.id, token)).toBe(false);
    expect(store.stages.verifyToken(stage.id, rotated)).toBe(true);
    expect(store.stages.rotateToken('stg_missing')).toBeUndefined();
  });

  const badInputs: { name: string; key: string; stageName: string; client?: string; message: RegExp }[] = [
    { name: 'an upper-case key', key: 'Lead', stageName: 'Lead', message: /lower-case/ },
    { name: 'a key with spaces', key: 'new lead', stageName: 'Lead', message: /lower-case/ },
    { name: 'an empty name', key: 'lead', stageName: ' ', message: /name/ },
    { name: 'an unknown client', key: 'lead', stageName: 'Lead', client: 'cli_missing', message: /create it first/ },
  ];
  for (const { name, key, stageName, client, message } of badInputs) {
    it(`rejects ${name}`, () => {
      const c = store.clients.create({ name: 'A' });
      expect(() => store.stages.create({ client_id: client ?? c.id, key, name: stageName })).toThrow(message);
    });
  }

  it('rejects a second stage with the same key for a client', () => {
    const c = store.clients.create({ name: 'A' });
    store.stages.create({ client_id: c.id, key: 'lead', name: 'Lead' });
    expect(() => store.stages.create({ client_id: c.id, key: 'lead', name: 'Lead 2' })).toThrow(/already exists/);
  });

  it('lists, finds by key and keeps event-name overrides', () => {
    const a = store.clients.create({ name: 'A' });
    const b = store.clients.create({ name: 'B' });
    const lead = store.stages.create({ client_id: a.id, key: 'lead', name: 'Lead' }).stage;
    store.stages.create({ client_id: b.id, key: 'lead', name: 'Lead' });
    store.stages.setEventNames(lead.id, { meta: 'Lead', tiktok: ' SubmitForm ', google_conversion_action_id: '' });
    expect(store.stages.byKey(a.id, 'lead')?.event_names).toEqual({ meta: 'Lead', tiktok: 'SubmitForm' });
    expect(store.stages.list(a.id).map((s) => s.id)).toEqual([lead.id]);
    expect(store.stages.list()).toHaveLength(2);
  });
});

describe('cached clients and stages', () => {
  /** A second connection and store on the same file: another process, e.g. `pruuv stages rotate-token`. */
  function otherProcess(): { store: Store; db: Db } {
    const otherDb = openDb(db.name);
    return { store: createStore(otherDb, { now }), db: otherDb };
  }

  /** The next turn of the event loop: the store reads other connections' changes once per turn. */
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('refuses a token rotated by another connection from the next turn on', async () => {
    const client = store.clients.create({ name: 'A' });
    const { stage, token } = store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
    expect(store.stages.verifyToken(stage.id, token)).toBe(true);
    const other = otherProcess();
    try {
      const rotated = other.store.stages.rotateToken(stage.id)!;
      await nextTurn();
      expect(store.stages.verifyToken(stage.id, token)).toBe(false);
      expect(store.stages.verifyToken(stage.id, rotated)).toBe(true);
    } finally {
      other.db.close();
    }
  });

  it('sees event names, origins and stages another connection changes', async () => {
    const client = store.clients.create({ name: 'A', origins: ['https://a.example'] });
    const lead = store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' }).stage;
    expect(store.stages.get(lead.id)?.event_names).toEqual({});
    expect(store.stages.byKey(client.id, 'lead')?.event_names).toEqual({});
    expect(store.clients.bySiteKey(client.site_key)?.origins).toEqual(['https://a.example']);
    expect(store.clients.anyAllowsOrigin('https://b.example')).toBe(false);
    expect(store.stages.byKey(client.id, 'sale')).toBeUndefined();
    const other = otherProcess();
    try {
      other.store.stages.setEventNames(lead.id, { meta: 'SubmitApplication' });
      other.store.clients.setOrigins(client.id, ['https://b.example']);
      other.store.stages.create({ client_id: client.id, key: 'sale', name: 'Sale' });
    } finally {
      other.db.close();
    }
    await nextTurn();
    expect(store.stages.get(lead.id)?.event_names).toEqual({ meta: 'SubmitApplication' });
    expect(store.stages.byKey(client.id, 'lead')?.event_names).toEqual({ meta: 'SubmitApplication' });
    expect(store.clients.bySiteKey(client.site_key)?.origins).toEqual(['https://b.example']);
    expect(store.clients.anyAllowsOrigin('https://a.example')).toBe(false);
    expect(store.clients.anyAllowsOrigin('https://b.example')).toBe(true);
    expect(store.stages.byKey(client.id, 'sale')?.name).toBe('Sale');
  });

  it('sees its own changes at once', () => {
    const client = store.clients.create({ name: 'A', origins: ['https://a.example'] });
    const lead = store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' }).stage;
    expect(store.clients.bySiteKey(client.site_key)?.origins).toEqual(['https://a.example']);
    expect(store.stages.byKey(client.id, 'lead')?.event_names).toEqual({});
    store.clients.setOrigins(client.id, ['https://b.example']);
    store.stages.setEventNames(lead.id, { tiktok: 'SubmitForm' });
    expect(store.clients.bySiteKey(client.site_key)?.origins).toEqual(['https://b.example']);
    expect(store.stages.get(lead.id)?.event_names).toEqual({ tiktok: 'SubmitForm' });
    expect(store.stages.byKey(client.id, 'lead')?.event_names).toEqual({ tiktok: 'SubmitForm' });
  });
});

describe('store.events.admit', () => {
  let clientId: string;
  let stageId: string;
  beforeEach(() => {
    clientId = store.clients.create({ name: 'A' }).id;
    stageId = store.stages.create({ client_id: clientId, key: 'lead', name: 'Lead' }).stage.id;
  });

  it('stores the event and its three outbox rows', () => {
    const event = newEvent(stageId, clientId, { clicks: { gclid: { value: 'g' } }, demographics: { gender: 'f' } });
    const result = store.events.admit(event, now());
    expect(result).toEqual({ status: 'stored', event: { ...event, received_at: '2026-03-02T10:00:00.000Z' } });
    expect(store.events.get(event.id)).toEqual({ ...event, received_at: '2026-03-02T10:00:00.000Z' });
    expect(store.outbox.forEvent(event.id).map((r) => ({ platform: r.platform, status: r.status, attempts: r.attempts }))).toEqual([
      { platform: 'meta', status: 'pending', attempts: 0 },
      { platform: 'google', status: 'pending', attempts: 0 },
      { platform: 'tiktok', status: 'pending', attempts: 0 },
    ]);
  });

  it('stores nothing when the outbox write fails', () => {
    db.exec("CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox WHEN NEW.platform = 'tiktok' BEGIN SELECT RAISE(ABORT, 'outbox down'); END");
    const event = newEvent(stageId, clientId);
    expect(() => store.events.admit(event, now())).toThrow(/outbox down/);
    expect(store.events.get(event.id)).toBeUndefined();
    expect((db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n).toBe(0);
  });

  it('answers a known id as duplicate_event_id', () => {
    const event = newEvent(stageId, clientId);
    store.events.admit(event, now());
    expect(store.events.admit({ ...event, reference: 'other' }, new Date(now().getTime() + 3_600_000))).toEqual({
      status: 'duplicate_event_id',
      event_id: event.id,
    });
  });

  it('lists newest first, filtered and limited', () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const e = newEvent(stageId, clientId, { reference: `r${i}` });
      store.events.admit(e, new Date(now().getTime() + i * 1000));
      ids.push(e.id);
    }
    expect(store.events.list({ client_id: clientId, limit: 2 }).map((e) => e.id)).toEqual([ids[4], ids[3]]);
    expect(store.events.list({ stage_id: 'stg_other' })).toEqual([]);
    expect(store.events.list({})).toHaveLength(5);
  });

  it('lists by each filter and by both, newest first', () => {
    const otherClient = store.clients.create({ name: 'B' }).id;
    const otherStage = store.stages.create({ client_id: otherClient, key: 'lead', name: 'Lead' }).stage.id;
    const sale = store.stages.create({ client_id: clientId, key: 'sale', name: 'Sale' }).stage.id;
    const stored: { id: string; stage: string; client: string }[] = [];
    [stageId, otherStage, sale, stageId, otherStage, sale].forEach((stage, i) => {
      const client = stage === otherStage ? otherClient : clientId;
      const e = newEvent(stage, client, { reference: `r${i}` });
      store.events.admit(e, new Date(now().getTime() + i * 1000));
      stored.push({ id: e.id, stage, client });
    });
    const newest = [...stored].reverse();
    const ids = (events: { id: string }[]) => events.map((e) => e.id);
    expect(ids(store.events.list({}))).toEqual(ids(newest));
    expect(ids(store.events.list({ limit: 2 }))).toEqual(ids(newest.slice(0, 2)));
    expect(ids(store.events.list({ client_id: clientId }))).toEqual(ids(newest.filter((e) => e.client === clientId)));
    expect(ids(store.events.list({ client_id: otherClient, limit: 1 }))).toEqual([newest.find((e) => e.client === otherClient)!.id]);
    expect(ids(store.events.list({ stage_id: sale }))).toEqual(ids(newest.filter((e) => e.stage === sale)));
    expect(ids(store.events.list({ stage_id: sale, client_id: clientId, limit: 1 }))).toEqual([newest.find((e) => e.stage === sale)!.id]);
    expect(store.events.list({ stage_id: sale, client_id: otherClient })).toEqual([]);
  });
});

describe('the stage quota', () => {
  const HOUR = 3_600_000;
  let quotaDb: Db;
  let quotaStore: Store;
  let clientId: string;
  let stageId: string;
  beforeEach(() => {
    quotaDb = openDb(join(tmp.dir, 'quota.db'));
    quotaStore = createStore(quotaDb, { now, perHour: 3 });
    clientId = quotaStore.clients.create({ name: 'A' }).id;
    stageId = quotaStore.stages.create({ client_id: clientId, key: 'lead', name: 'Lead' }).stage.id;
  });
  afterEach(() => {
    if (quotaDb.open) quotaDb.close();
  });
  const at = (ms: number) => new Date(now().getTime() + ms);
  const admitRef = (s: Store, reference: string, ms: number) => s.events.admit(newEvent(stageId, clientId, { reference }), at(ms)).status;

  it('refuses the event beyond the quota and frees a slot when the oldest leaves the hour', () => {
    expect([admitRef(quotaStore, 'a', 0), admitRef(quotaStore, 'b', 1000), admitRef(quotaStore, 'c', 2000)]).toEqual(['stored', 'stored', 'stored']);
    expect(quotaStore.events.admit(newEvent(stageId, clientId, { reference: 'd' }), at(HOUR - 1))).toEqual({
      status: 'rate_limited',
      retry_after_seconds: 1,
    });
    expect(admitRef(quotaStore, 'd', HOUR + 1)).toBe('stored');
    expect(admitRef(quotaStore, 'e', HOUR + 2)).toBe('rate_limited');
  });

  /** Stores b and c through a second connection on the same file (another process). */
  function otherConnectionStoresTwo(): void {
    const otherDb = openDb(quotaDb.name);
    try {
      const other = createStore(otherDb, { now, perHour: 3 });
      expect(admitRef(other, 'b', 1000)).toBe('stored');
      expect(admitRef(other, 'c', 2000)).toBe('stored');
    } finally {
      otherDb.close();
    }
  }

  it('counts events another connection stored (single admissions)', () => {
    expect(admitRef(quotaStore, 'a', 0)).toBe('stored');
    otherConnectionStoresTwo();
    expect(admitRef(quotaStore, 'd', 3000)).toBe('rate_limited');
  });

  it('counts events another connection stored (grouped admissions)', async () => {
    const admitGrouped = async (reference: string, ms: number) =>
      (await quotaStore.events.admitGrouped(newEvent(stageId, clientId, { reference }), at(ms))).status;
    expect(await admitGrouped('a', 0)).toBe('stored');
    otherConnectionStoresTwo();
    expect(await admitGrouped('d', 3000)).toBe('rate_limited');
  });

  it('counts again when the clock goes back to an hour it has not counted', () => {
    expect(admitRef(quotaStore, 'a', 0)).toBe('stored');
    expect(admitRef(quotaStore, 'b', 0)).toBe('stored');
    // An hour later a and b have left the window: c, then d (counted again from here).
    expect(admitRef(quotaStore, 'c', HOUR + 10)).toBe('stored');
    expect(admitRef(quotaStore, 'd', HOUR + 20)).toBe('stored');
    // Back in the first hour, a, b, c and d are all in the window.
    expect(admitRef(quotaStore, 'e', 5)).toBe('rate_limited');
  });
});

describe('tokens', () => {
  it('draws base62 characters only', () => {
    expect(randomBase62(2000)).toMatch(/^[0-9A-Za-z]{2000}$/);
  });

  it('makes event ids that are time-ordered UUID v7s', () => {
    const ids = [newEventId(1_700_000_000_000), newEventId(1_700_000_000_001), newEventId(1_800_000_000_000)];
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]!.replace(/-/g, '').slice(0, 12)).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
    expect(newEventId(1_700_000_000_000)).not.toBe(ids[0]);
  });

  it('matches a token against its hash only', () => {
    expect(tokenMatches('pwh_a', hashToken('pwh_a'))).toBe(true);
    expect(tokenMatches('pwh_b', hashToken('pwh_a'))).toBe(false);
    expect(tokenMatches('pwh_a', 'not-hex')).toBe(false);
  });
});
