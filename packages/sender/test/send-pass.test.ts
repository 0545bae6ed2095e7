/**
 * The storage-agnostic send pass: batching and outcome tables (pure), and
 * `runSendPass` over an in-memory OutboxStore against the fakes over HTTP.
 * The collector's tests run the same pass on SQLite with crashes and races.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import type { ClaimedSend, ClaimInput, CommitInput, HeldConnection, LoadedEvent, OutboxStore, StoredConnection } from '../src/outbox-store.js';
import type { EventOutcome } from '../src/outcomes.js';
import { groupByConnection, PLATFORM_BATCH_LIMITS, splitBatches } from '../src/pass-batches.js';
import { applyOutcome, expiredBeforeSend } from '../src/pass-outcome.js';
import { runSendPass, type BatchInfo } from '../src/send-pass.js';
import type { Connection, Platform } from '../src/types.js';
import { makeEvent, metaConnection, microsoftConnection, NOW, tiktokConnection } from './helpers.js';

const HOUR = 3_600_000;

function claim(id: number, o: Partial<ClaimedSend> = {}): ClaimedSend {
  return { id, event_id: `evt-${id}`, client_id: 'cli_1', platform: 'meta', status: 'pending', attempts: 0, due_at: NOW.toISOString(), ...o };
}

describe('batches', () => {
  it('limits each platform to its batch size', () => {
    expect(PLATFORM_BATCH_LIMITS).toEqual({ meta: 1000, google: 2000, tiktok: 1000, microsoft: 1000 });
  });

  it('groups rows per client and platform in first-seen order', () => {
    const rows = [claim(1), claim(2, { platform: 'google' }), claim(3, { client_id: 'cli_2' }), claim(4)];
    expect(groupByConnection(rows).map((g) => [g.client_id, g.platform, g.claims.map((c) => c.id)])).toEqual([
      ['cli_1', 'meta', [1, 4]],
      ['cli_1', 'google', [2]],
      ['cli_2', 'meta', [3]],
    ]);
  });

  const cases = [
    { name: 'one chunk under the limit', n: 5, limit: 10, key: () => '', sizes: [5] },
    { name: 'chunks of the limit', n: 2500, limit: 1000, key: () => '', sizes: [1000, 1000, 500] },
    { name: 'one batch per key', n: 6, limit: 10, key: (c: ClaimedSend) => (c.id % 2 === 0 ? 'a' : 'b'), sizes: [3, 3] },
  ];
  for (const c of cases) {
    it(`splits into ${c.name}`, () => {
      const rows = Array.from({ length: c.n }, (_, i) => claim(i + 1));
      expect(splitBatches(rows, c.limit, c.key).map((b) => b.length)).toEqual(c.sizes);
    });
  }
});

describe('applyOutcome', () => {
  const ctx = { attemptedAt: NOW, batchSize: 7, passId: 'pass-1', dryRun: false, connectionId: 'con_1', stageId: 'stg_1' };
  const cases: Array<{ name: string; claim: ClaimedSend; outcome: EventOutcome; notBefore?: Date; update: object; record: object }> = [
    {
      name: 'a first send: final, first attempt now',
      claim: claim(1),
      outcome: { event_id: 'evt-1', status: 'sent', http_status: 200, request_id: 'fbtrace' },
      update: { id: 1, status: 'sent', attempts: 1, first_attempt_at: NOW.toISOString() },
      record: { status: 'sent', retry_count: 0, http_status: 200, request_id: 'fbtrace', batch_size: 7, dedup_key: 'evt-1', connection_id: 'con_1', stage_id: 'stg_1' },
    },
    {
      name: 'a retry: due at next_attempt_at, first attempt kept',
      claim: claim(2, { attempts: 2, first_attempt_at: '2026-11-20T10:00:00.000Z', status: 'retrying' }),
      outcome: { event_id: 'evt-2', status: 'retrying', reason: 'server_error', error_code: 'HTTP 500', next_attempt_at: '2026-11-20T15:05:00.000Z' },
      update: { status: 'retrying', attempts: 3, first_attempt_at: '2026-11-20T10:00:00.000Z', due_at: '2026-11-20T15:05:00.000Z', last_error: 'server_error: HTTP 500' },
      record: { status: 'retrying', retry_count: 2, next_attempt_at: '2026-11-20T15:05:00.000Z', reason: 'server_error', error_code: 'HTTP 500' },
    },
    {
      name: 'a zero-delay retry: never due within the pass',
      claim: claim(3),
      outcome: { event_id: 'evt-3', status: 'retrying', next_attempt_at: NOW.toISOString() },
      notBefore: NOW,
      update: { due_at: new Date(NOW.getTime() + 1).toISOString() },
      record: { next_attempt_at: new Date(NOW.getTime() + 1).toISOString() },
    },
    {
      name: 'a skip: final, no error',
      claim: claim(4),
      outcome: { event_id: 'evt-4', status: 'skipped', reason: 'no_connection', message: 'No meta connection.' },
      update: { status: 'skipped', attempts: 1 },
      record: { status: 'skipped', reason: 'no_connection', message: 'No meta connection.' },
    },
  ];
  for (const c of cases) {
    it(`maps ${c.name}`, () => {
      const { update, record } = applyOutcome(c.claim, c.outcome, { ...ctx, ...(c.notBefore ? { notBefore: c.notBefore } : {}) });
      expect(update).toMatchObject(c.update);
      expect(record).toMatchObject({ ...c.record, pass_id: 'pass-1', attempted_at: NOW.toISOString(), dry_run: false });
      if (c.outcome.status === 'sent' || c.outcome.status === 'skipped') expect(update.last_error).toBeUndefined();
    });
  }
});

describe('expiredBeforeSend', () => {
  const first = '2026-11-18T15:00:00.000Z';
  const cases: Array<{ platform: Platform; hoursLater: number; dead: boolean }> = [
    { platform: 'meta', hoursLater: 46, dead: false },
    { platform: 'meta', hoursLater: 47, dead: true }, // 48 h window less the 1 h margin
    { platform: 'tiktok', hoursLater: 60, dead: true },
    { platform: 'google', hoursLater: 500, dead: false },
  ];
  for (const c of cases) {
    it(`${c.dead ? 'kills' : 'keeps'} a ${c.platform} retry ${c.hoursLater} h after the first attempt`, () => {
      const now = new Date(Date.parse(first) + c.hoursLater * HOUR);
      const out = expiredBeforeSend(claim(1, { platform: c.platform, attempts: 1, first_attempt_at: first }), now);
      expect(out?.status).toBe(c.dead ? 'dead' : undefined);
      if (c.dead) expect(out?.reason).toBe('dedup_window_passed');
    });
  }

  it('never kills a row not yet attempted', () => {
    expect(expiredBeforeSend(claim(1), new Date(NOW.getTime() + 1000 * HOUR))).toBeUndefined();
  });
});

/** An outbox in memory: enough of the contract to run a pass. */
function memoryStore(input: { rows: ClaimedSend[]; events: LoadedEvent[]; connections: Record<string, StoredConnection | Error> }) {
  const rows = new Map(input.rows.map((r) => [r.id, { ...r, state: r.status as string, lease: undefined as string | undefined, until: 0 }]));
  const commits: CommitInput[] = [];
  const released: number[] = [];
  const store: OutboxStore = {
    claim(c: ClaimInput) {
      const out: ClaimedSend[] = [];
      for (const r of rows.values()) {
        if (out.length >= c.limit) break;
        if (r.state !== 'pending' && r.state !== 'retrying') continue;
        if (Date.parse(r.due_at) > c.cutoff.getTime() || (r.lease !== undefined && r.until > c.now.getTime())) continue;
        const conn = input.connections[`${r.client_id}:${r.platform}`];
        if (conn !== undefined && !(conn instanceof Error) && conn.status === 'paused') continue;
        r.lease = c.owner;
        r.until = c.leaseUntil.getTime();
        const claimed: ClaimedSend = { id: r.id, event_id: r.event_id, client_id: r.client_id, platform: r.platform, status: r.status, attempts: r.attempts, due_at: r.due_at };
        if (r.frozen !== undefined) claimed.frozen = r.frozen;
        out.push(claimed);
      }
      return out;
    },
    freeze({ owner, rows: frozen }) {
      return frozen.flatMap(({ id, fields }) => {
        const r = rows.get(id);
        if (r?.lease !== owner) return [];
        r.frozen ??= fields;
        return [{ id, fields: r.frozen }];
      });
    },
    renew: ({ owner, ids }) => ids.filter((id) => rows.get(id)?.lease === owner),
    release({ owner, ids }) {
      for (const id of ids) {
        const r = rows.get(id);
        if (r?.lease === owner) r.lease = undefined;
        released.push(id);
      }
    },
    connection(clientId, platform) {
      const c = input.connections[`${clientId}:${platform}`];
      if (c instanceof Error) throw c;
      return c;
    },
    events: (ids) => new Map(input.events.filter((e) => ids.includes(e.event.id)).map((e) => [e.event.id, e])),
    async commit(c) {
      commits.push(c);
      for (const id of c.discard ?? []) if (rows.get(id)?.lease === c.owner && rows.get(id)?.attempts === 0) rows.delete(id);
      for (const u of c.updates) {
        const r = rows.get(u.id)!;
        r.state = u.status;
        r.lease = undefined;
        r.attempts = u.attempts;
        if (u.due_at) r.due_at = u.due_at;
      }
    },
    held: (): HeldConnection[] => [],
  };
  return { store, rows, commits, released };
}

