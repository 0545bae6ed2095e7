import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationError, SchemaTooNewError } from '../../src/errors.js';
import { hashToken, newEventId, randomBase62, tokenMatches } from '../../src/domain/tokens.js';
import { createSqliteStore, migrate, openDb, SQLITE_MIGRATIONS_DIR, type Db, type SqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers/harness.js';
import { expectOldRecordsListed, NOW, newEvent, OLD_EVENT, OLD_RECORD_TIMES, OLD_ROW, oldRecordClient, oldRecordStatus, storeContract, type EngineHarness } from './contract.js';
import { eventSearchSql, RELEASE_ROWS_SQL, SOURCE_BY_EMAIL_SQL, SOURCE_BY_REFERENCE_SQL } from '../../src/store/sqlite/events.js';
import { DUE_SQL, outboxOfEventsSql, RETRY_NOW_SQL } from '../../src/store/sqlite/outbox.js';
import { OF_EVENT as AUDIT_OF_EVENT_SQL, sendSearchSql } from '../../src/store/sqlite/send-log.js';
import { REMOVABLE, ROWS_OF_LISTED, USER_AGENTS_PER_BATCH } from '../../src/store/sqlite/retention.js';
import type { EventSearch, SendSearch } from '../../src/store/types.js';
import type { Direction } from '../../src/store/keyset.js';

/** The SQLite engine for the contract: a file in a temp dir; "another process" is a second connection on it. */
function sqliteHarness(): EngineHarness {
  let tmp: ReturnType<typeof tempDir> | undefined;
  let file = '';
  let db: Db | undefined;
  return {
    name: 'sqlite',
    async open(options) {
      tmp = tempDir();
      file = join(tmp.dir, 'nested', 'dir', 'pruuv.db');
      db = openDb(file);
      return createSqliteStore(db, options);
    },
    async openOther(options) {
      return createSqliteStore(openDb(file), options);
    },
    // The store reads other connections' changes once per turn of the event loop.
    propagation: () => new Promise<void>((resolve) => setImmediate(resolve)),
    async breakOutbox(platform) {
      db!.exec(`CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox WHEN NEW.platform = '${platform}' BEGIN SELECT RAISE(ABORT, 'outbox down'); END`);
    },
    async rows(table) {
      return db!.prepare(`SELECT * FROM ${table}`).all() as Array<Record<string, unknown>>;
    },
    async backfillAgain() {
      // The audit records as the backfill met them (before 032 named their client by its id).
      db!.exec('UPDATE send_attempts SET client_id = (SELECT c.id FROM clients c WHERE c.key = send_attempts.client_key) WHERE client_id IS NULL');
      db!.exec("DROP TABLE daily_events; DROP TABLE daily_sends; DELETE FROM schema_migrations WHERE name = '008_daily_counts.sql'");
      expect(migrate(db!)).toEqual(['008_daily_counts.sql']);
    },
    async cleanup() {
      if (db?.open) db.close();
      tmp?.cleanup();
    },
  };
}

describe('SQLite store: the storage contract', () => {
  storeContract(sqliteHarness());
});

describe('SQLite store: the file', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Db;
  let store: SqliteStore;
  const now = () => NOW;
  beforeEach(() => {
    tmp = tempDir();
    db = openDb(join(tmp.dir, 'nested', 'dir', 'pruuv.db'));
    store = createSqliteStore(db, { now });
  });
  afterEach(() => {
    if (db.open) db.close();
    tmp.cleanup();
  });

  it('creates the folder, turns on WAL and foreign keys and records the migrations', () => {
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const names = (db.prepare('SELECT name FROM schema_migrations').all() as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(readdirSync(SQLITE_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort());
  });

  it('creates a new file in incremental auto-vacuum mode, so sweeps can give space back', () => {
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
  });

  it('runs each migration once across reopenings', () => {
    const file = db.name;
    db.close();
    db = openDb(file);
    expect((db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(
      readdirSync(SQLITE_MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).length,
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

  it('refuses a file migrated by a newer Pruuv, and writes nothing to it', () => {
    db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run('999_from_the_future.sql', NOW.toISOString());
    const file = db.name;
    db.close();
    const before = readFileSync(file);
    expect(() => openDb(file)).toThrow(SchemaTooNewError);
    expect(() => openDb(file)).toThrow(/newer version of Pruuv.*999_from_the_future\.sql/);
    expect(readFileSync(file).equals(before)).toBe(true);
    db = openDb(join(tmp.dir, 'fresh.db'));
  });

  it('migrates a file with sends to a schema that takes any registered platform, keeping every row and link', () => {
    // The file as it was before 006: migrations 001-005 only, with a connection, an outbox row and its audit row.
    const old = join(tmp.dir, 'old-migrations');
    mkdirSync(old);
    for (const f of readdirSync(SQLITE_MIGRATIONS_DIR).filter((n) => n < '006')) copyFileSync(join(SQLITE_MIGRATIONS_DIR, f), join(old, f));
    const file = join(tmp.dir, 'before-006.db');
    const before = openDb(file, { migrationsDir: old });
    before.exec(`INSERT INTO clients (id, name, site_key, created_at) VALUES ('cli_1', 'A', 'site_1', '2026-01-01T00:00:00.000Z');
      INSERT INTO stages (id, client_id, key, name, token_hash, created_at) VALUES ('stg_1', 'cli_1', 'lead', 'Lead', 'h', '2026-01-01T00:00:00.000Z');
      INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, consent)
        VALUES ('e1', 'cli_1', 'stg_1', 'lead', 'webhook', 'r', '2026-01-01T00:00:00.000Z', 0, 'granted');
      INSERT INTO connections (id, client_id, platform, settings, secrets, secret_names, status, created_at, updated_at)
        VALUES ('con_1', 'cli_1', 'meta', '{"pixel_id":"1"}', 'v1:x', '["access_token"]', 'paused', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
      INSERT INTO outbox (id, event_id, platform, status, due_at, attempts, created_at, updated_at)
        VALUES (7, 'e1', 'meta', 'sent', '2026-01-01T00:00:00.000Z', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
      INSERT INTO send_attempts (outbox_id, event_id, platform, attempted_at, status) VALUES (7, 'e1', 'meta', '2026-01-01T00:00:00.000Z', 'sent');`);
    expect(() => before.exec(`INSERT INTO connections (id, client_id, platform, created_at, updated_at) VALUES ('con_2', 'cli_1', 'microsoft', 'x', 'x')`)).toThrow(/CHECK/);
    before.close();

    const after = openDb(file);
    expect(after.prepare('SELECT id, status, secrets, secret_names FROM connections').all()).toEqual([{ id: 'con_1', status: 'paused', secrets: 'v1:x', secret_names: '["access_token"]' }]);
    expect(after.prepare('SELECT id, client_id, status FROM outbox').all()).toEqual([{ id: 7, client_id: 'cli_1', status: 'sent' }]);
    // The audit row still points at its outbox row: no ON DELETE SET NULL fired during the rebuild.
    expect(after.prepare('SELECT outbox_id FROM send_attempts').all()).toEqual([{ outbox_id: 7 }]);
    expect(after.pragma('foreign_keys', { simple: true })).toBe(1);
    after.exec(`INSERT INTO connections (id, client_id, platform, created_at, updated_at) VALUES ('con_2', 'cli_1', 'microsoft', 'x', 'x')`);
    // The outbox indexes came back (its client trigger came back too, and left with migration 027;
    // the triggers that check a row's event came with migration 031).
    const names = (after.prepare("SELECT name FROM sqlite_master WHERE tbl_name IN ('outbox', 'connections') AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name);
    expect(names.sort()).toEqual(['connections', 'connections_status', 'outbox', 'outbox_due', 'outbox_event_insert', 'outbox_event_update', 'outbox_leased']);
    after.close();
  });

  it('migrates a file with an audit log to reading an event\'s records through its outbox rows, keeping every record', async () => {
    // The file as it was before 017: an event, its outbox rows and their audit records, read by event id.
    const old = join(tmp.dir, 'before-017-migrations');
    mkdirSync(old);
    for (const f of readdirSync(SQLITE_MIGRATIONS_DIR).filter((n) => n < '017')) copyFileSync(join(SQLITE_MIGRATIONS_DIR, f), join(old, f));
    const file = join(tmp.dir, 'before-017.db');
    const before = openDb(file, { migrationsDir: old });
    before.exec(`INSERT INTO clients (id, name, site_key, created_at) VALUES ('cli_1', 'A', 'site_1', '2026-01-01T00:00:00.000Z');
      INSERT INTO stages (id, client_id, key, name, token_hash, created_at) VALUES ('stg_1', 'cli_1', 'lead', 'Lead', 'h', '2026-01-01T00:00:00.000Z');
      INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, consent)
        VALUES ('e1', 'cli_1', 'stg_1', 'lead', 'pixel', 'r', '2026-01-01T00:00:00.000Z', 0, 'granted');
      INSERT INTO outbox (id, event_id, client_id, platform, status, due_at, attempts, created_at, updated_at)
        VALUES (7, 'e1', 'cli_1', 'meta', 'sent', '2026-01-01T00:00:00.000Z', 2, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
               (8, 'e1', 'cli_1', 'tiktok', 'dead', '2026-01-01T00:00:00.000Z', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
      INSERT INTO send_attempts (outbox_id, event_id, client_id, platform, attempted_at, status) VALUES
        (7, 'e1', 'cli_1', 'meta', '2026-01-01T01:00:00.000Z', 'retrying'),
        (7, 'e1', 'cli_1', 'meta', '2026-01-01T02:00:00.000Z', 'sent'),
        (8, 'e1', 'cli_1', 'tiktok', '2026-01-01T01:00:00.000Z', 'dead');`);
    expect(before.prepare("SELECT name FROM sqlite_master WHERE name = 'send_attempts_event'").all()).toHaveLength(1);
    before.close();

    const after = openDb(file);
    const migrated = createSqliteStore(after, { now });
    const names = (after.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'send_attempts'").all() as { name: string }[]).map((r) => r.name);
    expect(names.sort()).toEqual([
      'send_attempts_client_status_time',
      'send_attempts_client_time',
      'send_attempts_outbox',
      'send_attempts_request',
      'send_attempts_status_time',
      'send_attempts_time',
    ]);
    // Every record is still there, found by its event, newest first.
    const listed = await migrated.sends.list({ event_id: 'e1', limit: 10 });
    expect(listed.map((r) => [r.platform, r.status, r.attempted_at])).toEqual([
      ['meta', 'sent', '2026-01-01T02:00:00.000Z'],
      ['tiktok', 'dead', '2026-01-01T01:00:00.000Z'],
      ['meta', 'retrying', '2026-01-01T01:00:00.000Z'],
    ]);
    expect((await migrated.sends.search({ event_id: 'e1', limit: 10 })).rows).toHaveLength(3);
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    after.close();
  });

  it('migrates a file to status indexes without the sent records and to requests stored once, and reads its records and touches as before', async () => {
    // The file as it was before 023: records that carry their stage, dedup key and standard message, an event both of whose touches are stored.
    const old = join(tmp.dir, 'before-023-migrations');
    mkdirSync(old);
    for (const f of readdirSync(SQLITE_MIGRATIONS_DIR).filter((n) => n < '023')) copyFileSync(join(SQLITE_MIGRATIONS_DIR, f), join(old, f));
    const file = join(tmp.dir, 'before-023.db');
    const before = openDb(file, { migrationsDir: old });
    const touch = JSON.stringify({ url: 'https://shop.example/?gclid=g1', ts: '2026-01-01T00:00:00.000Z', params: { gclid: 'g1' } });
    const noConnection = 'No microsoft connection for this client; add one in Connections.';
    before.exec(`INSERT INTO clients (id, name, site_key, created_at) VALUES ('cli_1', 'A', 'site_1', '2026-01-01T00:00:00.000Z');
      INSERT INTO stages (id, client_id, key, name, token_hash, created_at) VALUES ('stg_1', 'cli_1', 'lead', 'Lead', 'h', '2026-01-01T00:00:00.000Z');
      INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, consent, first_touch, last_touch)
        VALUES ('e1', 'cli_1', 'stg_1', 'lead', 'pixel', 'r', '2026-01-01T00:00:00.000Z', 0, 'granted', '${touch}', '${touch}');
      INSERT INTO outbox (id, event_id, client_id, platform, status, due_at, attempts, created_at, updated_at)
        VALUES (7, 'e1', 'cli_1', 'meta', 'sent', '2026-01-01T00:00:00.000Z', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
               (8, 'e1', 'cli_1', 'microsoft', 'skipped', '2026-01-01T00:00:00.000Z', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
               (9, 'e1', 'cli_1', 'tiktok', 'retrying', '2026-01-01T03:00:00.000Z', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
      INSERT INTO send_attempts (outbox_id, event_id, client_id, stage_id, platform, attempted_at, status, reason, message, dedup_key, pass_id, request_id) VALUES
        (7, 'e1', 'cli_1', 'stg_1', 'meta', '2026-01-01T01:00:00.000Z', 'sent', NULL, NULL, 'e1', 'pass-1', 'fbtrace-1'),
        (8, 'e1', 'cli_1', 'stg_1', 'microsoft', '2026-01-01T01:00:00.000Z', 'skipped', 'no_connection', '${noConnection}', 'e1', 'pass-1', NULL),
        (9, 'e1', 'cli_1', 'stg_1', 'tiktok', '2026-01-01T01:00:00.000Z', 'retrying', 'rate_limited', NULL, 'e1', 'pass-1', 'tt-1');`);
    before.close();

    const after = openDb(file);
    const migrated = createSqliteStore(after, { now });
    const indexes = Object.fromEntries(
      (after.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ('outbox_due', 'send_attempts_status_time', 'send_attempts_client_status_time')").all() as Array<{ name: string; sql: string }>).map((r) => [r.name, r.sql]),
    );
    expect(indexes['outbox_due']).toMatch(/WHERE status IN \('pending', 'retrying'\)$/);
    expect(indexes['send_attempts_status_time']).toMatch(/WHERE status <> 'sent'$/);
    expect(indexes['send_attempts_client_status_time']).toMatch(/WHERE status <> 'sent'$/);
    // The old records read as they were written, by status (through the partial indexes, or the time index for `sent`) and by event.
    const fields = (rows: Array<{ platform: string; status: string; stage_id: string | null; dedup_key: string | null; message: string | null; pass_id: string | null; request_id: string | null }>) =>
      rows.map((r) => [r.platform, r.status, r.stage_id, r.dedup_key, r.message, r.pass_id, r.request_id]);
    expect(fields((await migrated.sends.search({ status: 'skipped', limit: 10 })).rows)).toEqual([['microsoft', 'skipped', 'stg_1', 'e1', noConnection, 'pass-1', null]]);
    expect(fields((await migrated.sends.search({ client_id: 'cli_1', status: 'sent', limit: 10 })).rows)).toEqual([['meta', 'sent', 'stg_1', 'e1', null, 'pass-1', 'fbtrace-1']]);
    expect(fields(await migrated.sends.list({ status: 'retrying', limit: 10 }))).toEqual([['tiktok', 'retrying', 'stg_1', 'e1', null, 'pass-1', 'tt-1']]);
    expect((await migrated.sends.search({ event_id: 'e1', limit: 10 })).rows).toHaveLength(3);
    const event = await migrated.events.get('e1');
    expect(event?.last_touch).toEqual(JSON.parse(touch));
    expect(event?.first_touch).toEqual(JSON.parse(touch));
    // The due row is still claimable through the partial outbox_due.
    expect(await migrated.outbox.due({ now: new Date('2026-01-01T04:00:00.000Z'), limit: 10 })).toMatchObject([{ id: 9 }]);
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    after.close();
  });

  it("migrates a file whose outbox rows store their client to rows that read their event's, and reads the old rows as before", async () => {
    // The file as it was before 027: rows whose client the insert trigger filled.
    const old = join(tmp.dir, 'before-027-migrations');
    mkdirSync(old);
    for (const f of readdirSync(SQLITE_MIGRATIONS_DIR).filter((n) => n < '027')) copyFileSync(join(SQLITE_MIGRATIONS_DIR, f), join(old, f));
    const file = join(tmp.dir, 'before-027.db');
    const before = openDb(file, { migrationsDir: old });
    before.exec(`INSERT INTO clients (id, name, site_key, created_at) VALUES ('cli_1', 'A', 'site_1', '2026-01-01T00:00:00.000Z');
      INSERT INTO stages (id, client_id, key, name, token_hash, created_at) VALUES ('stg_1', 'cli_1', 'lead', 'Lead', 'h', '2026-01-01T00:00:00.000Z');
      INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, consent)
        VALUES ('e1', 'cli_1', 'stg_1', 'lead', 'webhook', 'r', '2026-01-01T00:00:00.000Z', 0, 'granted');
      INSERT INTO outbox (id, event_id, platform, status, due_at, attempts, created_at, updated_at)
        VALUES (7, 'e1', 'meta', 'sent', '2026-01-01T00:00:00.000Z', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z'),
               (8, 'e1', 'tiktok', 'pending', '2026-01-01T00:00:00.000Z', 0, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');`);
    expect(before.prepare('SELECT client_id FROM outbox ORDER BY id').all()).toEqual([{ client_id: 'cli_1' }, { client_id: 'cli_1' }]);
    before.close();

    const after = openDb(file);
    const migrated = createSqliteStore(after, { now });
    expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name = 'outbox_client_id'").all()).toEqual([]);
    // The old rows keep their client and read as before; a new event's rows store none and read the event's.
    expect(after.prepare('SELECT client_id FROM outbox ORDER BY id').all()).toEqual([{ client_id: 'cli_1' }, { client_id: 'cli_1' }]);
    expect((await migrated.outbox.forEvent('e1')).map((r) => [r.id, r.client_id, r.status, r.finished_at])).toEqual([
      [7, 'cli_1', 'sent', '2026-01-01T00:01:00.000Z'],
      [8, 'cli_1', 'pending', undefined],
    ]);
    const event = newEvent('stg_1', 'cli_1', { reference: 'new' });
    await migrated.events.admit(event, new Date('2026-01-01T00:00:00.000Z'));
    expect(after.prepare('SELECT DISTINCT client_id, created_at FROM outbox WHERE event_id = ?').all(event.id)).toEqual([{ client_id: null, created_at: '' }]);
    expect(after.prepare('SELECT DISTINCT created_at FROM outbox WHERE event_id = ?').all('e1')).toEqual([{ created_at: '2026-01-01T00:00:00.000Z' }]);
    const claimed = await migrated.outbox.claim({ owner: 'me', now: NOW, cutoff: NOW, leaseUntil: new Date(NOW.getTime() + 60_000), limit: 100, retriesOnly: false });
    expect(new Set(claimed.map((c) => c.client_id))).toEqual(new Set(['cli_1']));
    expect(claimed.map((c) => c.id)).toContain(8);
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    after.close();
  });

  it("migrates a file to an outbox keyed by its event's receive time, and reads every row and record back as before", async () => {
    // The file as it was before 031: rows keyed by (event_id, platform) of a pixel event (a random
    // version 4 id) and a held webhook event, in every state a row has, with audit records that name
    // their event through their row ('').
    const old = join(tmp.dir, 'before-031-migrations');
    mkdirSync(old);
    for (const f of readdirSync(SQLITE_MIGRATIONS_DIR).filter((n) => n < '031')) copyFileSync(join(SQLITE_MIGRATIONS_DIR, f), join(old, f));
    const file = join(tmp.dir, 'before-031.db');
    const before = openDb(file, { migrationsDir: old });
    const pixel = '3f2b8c1e-5a4d-4e6f-9b7a-0c1d2e3f4a5b';
    const t0 = Date.parse('2026-01-01T00:00:00.000Z');
    before.exec(`INSERT INTO clients (id, name, site_key, created_at) VALUES ('cli_1', 'A', 'site_1', '2026-01-01T00:00:00.000Z');
      INSERT INTO stages (id, client_id, key, name, token_hash, created_at) VALUES ('stg_1', 'cli_1', 'lead', 'Lead', 'h', '2026-01-01T00:00:00.000Z');
      INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, consent)
        VALUES ('${pixel}', 'cli_1', 'stg_1', 'lead', 'pixel', 'r1', '', ${t0}, 'granted');
      INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, received_at, received_ms, consent, held_reason)
        VALUES ('e-held', 'cli_1', 'stg_1', 'lead', 'webhook', 'r2', '', ${t0 + 5}, 'granted', 'bot');
      INSERT INTO outbox (id, event_id, client_id, platform, status, due_at, attempts, lease_owner, lease_until, last_error, created_at, updated_at, first_attempt_at, finished_at, frozen_fields)
        VALUES (7, '${pixel}', NULL, 'meta', 'sent', '', 1, NULL, NULL, NULL, '', '2026-01-01T00:01:00.000Z', '2026-01-01T00:01:00.000Z', '2026-01-01T00:01:00.000Z', NULL),
               (8, '${pixel}', 'cli_1', 'google', 'retrying', '2026-01-01T03:00:00.000Z', 1, NULL, NULL, 'HTTP 503', '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z', '2026-01-01T00:01:00.000Z', NULL, NULL),
               (9, '${pixel}', NULL, 'microsoft', 'pending', '2026-01-01T00:00:00.000Z', 0, 'pass-x', '2026-01-01T00:02:00.000Z', NULL, '', '2026-01-01T00:00:00.000Z', NULL, NULL, '{"goal":"lead"}'),
               (10, 'e-held', NULL, 'meta', 'held', '2026-01-01T00:00:00.005Z', 0, NULL, NULL, NULL, '', '2026-01-01T00:00:00.005Z', NULL, NULL, NULL);
      INSERT INTO send_attempts (outbox_id, event_id, client_id, platform, attempted_at, status, dedup_key, retry_count) VALUES
        (7, '', 'cli_1', 'meta', '2026-01-01T00:01:00.000Z', 'sent', '', 0),
        (8, '', 'cli_1', 'google', '2026-01-01T00:01:00.000Z', 'retrying', '', 0);`);
    const rowsBefore = before.prepare('SELECT * FROM outbox ORDER BY id').all();
    const recordsBefore = before.prepare('SELECT * FROM send_attempts ORDER BY id').all();
    const indexSql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox' AND sql IS NOT NULL ORDER BY name";
    const indexesBefore = before.prepare(indexSql).all();
    expect(indexesBefore.map((r) => (r as { name: string }).name)).toEqual(['outbox_due', 'outbox_leased']);
    before.close();

    const after = openDb(file);
    const migrated = createSqliteStore(after, { now });
    // Every row as it was, its event's receive time added; every record still names its row.
    expect(after.prepare('SELECT * FROM outbox ORDER BY id').all().map((r) => {
      const { event_ms, ...rest } = r as { event_ms: number };
      return rest;
    })).toEqual(rowsBefore);
    expect(after.prepare('SELECT o.event_ms = e.received_ms AS same FROM outbox o JOIN events e ON e.id = o.event_id').all()).toEqual(rowsBefore.map(() => ({ same: 1 })));
    // Every record as it was (but its client, which migration 032 turns into the client's key).
    const withoutClient = (r: unknown): Record<string, unknown> => {
      const { client_id: _id, client_key: _key, ...rest } = r as Record<string, unknown>;
      return rest;
    };
    expect(after.prepare('SELECT * FROM send_attempts ORDER BY id').all().map(withoutClient)).toEqual(recordsBefore.map(withoutClient));
    expect(after.prepare('SELECT DISTINCT client_id, client_key FROM send_attempts').all()).toEqual([{ client_id: null, client_key: 1 }]);
    expect(after.prepare(indexSql).all()).toEqual(indexesBefore);
    expect(after.prepare("SELECT sql FROM sqlite_master WHERE name = 'sqlite_autoindex_outbox_1'").all()).toEqual([{ sql: null }]);
    expect((after.pragma("index_info('sqlite_autoindex_outbox_1')") as Array<{ name: string }>).map((c) => c.name)).toEqual(['event_ms', 'event_id', 'platform']);
    // Read through the store as before: the rows (a finished row's due time from its event's receipt), the records, the due row, the held one.
    expect((await migrated.outbox.forEvent(pixel)).map((r) => [r.id, r.platform, r.status, r.due_at, r.client_id, r.lease_owner, r.last_error])).toEqual([
      [7, 'meta', 'sent', '2026-01-01T00:00:00.000Z', 'cli_1', undefined, undefined],
      [8, 'google', 'retrying', '2026-01-01T03:00:00.000Z', 'cli_1', undefined, 'HTTP 503'],
      [9, 'microsoft', 'pending', '2026-01-01T00:00:00.000Z', 'cli_1', 'pass-x', undefined],
    ]);
    expect((await migrated.outbox.forEvents(['e-held', pixel])).map((r) => r.id)).toEqual([7, 8, 9, 10]);
    expect((await migrated.sends.list({ event_id: pixel, limit: 10 })).map((r) => [r.event_id, r.platform, r.status])).toEqual([
      [pixel, 'google', 'retrying'],
      [pixel, 'meta', 'sent'],
    ]);
    expect((await migrated.sends.search({ event_id: pixel, limit: 10 })).rows).toHaveLength(2);
    expect((await migrated.outbox.due({ now: new Date('2026-01-01T04:00:00.000Z'), limit: 10 })).map((r) => r.id)).toEqual([9, 8]);
    // The held event's release reaches its row through the new key.
    expect(await migrated.events.release({ ids: ['e-held'] }, new Date('2026-01-01T05:00:00.000Z'))).toEqual(['e-held']);
    expect((await migrated.outbox.forEvent('e-held')).map((r) => [r.status, r.due_at])).toEqual([['pending', '2026-01-01T05:00:00.000Z']]);
    // New rows carry their event's receive time; a row naming an event that is not there, or not at that time, is refused.
    const event = newEvent('stg_1', 'cli_1', { reference: 'new' });
    await migrated.events.admit(event, new Date('2026-01-01T06:00:00.000Z'));
    expect(after.prepare('SELECT DISTINCT event_ms FROM outbox WHERE event_id = ?').all(event.id)).toEqual([{ event_ms: Date.parse('2026-01-01T06:00:00.000Z') }]);
    const orphan = "INSERT INTO outbox (event_ms, event_id, platform, status, due_at, created_at, updated_at) VALUES (?, ?, 'meta', 'pending', 'x', '', 'x')";
    expect(() => after.prepare(orphan).run(t0, 'nope')).toThrow(/FOREIGN KEY/);
    expect(() => after.prepare(orphan.replace("'meta'", "'tiktok'")).run(t0 + 1, pixel)).toThrow(/FOREIGN KEY/);
    expect(() => after.prepare("UPDATE events SET received_ms = received_ms + 1 WHERE id = ?").run(pixel)).toThrow(/FOREIGN KEY/);
    // Removing an event takes its rows (ON DELETE CASCADE, as before), and their records keep theirs unlinked (ON DELETE SET NULL).
    after.prepare('DELETE FROM events WHERE id = ?').run(pixel);
    expect(after.prepare('SELECT id FROM outbox ORDER BY id').all().map((r) => (r as { id: number }).id)).not.toContain(7);
    expect(after.prepare('SELECT COUNT(*) AS n FROM outbox WHERE event_id = ?').get(pixel)).toEqual({ n: 0 });
    expect(after.prepare('SELECT outbox_id FROM send_attempts ORDER BY id').all()).toEqual([{ outbox_id: null }, { outbox_id: null }]);
    expect(after.pragma('foreign_key_check')).toEqual([]);
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    after.close();
  });

  it('migrates a file to time indexes keyed by integer milliseconds, and lists and pages its records in the same order', async () => {
    // The file as it was before 028: records of two clients whose times do not follow their ids
    // (two workers), with ties in time, some `sent`, some not.
    const old = join(tmp.dir, 'before-028-migrations');
    mkdirSync(old);
    for (const f of readdirSync(SQLITE_MIGRATIONS_DIR).filter((n) => n < '028')) copyFileSync(join(SQLITE_MIGRATIONS_DIR, f), join(old, f));
    const file = join(tmp.dir, 'before-028.db');
    const before = openDb(file, { migrationsDir: old });
    before.exec(`INSERT INTO clients (id, name, site_key, created_at) VALUES ('cli_1', 'A', 'site_1', '2026-01-01T00:00:00.000Z'), ('cli_2', 'B', 'site_2', '2026-01-01T00:00:00.000Z');`);
    const times = ['2026-01-01T00:00:00.005Z', '2026-01-01T00:00:00.001Z', '2026-01-01T00:00:00.005Z', '2026-01-01T23:59:59.999Z', '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2025-12-31T23:59:59.999Z', '2026-01-01T00:00:00.005Z'];
    const insert = before.prepare(`INSERT INTO send_attempts (outbox_id, event_id, client_id, platform, attempted_at, status, retry_count)
      VALUES (NULL, ?, ?, 'meta', ?, ?, 0)`);
    times.forEach((t, i) => insert.run(`e${i}`, i % 2 === 0 ? 'cli_1' : 'cli_2', t, i % 3 === 0 ? 'failed' : 'sent'));
    const want = (keep: (i: number) => boolean) =>
      times
        .map((t, i) => ({ t, i, id: i + 1 }))
        .filter(({ i }) => keep(i))
        .sort((x, y) => Date.parse(y.t) - Date.parse(x.t) || y.id - x.id)
        .map(({ i }) => `e${i}`);
    before.close();

    const after = openDb(file);
    const migrated = createSqliteStore(after, { now });
    const sql = (after.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'send_attempts_%time'").all() as Array<{ sql: string }>).map((r) => r.sql);
    expect(sql).toHaveLength(4);
    for (const s of sql) expect(s).toContain("CAST(round(unixepoch(attempted_at, 'subsec') * 1000) AS INTEGER)");
    const walk = async (query: Omit<SendSearch, 'limit'>) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await migrated.sends.search({ ...query, limit: 2, ...(cursor !== undefined ? { cursor: { after: cursor } } : {}) });
        seen.push(...page.rows.map((r) => r.event_id));
        cursor = page.next;
      } while (cursor !== undefined);
      return seen;
    };
    expect(await walk({})).toEqual(want(() => true));
    expect(await walk({ client_id: 'cli_1' })).toEqual(want((i) => i % 2 === 0));
    expect(await walk({ status: 'failed' })).toEqual(want((i) => i % 3 === 0));
    expect(await walk({ client_id: 'cli_2', status: 'sent' })).toEqual(want((i) => i % 2 === 1 && i % 3 !== 0));
    expect(await walk({ attempted_from: '2026-01-01T00:00:00.001Z', attempted_before: '2026-01-02T00:00:00.000Z' })).toEqual(
      want((i) => times[i]! >= '2026-01-01T00:00:00.001Z' && times[i]! < '2026-01-02T00:00:00.000Z'),
    );
    expect((await migrated.sends.list({ limit: 100 })).map((r) => [r.event_id, r.attempted_at])).toEqual(want(() => true).map((e) => [e, times[Number(e.slice(1))]]));
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    after.close();
  });

  it("migrates a file whose audit records name their client by its id to the client's key, and reads and lists them as before", async () => {
    // The file as it was before 032: records of two clients, times not in id order, some `sent`,
    // some not, and one of a client the file does not know.
    const old = join(tmp.dir, 'before-032-migrations');
    mkdirSync(old);
    for (const f of readdirSync(SQLITE_MIGRATIONS_DIR).filter((n) => n < '032')) copyFileSync(join(SQLITE_MIGRATIONS_DIR, f), join(old, f));
    const file = join(tmp.dir, 'before-032.db');
    const before = openDb(file, { migrationsDir: old });
    before.exec(`INSERT INTO clients (id, name, site_key, created_at) VALUES ('cli_1', 'A', 'site_1', '2026-01-01T00:00:00.000Z'), ('cli_2', 'B', 'site_2', '2026-01-01T00:00:00.000Z');`);
    const times = OLD_RECORD_TIMES;
    const clientOf = oldRecordClient;
    const insert = before.prepare(`INSERT INTO send_attempts (outbox_id, event_id, client_id, stage_id, platform, attempted_at, status, reason, dedup_key, retry_count)
      VALUES (NULL, ?, ?, 'stg_x', 'meta', ?, ?, 'r', 'k', 0)`);
    times.forEach((t, i) => insert.run(`e${i}`, clientOf(i), t, oldRecordStatus(i)));
    const rowsBefore = before.prepare('SELECT * FROM send_attempts ORDER BY id').all();
    before.close();

    const after = openDb(file);
    const migrated = createSqliteStore(after, { now });
    // Every record as it was, its client now named by its key (but the one the file does not know).
    const keys = new Map((after.prepare('SELECT id, key FROM clients').all() as Array<{ id: string; key: number }>).map((c) => [c.id, c.key]));
    expect([...keys.values()].sort()).toEqual([1, 2]);
    const stored = after.prepare('SELECT * FROM send_attempts ORDER BY id').all() as Array<Record<string, unknown>>;
    expect(stored.map((r) => [r['client_id'], r['client_key']])).toEqual(times.map((_, i) => (i === 6 ? ['cli_gone', null] : [null, keys.get(clientOf(i))])));
    const idOf = new Map([...keys].map(([id, key]) => [key, id]));
    expect(stored.map(({ client_key, ...r }) => ({ ...r, client_id: r['client_id'] ?? idOf.get(client_key as number) }))).toEqual(rowsBefore);
    for (const name of ['send_attempts_client_time', 'send_attempts_client_status_time']) {
      expect((after.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(name) as { sql: string }).sql).toMatch(/ON send_attempts\(client_key, /);
    }
    await expectOldRecordsListed(migrated);
    // A client added after takes the next key.
    const added = await migrated.clients.create({ name: 'C' });
    expect((after.prepare('SELECT key FROM clients WHERE id = ?').get(added.id) as { key: number }).key).toBe(3);
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    after.close();
  });

  it('reads an event written before user agents, receive times, click times and hashes were stored once as it was', async () => {
    const old = join(tmp.dir, 'before-025-migrations');
    mkdirSync(old);
    for (const f of readdirSync(SQLITE_MIGRATIONS_DIR).filter((n) => n < '025')) copyFileSync(join(SQLITE_MIGRATIONS_DIR, f), join(old, f));
    const file = join(tmp.dir, 'before-025.db');
    const before = openDb(file, { migrationsDir: old });
    before.exec(`INSERT INTO clients (id, name, site_key, created_at) VALUES ('cli_1', 'A', 'site_1', '2026-01-01T00:00:00.000Z');
      INSERT INTO stages (id, client_id, key, name, token_hash, created_at) VALUES ('stg_1', 'cli_1', 'lead', 'Lead', 'h', '2026-01-01T00:00:00.000Z');`);
    before.prepare(`INSERT INTO events (${Object.keys(OLD_ROW).join(', ')}) VALUES (${Object.keys(OLD_ROW).map((k) => `@${k}`).join(', ')})`).run(OLD_ROW);
    before.close();

    const after = openDb(file);
    const migrated = createSqliteStore(after, { now });
    expect(await migrated.events.get('e-old')).toEqual(OLD_EVENT);
    // A new event with the same user agent stores it once; the old row keeps its text and reads the same.
    const fresh = newEvent('stg_1', 'cli_1', { reference: 'new', source: 'pixel', user_agent: OLD_EVENT.user_agent! });
    expect((await migrated.events.admit(fresh, NOW)).status).toBe('stored');
    expect(after.prepare('SELECT user_agent FROM user_agents').pluck().all()).toEqual([OLD_EVENT.user_agent]);
    expect(after.prepare("SELECT user_agent, user_agent_key FROM events WHERE id = 'e-old'").get()).toEqual({ user_agent: OLD_EVENT.user_agent, user_agent_key: null });
    expect((await migrated.events.get(fresh.id))?.user_agent).toBe(OLD_EVENT.user_agent);
    expect(await migrated.events.get('e-old')).toEqual(OLD_EVENT);
    // Its hashes stay hex text, new ones are 32 bytes; the attribution join finds the old row by its email hash.
    expect(after.prepare("SELECT typeof(email_sha256) FROM events WHERE id = 'e-old'").pluck().get()).toBe('text');
    const later = newEvent('stg_1', 'cli_1', { reference: 'later', email_sha256: OLD_EVENT.email_sha256!, phone_sha256: 'd'.repeat(64) });
    const admitted = await migrated.events.admit(later, NOW);
    expect(admitted.status === 'stored' && admitted.event.inherited).toEqual({ from_event_id: 'e-old', fields: ['gclid', 'ttclid'] });
    expect(after.prepare('SELECT typeof(email_sha256), length(phone_sha256) FROM events WHERE id = ?').raw().get(later.id)).toEqual(['blob', 32]);
    expect(await migrated.events.get(later.id)).toMatchObject({ email_sha256: OLD_EVENT.email_sha256, phone_sha256: 'd'.repeat(64) });
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    after.close();
  });

  it('removes user agents no event names and no admission used since the cutoff, a batch at a time, and keeps the others', async () => {
    const cutoff = new Date(NOW.getTime() - 180 * 86_400_000);
    const insert = db.prepare('INSERT INTO user_agents (user_agent, last_ms) VALUES (?, ?)');
    // Orphans an admission left (added for an event it then refused), old and recent.
    db.transaction(() => {
      for (let i = 0; i < USER_AGENTS_PER_BATCH + 5; i++) insert.run(`old orphan ${i}`, cutoff.getTime() - 1000 - i);
    })();
    insert.run('recent orphan', cutoff.getTime());
    const client = await store.clients.create({ name: 'A' });
    const { stage } = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
    // An old user agent an event still names (its event is kept: its rows are due).
    await store.events.admit(newEvent(stage.id, client.id, { source: 'pixel', user_agent: 'named' }), new Date(cutoff.getTime() - 86_400_000));
    db.prepare("UPDATE user_agents SET last_ms = ? WHERE user_agent = 'named'").run(cutoff.getTime() - 86_400_000);
    const names = () => db.prepare('SELECT user_agent FROM user_agents ORDER BY user_agent').pluck().all();
    expect((await store.retention.prune({ before: cutoff, limit: 10 })).user_agents).toBe(USER_AGENTS_PER_BATCH);
    expect((await store.retention.prune({ before: cutoff, limit: 10 })).user_agents).toBe(5);
    expect((await store.retention.prune({ before: cutoff, limit: 10 })).user_agents).toBe(0);
    expect(names()).toEqual(['named', 'recent orphan']);
  });

  it('never writes a webhook token to the file', async () => {
    const client = await store.clients.create({ name: 'A' });
    const { token } = await store.stages.create({ client_id: client.id, key: 'lead', name: 'Lead' });
    db.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(db.name).toString('latin1')).not.toContain(token);
    expect(readFileSync(db.name).toString('latin1')).toContain(hashToken(token));
  });

  it('counts events another connection stored on the single-transaction path', async () => {
    db.close();
    db = openDb(join(tmp.dir, 'quota.db'));
    store = createSqliteStore(db, { now, perHour: 3 });
    const clientId = (await store.clients.create({ name: 'A' })).id;
    const stageId = (await store.stages.create({ client_id: clientId, key: 'lead', name: 'Lead' })).stage.id;
    const at = (ms: number) => new Date(NOW.getTime() + ms);
    expect(store.events.admitNow(newEvent(stageId, clientId, { reference: 'a' }), at(0)).status).toBe('stored');
    const other = createSqliteStore(openDb(db.name), { now, perHour: 3 });
    expect((await other.events.admit(newEvent(stageId, clientId, { reference: 'b' }), at(1000))).status).toBe('stored');
    expect((await other.events.admit(newEvent(stageId, clientId, { reference: 'c' }), at(2000))).status).toBe('stored');
    await other.close();
    expect(store.events.admitNow(newEvent(stageId, clientId, { reference: 'd' }), at(3000)).status).toBe('rate_limited');
  });
});

/** Every subset of the given filters. */
function subsets<T extends object>(filters: T): Array<Partial<T>> {
  const keys = Object.keys(filters) as Array<keyof T>;
  return Array.from({ length: 2 ** keys.length }, (_, mask) =>
    Object.fromEntries(keys.filter((_, i) => mask & (1 << i)).map((k) => [k, filters[k]])) as Partial<T>,
  );
}

describe('SQLite store: the dashboard lists read through indexes', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Db;
  beforeEach(async () => {
    tmp = tempDir();
    db = openDb(join(tmp.dir, 'plans.db'));
    const store = createSqliteStore(db, { now: () => NOW, perHour: 1_000_000 });
    // Two clients, a few thousand events and audit rows, statistics gathered: the planner's own
    // choice would be free to change with them; every statement pins its index.
    const clients = [await store.clients.create({ name: 'A' }), await store.clients.create({ name: 'B' })];
    const stages = await Promise.all(clients.map(async (c) => (await store.stages.create({ client_id: c.id, key: 'lead', name: 'Lead' })).stage));
    db.transaction(() => {
      for (let i = 0; i < 3000; i++) {
        const stage = stages[i % 2]!;
        store.events.admitNow(newEvent(stage.id, stage.client_id, { reference: `r${i}`, source: i % 7 === 0 ? 'pixel' : 'webhook' }), new Date(NOW.getTime() + i * 1000));
      }
      db.exec(`INSERT INTO send_attempts (outbox_id, event_id, client_key, stage_id, platform, attempted_at, status, dedup_key, retry_count)
        SELECT o.id, o.event_id, c.key, e.stage_id, o.platform, e.received_at,
          CASE WHEN o.id % 50 = 0 THEN 'failed' ELSE 'sent' END, o.event_id, 0
        FROM outbox o JOIN events e ON e.id = o.event_id JOIN clients c ON c.id = e.client_id`);
    })();
    db.exec('ANALYZE');
  });
  afterEach(() => {
    if (db.open) db.close();
    tmp.cleanup();
  });

  function plan(sql: string, params: Record<string, unknown> | unknown[]): string[] {
    const statement = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
    return ((Array.isArray(params) ? statement.all(...params) : statement.all(params)) as Array<{ detail: string }>).map((r) => r.detail);
  }
  /** A scan of a whole table (no index), or a sort of what an index read: neither stops at the page's limit. */
  const unbounded = (details: string[]) => details.filter((d) => (/^SCAN (events|send_attempts|outbox)\b/.test(d) && !/USING (COVERING )?INDEX/.test(d)) || /TEMP B-TREE FOR ORDER BY/.test(d));
  const ways: Array<[Direction, boolean]> = [['older', false], ['older', true], ['newer', true]];

  it('reads every combination of event filters in the list order, through the index of its shape', () => {
    const all: Omit<EventSearch, 'limit'> = {
      client_id: 'cli_x',
      stage_id: 'stg_x',
      source: 'pixel',
      reference: 'crm-1',
      received_from: NOW.toISOString(),
      received_before: new Date(NOW.getTime() + 3_600_000).toISOString(),
      has_click_id: true,
    };
    let checked = 0;
    for (const filters of subsets(all)) {
      for (const [direction, cursor] of ways) {
        const query = { ...filters, limit: 50 };
        const { sql, params } = eventSearchSql(query, direction, cursor);
        const details = plan(sql, { ...params, t: NOW.getTime(), id: 10, n: 51 });
        const index =
          query.reference !== undefined ? 'events_client_reference' : query.stage_id !== undefined ? 'events_stage_time' : query.client_id !== undefined ? 'events_client_time' : 'events_time';
        expect(details.join('\n'), JSON.stringify(query)).toMatch(new RegExp(`(SEARCH|SCAN) events USING INDEX ${index}\\b`));
        // A reference of any client: each client's few events of that reference, then sorted.
        const sorted = query.reference !== undefined && query.client_id === undefined;
        expect(unbounded(details).filter((d) => !(sorted && /TEMP B-TREE FOR ORDER BY/.test(d))), `${JSON.stringify(query)}\n${details.join('\n')}`).toEqual([]);
        checked++;
      }
    }
    expect(checked).toBe(2 ** 7 * 3);
  });

  it('reads every combination of audit log filters in the list order, through the index of its shape', () => {
    const all: Omit<SendSearch, 'limit'> = {
      client_id: 'cli_x',
      platform: 'meta',
      status: 'failed',
      event_id: 'e1',
      attempted_from: NOW.toISOString(),
      attempted_before: new Date(NOW.getTime() + 3_600_000).toISOString(),
    };
    // `sent` records are in no status index (most of the log): the time index of the shape, the status checked on its rows.
    const sentToo = [...subsets(all), ...subsets(all).filter((f) => f.status !== undefined).map((f) => ({ ...f, status: 'sent' as const }))];
    for (const filters of sentToo) {
      for (const [direction, cursor] of ways) {
        const query = { ...filters, limit: 50 };
        const { sql, params } = sendSearchSql(query, direction, cursor);
        const details = plan(sql, { ...params, t: NOW.getTime(), id: 10, n: 51 });
        const index =
          query.event_id !== undefined
            ? 'send_attempts_outbox'
            : query.client_id !== undefined && query.status !== undefined && query.status !== 'sent'
              ? 'send_attempts_client_status_time'
              : query.status !== undefined && query.status !== 'sent'
                ? 'send_attempts_status_time'
                : query.client_id !== undefined
                  ? 'send_attempts_client_time'
                  : 'send_attempts_time';
        expect(details.join('\n'), JSON.stringify(query)).toMatch(new RegExp(`(SEARCH|SCAN) send_attempts USING INDEX ${index}\\b`));
        // An event's records through its outbox rows' ids, those through the outbox's key (migration 031).
        if (query.event_id !== undefined) expect(details.join('\n'), JSON.stringify(query)).toMatch(/SEARCH o USING COVERING INDEX sqlite_autoindex_outbox_1 \(event_ms=\? AND event_id=\?\)/);
        // A client's records: a search from the client's key (looked up once), not a walk of every client's.
        if (index.includes('client')) expect(details.join('\n'), JSON.stringify(query)).toMatch(new RegExp(`SEARCH send_attempts USING INDEX ${index} \\(client_key=\\?`));
        // An event's attempts are a few rows, sorted.
        const sorted = query.event_id !== undefined;
        expect(unbounded(details).filter((d) => !(sorted && /TEMP B-TREE FOR ORDER BY/.test(d))), `${JSON.stringify(query)}\n${details.join('\n')}`).toEqual([]);
      }
    }
  });

  it("finds the attribution join's source through the index of its key, an email hash in either form", () => {
    const byReference = plan(SOURCE_BY_REFERENCE_SQL, ['cli_x', 'crm-1']);
    expect(byReference[0]).toMatch(/^SEARCH events USING INDEX events_client_reference \(client_id=\? AND reference=\?\)/);
    expect(unbounded(byReference)).toEqual([]);
    for (const hash of [Buffer.alloc(32, 1), 'a'.repeat(64)]) {
      const byEmail = plan(SOURCE_BY_EMAIL_SQL, ['cli_x', hash]);
      expect(byEmail[0]).toMatch(/^SEARCH events USING INDEX events_client_email \(client_id=\? AND email_sha256=\?\)/);
      expect(unbounded(byEmail)).toEqual([]);
    }
  });

  it('lists the due rows, makes a row due again and reads rows by event through indexes', () => {
    const now = new Date(NOW.getTime() + 3_600_000).toISOString();
    for (const clientId of [null, 'cli_x']) {
      const details = plan(DUE_SQL, { now, client_id: clientId, limit: 200 });
      expect(details.join('\n')).toMatch(/SEARCH o USING INDEX outbox_due/);
      expect(unbounded(details)).toEqual([]);
    }
    expect(plan(RETRY_NOW_SQL, { id: 1, now }).join('\n')).toMatch(/SEARCH outbox USING INTEGER PRIMARY KEY/);
  });

  /** An event's outbox rows read through the outbox's key, its receive time first (migration 031), and nothing scanned. */
  const byOutboxKey = /SEARCH (o|outbox) USING (COVERING )?INDEX sqlite_autoindex_outbox_1 \(event_ms=\? AND event_id=\?/;
  const scans = (details: string[]) => details.filter((d) => /^SCAN (e|o|events|outbox|send_attempts)\b/.test(d) && !/USING (COVERING )?INDEX/.test(d));

  it("reads an event's outbox rows through the outbox's key, the event's receive time first, in every statement that looks them up", () => {
    const ids = ['a', 'b'];
    const list = JSON.stringify(ids);
    const before = { before_ms: NOW.getTime() + 3_600_000, before: new Date(NOW.getTime() + 3_600_000).toISOString(), limit: 100 };
    const statements: Array<[string, string, Record<string, unknown> | unknown[]]> = [
      // The dashboard's event page (forEvent) and the send lists' rows of the events listed (forEvents).
      ['an event\'s rows', `${outboxOfEventsSql('?', 'o.*')} ORDER BY o.id`, ['a']],
      ['the rows of the events listed', `${outboxOfEventsSql('?, ?', 'o.*')} ORDER BY o.id`, ids],
      // The release of a held event.
      ['the release', RELEASE_ROWS_SQL, ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', NOW.getTime(), 'a']],
      // The audit log filtered by event (`pruuv sends list --event`, the dashboard's list), through the rows' ids.
      ['the audit records of an event', `SELECT id FROM send_attempts WHERE ${AUDIT_OF_EVENT_SQL}`, { event_id: 'a' }],
      // The retention sweep: whether an event may go, its audit records, its rows.
      ['the events retention may remove', `SELECT e.id ${REMOVABLE} ORDER BY e.received_ms LIMIT @limit`, before],
      ['their audit records', `DELETE FROM send_attempts WHERE outbox_id IN (${ROWS_OF_LISTED}) RETURNING request_key`, [list]],
      ['their rows', `DELETE FROM outbox WHERE id IN (${ROWS_OF_LISTED})`, [list]],
    ];
    for (const [what, sql, params] of statements) {
      const details = plan(sql, params);
      expect(details.join('\n'), what).toMatch(byOutboxKey);
      expect(scans(details), `${what}\n${details.join('\n')}`).toEqual([]);
    }
    // The triggers that keep the link to the event (its removal takes its rows, its key does not
    // change while rows name it) go through the key too: their statements, OLD's columns as parameters.
    const triggers = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ('outbox_event_delete', 'outbox_event_key') ORDER BY name").all() as Array<{ name: string; sql: string }>;
    expect(triggers.map((t) => t.name)).toEqual(['outbox_event_delete', 'outbox_event_key']);
    for (const t of triggers) {
      const statement = t.name === 'outbox_event_delete' ? /BEGIN\s+(DELETE FROM outbox [^;]+);/.exec(t.sql)?.[1] : /WHEN EXISTS \((SELECT 1 FROM outbox [^)]+)\)/.exec(t.sql)?.[1];
      expect(statement, t.sql).toBeDefined();
      const details = plan(statement!.replace(/OLD\.\w+/g, '?'), [NOW.getTime(), 'a']);
      expect(details.join('\n'), t.name).toMatch(byOutboxKey);
      expect(scans(details), t.name).toEqual([]);
    }
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
