/**
 * Send passes end to end: real SQLite file, the strict fake platforms over
 * real HTTP, an injected clock. The fault matrix walks the retry table
 * (packages/sender/README.md "Retry table") through whole passes.
 */
import { PLATFORM_IDS, type Platform } from '@pruuv/sender';
import type { FakeRoute, FakeStep } from '@pruuv/fakes';
import { afterEach, describe, expect, it } from 'vitest';
import { listSends } from '../src/domain/send-lists.js';
import { AUDIT_MS_SQLITE_SQL, clientKeySql } from '../src/store/audit-row.js';
import { OF_EVENT } from '../src/store/sqlite/send-log.js';
import { auditRows, outboxRow, receipts, sendEnv, type SendEnv } from './send-helpers.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let env: SendEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

/** The fake's ledger of a platform keyed by event id (Microsoft's is keyed by click: see send-microsoft.test.ts). */
function countedPlatform(platform: Platform): 'meta' | 'google' | 'tiktok' {
  if (platform === 'microsoft') throw new Error('Microsoft counts by click, not by event id');
  return platform;
}

interface RetryCase {
  name: string;
  platform: Platform;
  route: FakeRoute;
  step: FakeStep;
  reason: string;
  error_code?: string;
  http_status?: number;
  /** The next attempt is at least this long after the failed one. */
  minDelayMs?: number;
  /** ... and exactly this long (Retry-After beats the 30 s jittered backoff). */
  exactDelayMs?: number;
}

// Every transient row of the retry table, through a whole pass: retrying, then sent at next_attempt_at.
const RETRY_CASES: RetryCase[] = [
  { name: 'HTTP 500', platform: 'meta', route: 'meta', step: { kind: 'status', status: 500 }, reason: 'server_error', http_status: 500 },
  { name: '429 with Retry-After', platform: 'tiktok', route: 'tiktok', step: { kind: 'retry-after', status: 429, seconds: 600 }, reason: 'rate_limited', http_status: 429, exactDelayMs: 600_000 },
  { name: 'a hang (timeout)', platform: 'meta', route: 'meta', step: { kind: 'hang' }, reason: 'timeout', error_code: 'TIMEOUT' },
  { name: 'a connection reset', platform: 'tiktok', route: 'tiktok', step: { kind: 'reset' }, reason: 'network', error_code: 'NETWORK' },
  { name: 'Meta code 17', platform: 'meta', route: 'meta', step: { kind: 'meta-error', code: 17 }, reason: 'rate_limited', error_code: '17', minDelayMs: 15 * MINUTE },
  { name: 'Meta code 4', platform: 'meta', route: 'meta', step: { kind: 'meta-error', code: 4 }, reason: 'rate_limited', error_code: '4', minDelayMs: 15 * MINUTE },
  { name: 'Meta code 613', platform: 'meta', route: 'meta', step: { kind: 'meta-error', code: 613 }, reason: 'rate_limited', error_code: '613', minDelayMs: 15 * MINUTE },
  { name: 'TikTok code 40100', platform: 'tiktok', route: 'tiktok', step: { kind: 'tiktok-code', code: 40100 }, reason: 'rate_limited', error_code: '40100' },
  { name: 'Google RESOURCE_EXHAUSTED', platform: 'google', route: 'dataManager', step: { kind: 'google-rpc', httpStatus: 429, status: 'RESOURCE_EXHAUSTED' }, reason: 'rate_limited', http_status: 429 },
  { name: 'Google INTERNAL', platform: 'google', route: 'dataManager', step: { kind: 'google-rpc', httpStatus: 500, status: 'INTERNAL' }, reason: 'server_error', http_status: 500 },
];

