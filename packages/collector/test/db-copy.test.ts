/**
 * `pruuv db copy`: an install on SQLite, with events, sends, an audit log, Google diagnostics
 * and encrypted connections, moved into an empty PostgreSQL database and read back there.
 */
import { newTestDatabase } from '@pruuv/testkit/database';
import type { TestDatabase } from '@pruuv/testkit/postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { PLATFORM_IDS } from '@pruuv/sender';
import { memoryOutput } from '../src/cli/output.js';
import { runCli } from '../src/cli/program.js';
import { createConnections } from '../src/domain/connections.js';
import { CopyError, copySqliteToPostgres } from '../src/store/copy.js';
import { openPostgresStore } from '../src/store/postgres/index.js';
import { sendEnv, type SendEnv } from './send-helpers.js';

let env: SendEnv | undefined;
let db: TestDatabase | undefined;
afterEach(async () => {
  await env?.close();
  await db?.drop();
  env = undefined;
  db = undefined;
});

describe('pruuv db copy', () => {
  it('copies every table, keeps ids, hashes and ciphertexts, and the copy reads back the same', async () => {
    env = await sendEnv();
    const { token } = await env.store.stages.create({ client_id: env.client.id, key: 'sale', name: 'Sale' });
    await env.store.users.create({ email: 'ada@example.com', role: 'client', client_id: env.client.id, password_hash: 'scrypt$17$8$1$c2FsdA$a2V5' }, new Date());
    for (let i = 0; i < 5; i++) env.addEvent();
    env.addEvent({ clicks: {} }); // skipped everywhere: no click id
    await env.pass();
    env.fakes.script('meta', [{ kind: 'status', status: 503 }]);
    env.addEvent();
    await env.pass(); // a Meta retry waits in the outbox
    // Beacons held for their missing browser signals: one still held, one released; throttle counts.
    const held = env.addEvent({ source: 'pixel', held_reason: 'bot_user_agent' });
    env.addEvent({ source: 'pixel', held_reason: 'no_fetch_metadata' });
    await env.store.events.release({ ids: [held.id] }, new Date('2030-01-01T00:00:00.000Z'));
    await env.store.throttles.record([{ client_id: env.client.id, scope: 'address', count: 40 }], new Date('2026-03-02T10:00:00.000Z'));
    await env.store.pixelOrigins.seen(env.client.id, 'https://www.shop.example', new Date('2026-11-20T09:59:00.000Z'));
    // A connection made with "Connect": what it knows of its grant.
    const googleConnection = (await env.store.connections.list()).find((c) => c.platform === 'google')!;
    await env.store.oauth.saveGrant({ connection_id: googleConnection.id, granted_at: '2026-11-20T09:00:00.000Z', access_expires_at: '2026-11-20T10:00:00.000Z', user_action_by: '2026-11-27T09:00:00.000Z', scopes: ['https://www.googleapis.com/auth/adwords'] });
    // Audit records name their client by its key, which need not follow the order the copy reads clients in.
    env.db.prepare('UPDATE send_attempts SET client_key = 7 WHERE client_key = (SELECT key FROM clients WHERE id = ?)').run(env.client.id);
    env.db.prepare('UPDATE clients SET key = 7 WHERE id = ?').run(env.client.id);
    // Fields frozen at a first attempt (as Microsoft's adapter writes them) travel with their row.
    const frozen = '{"name":"Offline purchases","hashes":true}';
    env.db.prepare("UPDATE outbox SET frozen_fields = ? WHERE id = (SELECT MIN(id) FROM outbox WHERE platform = 'microsoft')").run(frozen);
    // Beacons whose user agent, receive time, browser clock and click times are stored once (src/store/event-row.ts),
    // and a row in the form written before that (every value inline): PostgreSQL keeps the receive time as an instant.
    const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
    env.clock.advance(123); // a receive time with milliseconds, made from received_ms on the way
    const at = env.clock.now().toISOString();
    const beacons = [CHROME, CHROME, 'Mozilla/5.0 (iPhone)'].map((ua) => env!.addEvent({ source: 'pixel', user_agent: ua, client_time: at, data_timestamp: at }));
    expect(beacons.map((b) => b.received_at)).toEqual([at, at, at]);
    expect(env.db.prepare('SELECT received_at, client_time, data_timestamp FROM events WHERE id = ?').get(beacons[0]!.id)).toEqual({ received_at: '', client_time: '', data_timestamp: '' });
    env.db
      .prepare(`INSERT INTO events (id, client_id, stage_id, stage_key, source, reference, consent, received_at, received_ms, client_time, user_agent, demographics)
        VALUES ('e-inline', ?, ?, 'lead', 'pixel', 'inline', 'granted', '2026-11-20T09:00:00.000Z', ?, '2026-11-20T09:00:00.000Z', ?, '{}')`)
      .run(env.client.id, beacons[0]!.stage_id, Date.parse('2026-11-20T09:00:00.000Z'), CHROME);
    expect(env.db.prepare('SELECT COUNT(*) FROM user_agents').pluck().get()).toBe(2);
    // Hashes: 32 bytes in this version's rows, hex text in rows written before; hex on PostgreSQL.
    const hashed = env.addEvent({ email_sha256: 'e'.repeat(64), email_sha256_microsoft: '0123456789abcdef'.repeat(4), phone_sha256: 'f'.repeat(64) });
    env.db.prepare("UPDATE events SET email_sha256 = ? WHERE id = 'e-inline'").run('a'.repeat(64));
    expect(env.db.prepare('SELECT typeof(email_sha256) FROM events WHERE id IN (?, ?) ORDER BY id = ?').pluck().all(hashed.id, 'e-inline', hashed.id)).toEqual(['text', 'blob']);
    db = await newTestDatabase();

    const out = memoryOutput(true);
    const code = await runCli(['db', 'copy', '--db', env.dbFile, '--to', db.url, '--json'], {
      env: {},
      stdout: { write: (t: string) => out.write(t.trimEnd()) },
      stderr: { write: () => true },
    });
    expect(code).toBe(0);
    const report = JSON.parse(out.text) as { tables: Array<{ table: string; rows: number }>; total: number };
    const rows = Object.fromEntries(report.tables.map((t) => [t.table, t.rows]));
    const sqliteCount = (table: string) => (env!.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    for (const table of ['clients', 'client_origins', 'stages', 'users', 'connections', 'pixel_origins', 'user_agents', 'events', 'outbox', 'send_attempts', 'send_runs', 'google_request_status', 'daily_events', 'daily_sends', 'beacon_throttles', 'oauth_grants']) {
      expect(rows[table], table).toBe(sqliteCount(table));
    }
    // No Microsoft connection: the passes removed the Microsoft rows of the 7 events they took, unrecorded.
    expect(rows).toMatchObject({ clients: 1, stages: 2, connections: 3, pixel_origins: 1, user_agents: 2, events: 14, outbox: 13 * PLATFORM_IDS.length - 7, send_attempts: 7 * (PLATFORM_IDS.length - 1), google_request_status: 2, beacon_throttles: 1, oauth_grants: 1 });

    const pg = await openPostgresStore(db.url);
    try {
      expect(await pg.events.list({ limit: 100 })).toEqual(await env.store.events.list({ limit: 100 }));
      for (const b of beacons) expect(await pg.events.get(b.id)).toEqual(b);
      expect(await pg.events.get(hashed.id)).toEqual(hashed);
      expect((await pg.events.get('e-inline'))?.email_sha256).toBe('a'.repeat(64));
      expect(await pg.events.get('e-inline')).toMatchObject({ received_at: '2026-11-20T09:00:00.000Z', client_time: '2026-11-20T09:00:00.000Z', user_agent: CHROME });
      expect((await pg.pool.query<{ user_agent_key: number | null }>('SELECT user_agent_key FROM events WHERE user_agent_key IS NOT NULL AND user_agent IS NULL')).rows).toHaveLength(3);
      expect(await pg.events.heldCounts()).toEqual(await env.store.events.heldCounts());
      expect((await pg.events.get(held.id))?.released_at).toBe('2030-01-01T00:00:00.000Z');
      expect(await pg.throttles.counts(new Date(0))).toEqual([{ client_id: env.client.id, address: 40, site: 0 }]);
      expect(await pg.sends.list({ limit: 1000 })).toEqual(await env.store.sends.list({ limit: 1000 }));
      // A client's records, by the key copied with it; no record stores the client's id.
      const mine = await env.store.sends.list({ client_id: env.client.id, limit: 1000 });
      expect(mine).toHaveLength(7 * (PLATFORM_IDS.length - 1));
      expect(await pg.sends.list({ client_id: env.client.id, limit: 1000 })).toEqual(mine);
      expect((await pg.sends.search({ client_id: env.client.id, limit: 1000 })).rows).toEqual((await env.store.sends.search({ client_id: env.client.id, limit: 1000 })).rows);
      expect(await pg.pool.query('SELECT DISTINCT client_id, client_key FROM send_attempts').then((r) => r.rows)).toEqual([{ client_id: null, client_key: 7 }]);
      expect(await pg.googleRequests.list({ limit: 10 })).toEqual(await env.store.googleRequests.list({ limit: 10 }));
      // The roll-ups come along, so the overview's figures are the same on both.
      const days = { client_id: env.client.id, from: '2000-01-01', to: '2100-01-01' };
      expect(await pg.stats.eventDays(days)).toEqual(await env.store.stats.eventDays(days));
      expect(await pg.stats.sendDays(days)).toEqual(await env.store.stats.sendDays(days));
      expect((await pg.stats.sendDays(days)).reduce((n, d) => n + d.count, 0)).toBe(7 * (PLATFORM_IDS.length - 1));
      expect(await pg.stages.list()).toEqual(await env.store.stages.list());
      expect(await pg.clients.list()).toEqual(await env.store.clients.list());
      expect(await pg.pixelOrigins.list()).toEqual(await env.store.pixelOrigins.list());
      // Connections keep when they were last used.
      const connections = await env.store.connections.list();
      expect(connections.every((c) => c.last_used_at !== undefined)).toBe(true);
      expect(await pg.connections.list()).toEqual(connections);
      expect(await pg.users.byEmail('ada@example.com')).toEqual(await env.store.users.byEmail('ada@example.com'));
      expect(await pg.oauth.grants()).toEqual(await env.store.oauth.grants());
      // Tokens still verify (hashes copied), credentials still open with the same key (ciphertexts copied).
      const sale = (await pg.stages.list()).find((s) => s.key === 'sale')!;
      expect(await pg.stages.verifyToken(sale.id, token)).toBe(true);
      expect((await createConnections(pg).load(env.client.id, 'meta', env.ring))?.connection).toMatchObject({ platform: 'meta' });
      // The pending retry is still due, and the sequences continue after the copied ids.
      const frozenRow = env.db.prepare('SELECT id FROM outbox WHERE frozen_fields IS NOT NULL').get() as { id: number };
      expect(await pg.pool.query('SELECT id, frozen_fields FROM outbox WHERE frozen_fields IS NOT NULL').then((r) => r.rows)).toEqual([{ id: String(frozenRow.id), frozen_fields: frozen }]);
      // Outbox rows read the same on both sides; their client is their event's, stored as NULL there too.
      const eventIds = (await env.store.events.list({ limit: 100 })).map((e) => e.id);
      expect(await pg.outbox.forEvents(eventIds)).toEqual(await env.store.outbox.forEvents(eventIds));
      expect((await pg.outbox.forEvents(eventIds)).every((r) => r.client_id === env!.client.id)).toBe(true);
      expect(await pg.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE client_id IS NOT NULL').then((r) => r.rows[0]?.n)).toBe(0);
      const retry = (await pg.outbox.claim({ owner: 'pg', now: new Date('2030-01-01'), cutoff: new Date('2030-01-01'), leaseUntil: new Date('2030-01-02'), limit: 10, retriesOnly: true }));
      expect(retry.map((c) => c.platform)).toEqual(['meta']);
      const maxOutbox = Math.max(...(await env.store.outbox.forEvent((await env.store.events.list({ limit: 1 }))[0]!.id)).map((r) => r.id));
      const { stage } = await pg.stages.create({ client_id: env.client.id, key: 'later', name: 'Later' });
      const admitted = await pg.events.admit({ id: crypto.randomUUID(), client_id: env.client.id, stage_id: stage.id, stage_key: 'later', source: 'webhook', reference: 'after-copy', consent: 'unspecified', clicks: {}, utm: {}, demographics: {} }, new Date());
      expect(admitted.status).toBe('stored');
      const fresh = await pg.outbox.forEvent((admitted as { event: { id: string } }).event.id);
      expect(Math.min(...fresh.map((r) => r.id))).toBeGreaterThan(maxOutbox);
      // A user agent copied is found again, a new one added after the copied keys.
      for (const ua of [CHROME, 'curl/8.5.0']) {
        const beacon = await pg.events.admit({ id: crypto.randomUUID(), client_id: env.client.id, stage_id: stage.id, stage_key: 'later', source: 'pixel', reference: ua, consent: 'granted', clicks: {}, utm: {}, demographics: {}, user_agent: ua }, new Date());
        expect(beacon.status).toBe('stored');
        expect((await pg.events.get((beacon as { event: { id: string } }).event.id))?.user_agent).toBe(ua);
      }
      expect((await pg.pool.query('SELECT id, user_agent FROM user_agents ORDER BY id')).rows.map((r) => r.user_agent)).toEqual([CHROME, 'Mozilla/5.0 (iPhone)', 'curl/8.5.0']);
      // A client added after takes the key after the copied ones.
      const later = await pg.clients.create({ name: 'Later' });
      expect(await pg.pool.query('SELECT key FROM clients WHERE id = $1', [later.id]).then((r) => r.rows)).toEqual([{ key: 8 }]);
    } finally {
      await pg.close();
    }
  });

  it('refuses a database that already holds data, and changes nothing in it', async () => {
    env = await sendEnv({ connect: [] });
    env.addEvent();
    db = await newTestDatabase();
    const pg = await openPostgresStore(db.url);
    try {
      await pg.clients.create({ name: 'Already here' });
      await expect(copySqliteToPostgres(env.store, pg)).rejects.toThrow(CopyError);
      await expect(copySqliteToPostgres(env.store, pg)).rejects.toThrow(/already holds data \(clients\)/);
      expect((await pg.clients.list()).map((c) => c.name)).toEqual(['Already here']);
      expect(await pg.events.list({})).toEqual([]);
    } finally {
      await pg.close();
    }
  });
});