const stored = (id: string, clientId: string, connection: Connection, status: 'active' | 'paused' = 'active'): StoredConnection => ({
  id,
  client_id: clientId,
  platform: connection.platform,
  status,
  connection,
});

let fakes: FakePlatforms | undefined;
afterEach(async () => {
  await fakes?.close();
  fakes = undefined;
});

describe('runSendPass', () => {
  it('sends per connection, leaves paused and unreadable connections alone, and commits once per batch', async () => {
    fakes = await startFakePlatforms({ now: () => NOW });
    const a = makeEvent({ client_id: 'cli_a' });
    const b = makeEvent({ client_id: 'cli_b' });
    const c = makeEvent({ client_id: 'cli_c' });
    const { store, rows, commits, released } = memoryStore({
      rows: [
        claim(1, { event_id: a.id, client_id: 'cli_a', platform: 'meta' }),
        claim(2, { event_id: a.id, client_id: 'cli_a', platform: 'tiktok' }),
        claim(3, { event_id: b.id, client_id: 'cli_b', platform: 'meta' }),
        claim(4, { event_id: c.id, client_id: 'cli_c', platform: 'meta' }),
        claim(5, { event_id: a.id, client_id: 'cli_a', platform: 'google' }),
      ],
      events: [{ event: a }, { event: b }, { event: c }],
      connections: {
        'cli_a:meta': stored('con_a_meta', 'cli_a', metaConnection()),
        'cli_a:tiktok': stored('con_a_tt', 'cli_a', tiktokConnection()),
        'cli_b:meta': stored('con_b_meta', 'cli_b', metaConnection(), 'paused'),
        'cli_c:meta': new Error('Stored secret was encrypted with key 0badc0de'),
      },
    });
    const seen: BatchInfo[] = [];
    const report = await runSendPass({ store, now: () => NOW, urls: fakes.urls, owner: 'me', passId: 'p1', beforeCommit: (i) => void seen.push(i) });

    expect(report.claimed).toBe(4); // the paused connection's row is never claimed
    expect(report.counts).toMatchObject({ sent: 2, skipped: 0 });
    expect(report.discarded).toBe(1);
    expect(rows.get(1)?.state).toBe('sent');
    expect(rows.get(2)?.state).toBe('sent');
    expect(rows.has(5)).toBe(false); // no google connection: removed, not recorded
    expect(commits.find((x) => x.discard?.includes(5))).toMatchObject({ updates: [], records: [] });
    expect(rows.get(3)?.state).toBe('pending');
    expect(rows.get(4)).toMatchObject({ state: 'pending', lease: undefined });
    expect(released).toEqual([4]);
    expect(report.errors).toEqual([{ client_id: 'cli_c', platform: 'meta', message: expect.stringContaining('0badc0de') }]);
    expect(commits).toHaveLength(3);
    expect(seen.map((s) => [s.platform, s.size])).toEqual([
      ['meta', 1],
      ['tiktok', 1],
      ['google', 1],
    ]);
    expect(fakes.counted('meta').size).toBe(1);
  });

  it('removes the rows of a platform without a connection, and skips only those attempted before', async () => {
    fakes = await startFakePlatforms({ now: () => NOW });
    const a = makeEvent();
    const b = makeEvent({ consent: 'denied' });
    const { store, rows, commits } = memoryStore({
      rows: [
        claim(1, { event_id: a.id, platform: 'meta' }),
        claim(2, { event_id: a.id, platform: 'tiktok' }),
        claim(3, { event_id: b.id, platform: 'tiktok' }),
        claim(4, { event_id: 'gone', platform: 'tiktok' }),
        // Attempted while a TikTok connection existed, deleted since: its history stays, with a skip.
        claim(5, { event_id: a.id, platform: 'tiktok', status: 'retrying', attempts: 1, first_attempt_at: NOW.toISOString() }),
      ],
      events: [{ event: a }, { event: b }],
      connections: { 'cli_1:meta': stored('con_meta', 'cli_1', metaConnection()) },
    });
    const seen: BatchInfo[] = [];
    const report = await runSendPass({ store, now: () => NOW, urls: fakes.urls, owner: 'me', afterCommit: (i) => void seen.push(i) });
    expect(rows.get(1)?.state).toBe('sent');
    expect([2, 3, 4].map((id) => rows.has(id))).toEqual([false, false, false]);
    expect(rows.get(5)?.state).toBe('skipped');
    const tiktok = commits.find((x) => x.discard !== undefined);
    expect(tiktok?.discard).toEqual([2, 3, 4]);
    expect(tiktok?.records).toEqual([expect.objectContaining({ outbox_id: 5, status: 'skipped', reason: 'no_connection', retry_count: 1 })]);
    expect(commits.flatMap((x) => x.records).map((r) => r.outbox_id).sort()).toEqual([1, 5]);
    expect(report).toMatchObject({ claimed: 5, discarded: 3, counts: { sent: 1, skipped: 1 } });
    expect(seen.find((i) => i.platform === 'tiktok')).toMatchObject({ size: 4, discarded: 3, counts: { skipped: 1 } });
  });

  it("resends Microsoft's first attempt byte for byte after the goal and its enhanced switch changed", async () => {
    const d = FAKE_DEFAULTS.microsoft;
    let now = NOW;
    fakes = await startFakePlatforms({
      now: () => now,
      microsoft: {
        customerId: d.customerId,
        accounts: [{ id: d.accountId, name: 'Contoso', number: d.accountNumber }],
        goals: [
          { id: d.goalId, name: d.goalName, accountId: d.accountId, enhanced: true },
          { id: '33000002', name: 'Signed contracts', accountId: d.accountId, enhanced: false },
        ],
        clientId: d.clientId,
        clientSecret: d.clientSecret,
        redirectUris: [],
        refreshTokens: [d.refreshToken],
        developerToken: d.developerToken,
      },
    });
    const event = makeEvent({
      clicks: { msclkid: { value: '9f223aca6be512d830005cea8c9d3b06', ts: '2026-11-20T12:00:00.000Z' } },
      email_sha256: 'ec81f3ac7b2b19675bab9d54cf416f9f18cff87c97da5cca82c0f0891bc40602',
    });
    const connections: Record<string, StoredConnection> = { 'cli_1:microsoft': stored('con_ms', 'cli_1', microsoftConnection()) };
    const { store, rows } = memoryStore({ rows: [claim(1, { event_id: event.id, platform: 'microsoft' })], events: [{ event }], connections });
    fakes.script('microsoftCampaign', [{ kind: 'microsoft-partial', indexes: [0], code: 5612 }]);
    await runSendPass({ store, now: () => now, urls: fakes.urls, random: () => 0.5 });
    expect(rows.get(1)).toMatchObject({ state: 'retrying', frozen: JSON.stringify({ name: d.goalName, hashes: true }) });

    // Another goal picked, without enhanced conversions, while the retry waits.
    connections['cli_1:microsoft'] = stored('con_ms', 'cli_1', microsoftConnection({ goal_name: 'Signed contracts', enhanced_conversions: false }));
    now = new Date(rows.get(1)!.due_at);
    await runSendPass({ store, now: () => now, urls: fakes.urls, random: () => 0.5 });
    expect(rows.get(1)?.state).toBe('sent');
    const applies = fakes.requests('microsoftCampaign').filter((r) => r.path.endsWith('/OfflineConversions/Apply'));
    expect(applies).toHaveLength(2);
    const [first, retry] = applies.map((r) => JSON.stringify(r.body));
    expect(retry).toBe(first);
    expect(first).toContain(`"ConversionName":"${d.goalName}"`);
    expect(first).toContain('"HashedEmailAddress":"ec81f3ac');
  });

  it('freezes nothing when Microsoft refused the connection before any upload, so the fixed goal goes with the first real attempt', async () => {
    fakes = await startFakePlatforms({ now: () => NOW });
    const event = makeEvent({ clicks: { msclkid: { value: '9f223aca6be512d830005cea8c9d3b06', ts: '2026-11-20T12:00:00.000Z' } } });
    const connections: Record<string, StoredConnection> = { 'cli_1:microsoft': stored('con_ms', 'cli_1', microsoftConnection({ goal_name: 'No such goal' })) };
    const { store, rows, commits } = memoryStore({ rows: [claim(1, { event_id: event.id, platform: 'microsoft' })], events: [{ event }], connections });
    const report = await runSendPass({ store, now: () => NOW, urls: fakes.urls });
    expect(report.paused).toMatchObject([{ platform: 'microsoft', reason: expect.stringContaining('goal_not_found') }]);
    expect(commits[0]?.updates[0]).toMatchObject({ status: 'retrying' });
    expect(rows.get(1)?.frozen).toBeUndefined();
    connections['cli_1:microsoft'] = stored('con_ms', 'cli_1', microsoftConnection());
    rows.get(1)!.due_at = NOW.toISOString();
    await runSendPass({ store, now: () => NOW, urls: fakes.urls });
    const [apply] = fakes.requests('microsoftCampaign').filter((r) => r.path.endsWith('/OfflineConversions/Apply'));
    expect((apply?.body as { OfflineConversions: Array<{ ConversionName: string }> }).OfflineConversions[0]?.ConversionName).toBe(FAKE_DEFAULTS.microsoft.goalName);
    expect(rows.get(1)).toMatchObject({ state: 'sent', frozen: expect.stringContaining(FAKE_DEFAULTS.microsoft.goalName) });
  });
});