describe('fault matrix: transient failures', () => {
  for (const c of RETRY_CASES) {
    it(`retries ${c.name} at next_attempt_at, then sends once`, async () => {
      env = await sendEnv();
      const event = env.addEvent();
      env.fakes.script(c.route, [c.step]);

      const first = await env.pass();
      expect(first.platforms[c.platform].retrying).toBe(1);
      const row = outboxRow(env.db, event.id, c.platform);
      expect(row).toMatchObject({ status: 'retrying', attempts: 1, lease_owner: null, lease_until: null });
      const [attempt] = auditRows(env.db, event.id, c.platform);
      expect(attempt).toMatchObject({ status: 'retrying', reason: c.reason, retry_count: 0, dedup_key: event.id, batch_size: 1 });
      if (c.error_code !== undefined) expect(attempt?.['error_code']).toBe(c.error_code);
      if (c.http_status !== undefined) expect(attempt?.['http_status']).toBe(c.http_status);
      expect(attempt?.['next_attempt_at']).toBe(row.due_at);
      const delay = Date.parse(row.due_at) - Date.parse(String(attempt?.['attempted_at']));
      if (c.minDelayMs !== undefined) expect(delay).toBeGreaterThanOrEqual(c.minDelayMs);
      if (c.exactDelayMs !== undefined) expect(delay).toBe(c.exactDelayMs);

      // Not due yet: a pass just before next_attempt_at leaves it alone.
      env.clock.set(new Date(Date.parse(row.due_at) - 1000).toISOString());
      expect((await env.pass()).claimed).toBe(0);

      env.clock.set(row.due_at);
      const second = await env.pass();
      expect(second.platforms[c.platform].sent).toBe(1);
      expect(outboxRow(env.db, event.id, c.platform)).toMatchObject({ status: 'sent', attempts: 2 });
      expect(auditRows(env.db, event.id, c.platform).map((r) => [r['status'], r['retry_count']])).toEqual([
        ['retrying', 0],
        ['sent', 1],
      ]);
      // Counted once by the platform, whatever reached it before.
      expect(receipts(env.fakes, countedPlatform(c.platform), event.id)).toHaveLength(1);
    });
  }

  it('sends after 500, 500, 200 in three passes, each at next_attempt_at', async () => {
    env = await sendEnv({ connect: ['meta'] });
    const event = env.addEvent();
    env.fakes.script('meta', [
      { kind: 'status', status: 500 },
      { kind: 'status', status: 500 },
    ]);
    await env.pass();
    env.clock.set(outboxRow(env.db, event.id, 'meta').due_at);
    await env.pass();
    expect(outboxRow(env.db, event.id, 'meta')).toMatchObject({ status: 'retrying', attempts: 2 });
    env.clock.set(outboxRow(env.db, event.id, 'meta').due_at);
    await env.pass();

    expect(outboxRow(env.db, event.id, 'meta')).toMatchObject({ status: 'sent', attempts: 3 });
    expect(auditRows(env.db, event.id, 'meta').map((r) => [r['status'], r['http_status'], r['retry_count']])).toEqual([
      ['retrying', 500, 0],
      ['retrying', 500, 1],
      ['sent', 200, 2],
    ]);
    expect(env.fakes.requests('meta')).toHaveLength(3);
    expect(receipts(env.fakes, 'meta', event.id)).toEqual([1]);
  });
});

describe('fault matrix: final failures', () => {
  it('fails a validation error and never retries it', async () => {
    env = await sendEnv({ connect: ['meta'] });
    const event = env.addEvent();
    env.fakes.script('meta', [{ kind: 'meta-error', code: 100, subcode: 2804050 }]);
    await env.pass();
    expect(outboxRow(env.db, event.id, 'meta')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(auditRows(env.db, event.id, 'meta')[0]).toMatchObject({ status: 'failed', reason: 'invalid_event', error_code: '100/2804050' });

    env.clock.advance(24 * HOUR);
    const later = await env.pass();
    expect(later.claimed).toBe(0);
    expect(env.fakes.requests('meta')).toHaveLength(1);
  });

  it('pauses the connection on an auth error and holds its sends, the refused one too, until it is fixed', async () => {
    env = await sendEnv({ connect: ['meta'] });
    const first = env.addEvent();
    env.fakes.script('meta', [{ kind: 'meta-error', code: 190 }]);
    const report = await env.pass();
    expect(outboxRow(env.db, first.id, 'meta')).toMatchObject({ status: 'retrying', attempts: 1, first_attempt_at: null });
    expect(auditRows(env.db, first.id, 'meta')[0]).toMatchObject({ status: 'retrying', reason: 'auth', error_code: '190' });
    expect(report.paused).toEqual([expect.objectContaining({ client_id: env.client.id, platform: 'meta' })]);
    const paused = await env.connections.get(env.client.id, 'meta');
    expect(paused).toMatchObject({ status: 'paused', status_reason: expect.stringContaining('190') });

    // A new conversion waits: not claimed, reported as held back.
    env.clock.advance(MINUTE);
    const waiting = env.addEvent();
    const held = await env.pass();
    expect(outboxRow(env.db, waiting.id, 'meta')).toMatchObject({ status: 'pending', attempts: 0, lease_owner: null });
    expect(held.held).toEqual([expect.objectContaining({ platform: 'meta', waiting: 2, reason: expect.stringContaining('190') })]);
    expect(env.fakes.requests('meta')).toHaveLength(1);

    // `pruuv connections set` with a working token un-pauses it.
    await env.connections.set({ client_id: env.client.id, platform: 'meta', fields: { access_token: 'fake-meta-token' } }, env.ring);
    const fixed = await env.pass();
    expect(fixed.held).toEqual([]);
    expect(outboxRow(env.db, waiting.id, 'meta').status).toBe('sent');
    expect(outboxRow(env.db, first.id, 'meta').status).toBe('sent');
    expect(env.fakes.counted('meta').size).toBe(2);
  });

  it('marks a send dead instead of resending past the 48 h dedup window', async () => {
    env = await sendEnv({ connect: ['tiktok'] });
    const event = env.addEvent();
    env.fakes.script('tiktok', [{ kind: 'status', status: 503 }]);
    await env.pass();
    expect(outboxRow(env.db, event.id, 'tiktok').status).toBe('retrying');

    env.clock.advance(48 * HOUR); // the collector was down
    await env.pass();
    expect(outboxRow(env.db, event.id, 'tiktok')).toMatchObject({ status: 'dead', attempts: 2 });
    expect(auditRows(env.db, event.id, 'tiktok')[1]).toMatchObject({ status: 'dead', reason: 'dedup_window_passed', retry_count: 1 });
    expect(env.fakes.requests('tiktok')).toHaveLength(1);
  });

  it('fails only the 3 rows of 10 named in a Google partial failure', async () => {
    env = await sendEnv({ connect: ['google'], fields: { google: { api: 'ads' } } });
    const events = Array.from({ length: 10 }, () => env!.addEvent());
    env.fakes.script('googleAds', [{ kind: 'google-partial', rows: [1, 4, 7], error: 'CLICK_NOT_FOUND' }]);
    const report = await env.pass();
    expect(report.platforms.google).toMatchObject({ sent: 7, failed: 3 });
    const failed = events.filter((e) => outboxRow(env!.db, e.id, 'google').status === 'failed').map((e) => events.indexOf(e));
    expect(failed).toEqual([1, 4, 7]);
    expect(auditRows(env.db, events[4]!.id, 'google')[0]).toMatchObject({ error_code: 'CLICK_NOT_FOUND', batch_size: 10 });
    expect(env.fakes.counted('google').size).toBe(7);
  });

  it('sends 999 of a 1,000-event batch and fails the one bad event', async () => {
    env = await sendEnv({ connect: ['meta'] });
    const events = Array.from({ length: 1000 }, (_, i) =>
      // Meta refuses an event_time in the future; the sender does not pre-check it.
      env!.addEvent(i === 613 ? { data_timestamp: new Date(env!.clock.now().getTime() + 24 * HOUR).toISOString() } : {}),
    );
    const report = await env.pass();
    expect(report.platforms.meta).toMatchObject({ sent: 999, failed: 1 });
    expect(outboxRow(env.db, events[613]!.id, 'meta').status).toBe('failed');
    expect(env.fakes.counted('meta').size).toBe(999);
    // Halving isolates one bad event in about 2·log2(1000) requests.
    expect(report.requests).toBeLessThanOrEqual(21);
  });
});

describe('send pass', () => {
  it('removes the rows of a platform without a connection, recording nothing', async () => {
    env = await sendEnv({ connect: ['meta'] });
    const event = env.addEvent();
    const report = await env.pass();
    expect(report.platforms.tiktok.skipped).toBe(0);
    expect(report.discarded).toBe(PLATFORM_IDS.length - 1);
    expect(env.db.prepare('SELECT platform FROM outbox WHERE event_id = ?').all(event.id)).toEqual([{ platform: 'meta' }]);
    expect(auditRows(env.db, event.id, 'tiktok')).toEqual([]);
  });

  it('skips a platform whose click id the event lacks', async () => {
    env = await sendEnv();
    const event = env.addEvent({ clicks: { gclid: { value: 'Cj0-only-google', ts: '2026-11-20T09:00:00.000Z' } } });
    await env.pass();
    expect(outboxRow(env.db, event.id, 'google').status).toBe('sent');
    expect(auditRows(env.db, event.id, 'meta')[0]).toMatchObject({ status: 'skipped', reason: 'missing_click_id' });
  });

  it('writes the audit log for a dry run without delivering', async () => {
    env = await sendEnv({ connect: ['meta', 'google'], fields: { meta: { dry_run: true }, google: { dry_run: true } } });
    const event = env.addEvent();
    await env.pass();
    expect(auditRows(env.db, event.id, 'meta')[0]).toMatchObject({ status: 'skipped', reason: 'dry_run', dry_run: 1 });
    expect(auditRows(env.db, event.id, 'google')[0]).toMatchObject({ status: 'skipped', reason: 'dry_run', dry_run: 1 });
    expect(env.fakes.requests('meta')).toHaveLength(0);
    expect(env.fakes.counted('google').size).toBe(0);
  });

  it('sends under the stage override names and one Google batch per conversion action', async () => {
    env = await sendEnv({ fakes: { google: { customers: ['1234567890'], conversionActions: ['987654321', '555'], clientId: 'fake-client-id.apps.googleusercontent.com', clientSecret: 'fake-client-secret', refreshTokens: ['fake-refresh-token'] } } });
    const booked = (await env.store.stages.create({ client_id: env.client.id, key: 'booked_call', name: 'Booked' })).stage;
    await env.store.stages.setEventNames(booked.id, { meta: 'SubmitApplication', google_conversion_action_id: '555' });
    const lead = env.addEvent();
    const call = env.addEvent({ stage_id: booked.id, stage_key: booked.key });
    await env.pass();
    expect([...env.fakes.counted('meta').keys()].find((k) => k.includes(call.id))).toContain(':SubmitApplication:');
    expect([...env.fakes.counted('meta').keys()].find((k) => k.includes(lead.id))).toContain(':Lead:');
    expect([...env.fakes.counted('google').keys()].sort()).toEqual([`555:${call.id}`, `987654321:${lead.id}`].sort());
    expect(env.fakes.requests('dataManager')).toHaveLength(2);
  });

  it('does not claim a row another sender holds until its lease runs out', async () => {
    env = await sendEnv({ connect: ['meta'] });
    const event = env.addEvent();
    const leaseUntil = new Date(env.clock.now().getTime() + 10 * MINUTE).toISOString();
    env.db.prepare("UPDATE outbox SET lease_owner = 'other', lease_until = ? WHERE event_id = ?").run(leaseUntil, event.id);
    expect((await env.pass()).claimed).toBe(0);
    env.clock.advance(10 * MINUTE + 1);
    const report = await env.pass();
    expect(report.claimed).toBe(PLATFORM_IDS.length);
    expect(outboxRow(env.db, event.id, 'meta').status).toBe('sent');
  });

  it('lists the audit log newest first with filters', async () => {
    env = await sendEnv({ connect: ['meta', 'tiktok'], fields: { tiktok: { dry_run: true } } });
    const event = env.addEvent();
    await env.pass();
    expect((await listSends(env.store, { platform: 'meta' })).map((s) => s.status)).toEqual(['sent']);
    expect((await listSends(env.store, { status: 'skipped' })).map((s) => s.platform)).toEqual(['tiktok']);
    expect(await listSends(env.store, { client: env.client.id, limit: 1 })).toHaveLength(1);
    const [sent] = await listSends(env.store, { event: event.id, platform: 'meta' });
    expect(sent).toMatchObject({ event_id: event.id, dedup_key: event.id, status: 'sent', http_status: 200, dry_run: false, retry_count: 0 });
    expect(typeof sent?.request_id).toBe('string');
    await expect(listSends(env!.store, { status: 'lost' })).rejects.toThrow(/status must be one of/);
  });

  it('keeps PII and hashes out of the audit log', async () => {
    env = await sendEnv();
    const email = 'a'.repeat(64);
    const event = env.addEvent({ email_sha256: email, client_ip: '203.0.113.9', user_agent: 'Mozilla/5.0 test' });
    await env.pass();
    const dump = JSON.stringify(env.db.prepare('SELECT * FROM send_attempts').all());
    // The records name their event through their outbox rows (src/store/audit-row.ts).
    expect(auditRows(env.db, event.id, 'meta')).toHaveLength(1);
    expect(dump).not.toContain(email);
    expect(dump).not.toContain('203.0.113.9');
    expect(dump).not.toContain('fake-meta-token');
  });
});

describe('query plans', () => {
  /** `SCAN t` (without an index) reads every row of a table; a pass must only SEARCH. */
  function plan(sql: string, params: Record<string, unknown> = {}): string[] {
    const rows = env!.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>;
    return rows.map((r) => r.detail);
  }
  const fullScans = (details: string[]) => details.filter((d) => /^SCAN (outbox|events|send_attempts|connections|o|c|e)\b/.test(d) && !/USING (COVERING )?INDEX/.test(d));

  it('claims, counts held rows and finds follow-ups through indexes only', async () => {
    env = await sendEnv();
    // A realistic table: mostly finished rows, a few due; statistics gathered.
    for (let i = 0; i < 200; i++) env.addEvent();
    env.db.exec("UPDATE outbox SET status = 'sent' WHERE id % 10 <> 0");
    env.db.exec('ANALYZE');
    const { CLAIM_SQL, PAUSED_SQL, WAITING_SQL, NEXT_LEASE_SQL, NEXT_RETRY_SQL } = await import('../src/store/sqlite/outbox.js');
    const now = env.clock.now().toISOString();
    const claim = plan(CLAIM_SQL, { owner: 'x', lease_until: now, now, cutoff: now, retries_only: 0, limit: 10 });
    expect(claim.join("\n")).toMatch(/SEARCH o USING INDEX outbox_due/);
    expect(claim.join("\n")).toMatch(/SEARCH c USING INDEX/);
    const params = new Map<string, Record<string, unknown>>([
      [CLAIM_SQL, { owner: 'x', lease_until: now, now, cutoff: now, retries_only: 0, limit: 10 }],
      [PAUSED_SQL, { client_id: null }],
      [WAITING_SQL, { client_id: 'c', platform: 'meta', up_to: -1 }],
    ]);
    for (const sql of [CLAIM_SQL, PAUSED_SQL, WAITING_SQL, NEXT_LEASE_SQL, NEXT_RETRY_SQL]) {
      const details = plan(sql, params.get(sql) ?? {});
      expect(fullScans(details), `${sql}\n${details.join('\n')}`).toEqual([]);
    }
  });

  it('filters the audit log through an index', async () => {
    env = await sendEnv();
    // `pruuv sends list`: newest first by attempt time, each filter through an index in that order
    // (keyed by the instant in ms: migration 028).
    for (const [where, index] of [
      // The status indexes hold every status but `sent`; a statement reading them carries that condition.
      ["status = 'failed' AND status <> 'sent'", 'SEARCH send_attempts USING INDEX send_attempts_status_time'],
      ["status = 'sent'", 'SCAN send_attempts USING INDEX send_attempts_time'],
      // A client by its key (migration 032), looked up once.
      [`client_key = ${clientKeySql("'c'")}`, 'SEARCH send_attempts USING INDEX send_attempts_client_time \\(client_key=\\?'],
      [`client_key = ${clientKeySql("'c'")} AND status = 'dead' AND status <> 'sent'`, 'SEARCH send_attempts USING INDEX send_attempts_client_status_time \\(client_key=\\? AND status=\\?'],
      [`client_key = ${clientKeySql("'c'")} AND status = 'sent'`, 'SEARCH send_attempts USING INDEX send_attempts_client_time \\(client_key=\\?'],
      ["platform = 'meta'", 'SCAN send_attempts USING INDEX send_attempts_time'],
    ]) {
      const details = plan(`SELECT * FROM send_attempts WHERE ${where} ORDER BY ${AUDIT_MS_SQLITE_SQL} DESC, id DESC LIMIT 50`);
      expect(details.join('\n'), where).toMatch(new RegExp(index!));
      expect(details.join('\n'), where).not.toMatch(/TEMP B-TREE/);
    }
    // An event's few records through its outbox rows' keys, then sorted.
    // The rows through the outbox's key, the event's receive time first (migration 031), the event by its primary key.
    const event = plan(`SELECT * FROM send_attempts WHERE ${OF_EVENT.replace('@event_id', "'e'")} ORDER BY ${AUDIT_MS_SQLITE_SQL} DESC, id DESC LIMIT 50`);
    expect(event.join('\n')).toMatch(/SEARCH send_attempts USING INDEX send_attempts_outbox \(outbox_id=\?\)/);
    expect(event.join('\n')).toMatch(/SEARCH e USING (COVERING )?INDEX sqlite_autoindex_events_1 \(id=\?\)/);
    expect(event.join('\n')).toMatch(/SEARCH o USING COVERING INDEX sqlite_autoindex_outbox_1 \(event_ms=\? AND event_id=\?\)/);
    expect(event.filter((d) => /^SCAN/.test(d)), event.join('\n')).toEqual([]);
  });
});
