/**
 * The Microsoft adapter through sendBatch against the strict fake Microsoft
 * Advertising over real HTTP on 127.0.0.1 (microsoft-ads.md §4, §5, §9).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { ACCEPTED_MESSAGE } from '../../src/platforms/microsoft/response.js';
import { sendBatch, type SendBatchOptions } from '../../src/send-batch.js';
import { createShared } from '../../src/shared-services.js';
import { createTokenCache } from '../../src/oauth.js';
import { goalOldEnoughAt } from '../../src/platforms/microsoft/goal-age.js';
import { sendBatchWith } from '../../src/send-batch.js';
import type { ConversionEvent } from '../../src/types.js';
import type { MicrosoftConnection } from '../../src/platforms/microsoft/connection.js';
import { microsoftConnection, sha256 } from '../helpers.js';

const T0 = Date.parse('2026-11-20T12:00:00.000Z');
const HOUR = 3_600_000;
let t = T0;
const now = () => new Date(t);
let fakes: FakePlatforms;

beforeAll(async () => {
  fakes = await startFakePlatforms({ now });
});
afterAll(() => fakes.close());
beforeEach(() => {
  t = T0;
  fakes.reset();
});

let seq = 0;
function events(n: number, o: Partial<ConversionEvent> = {}): ConversionEvent[] {
  return Array.from({ length: n }, () => {
    seq += 1;
    return {
      id: `20000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
      client_id: 'cli_1', stage_id: 'stg_lead', stage_key: 'lead', reference: `crm-${seq}`,
      event_time: new Date(T0 - 2 * HOUR).toISOString(), source: 'webhook', consent: 'granted',
      email_sha256: sha256(`lead.${seq}@example.com`), email_sha256_microsoft: sha256(`lead${seq}@example.com`),
      clicks: { msclkid: { value: sha256(`click${seq}`).slice(0, 32), ts: new Date(T0 - 3 * HOUR).toISOString() } },
      ...o,
    };
  });
}

function send(evs: ConversionEvent[], extra: Partial<SendBatchOptions> = {}, connection: MicrosoftConnection = microsoftConnection()) {
  return sendBatch({ connection, events: evs, urls: fakes.urls, now, random: () => 0, timeoutMs: 2_000, ...extra });
}
const applies = () => fakes.requests('microsoftCampaign').filter((r) => r.path.endsWith('/OfflineConversions/Apply'));

describe('Microsoft: delivery', () => {
  it('sends 1,500 conversions in two requests of at most 1,000, each accepted once with what Microsoft does not check', async () => {
    const evs = events(1500);
    const r = await send(evs);
    expect(r.outcomes.every((o) => o.status === 'sent' && o.message === ACCEPTED_MESSAGE)).toBe(true);
    expect(applies().map((a) => (a.body as { OfflineConversions: unknown[] }).OfflineConversions.length)).toEqual([1000, 500]);
    expect(fakes.counted('microsoft').size).toBe(1500);
    expect(r.outcomes[0]?.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('holds back a click under an hour old for the next pass, sending the rest', async () => {
    const young = events(1, { event_time: new Date(T0 - 10 * 60_000).toISOString(), clicks: { msclkid: { value: 'a'.repeat(32), ts: new Date(T0 - 20 * 60_000).toISOString() } } });
    const r = await send([...young, ...events(1)]);
    expect(r.outcomes.map((o) => o.status)).toEqual(['retrying', 'sent']);
    expect(r.outcomes[0]).toMatchObject({ reason: 'click_too_recent', next_attempt_at: new Date(T0 + 40 * 60_000).toISOString() });
    expect(fakes.counted('microsoft').size).toBe(1);
  });

  it('sends a build-only dry run nowhere and shows no secret', async () => {
    const r = await send(events(1), {}, microsoftConnection({ dry_run: true }));
    expect(r.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'dry_run' });
    expect(JSON.stringify(r.dry_run_requests)).not.toContain('FAKEDEVTOKEN01');
    expect(fakes.requests()).toHaveLength(0);
  });

  it('sends test-mode connections to the sandbox with the sandbox grant', async () => {
    const r = await send(events(1), {}, microsoftConnection({ test_mode: true, refresh_token: 'M.C-fake-microsoft-sandbox-refresh-token' }));
    expect(r.outcomes[0]?.status).toBe('sent');
    expect(applies()[0]?.path).toMatch(/^\/microsoft-sandbox\//);
    expect(fakes.microsoft.silent()).toMatchObject([{ reason: 'SandboxNotAttributed' }]);
  });
});

describe('Microsoft: retries and exactly once', () => {
  it('retries a 5612 item with the byte-identical conversion and counts it once', async () => {
    const evs = events(3);
    fakes.script('microsoftCampaign', [{ kind: 'microsoft-partial', indexes: [1], code: 5612 }]);
    const first = await send(evs);
    expect(first.outcomes.map((o) => o.status)).toEqual(['sent', 'retrying', 'sent']);
    expect(first.outcomes[1]).toMatchObject({ reason: 'transient', error_code: '5612 OfflineConversionsApplyFailed' });
    t += 3 * HOUR;
    const again = await send([evs[1] as ConversionEvent], { history: { [evs[1]!.id]: { attempts: 1, first_attempt_at: new Date(T0).toISOString() } } });
    expect(again.outcomes[0]?.status).toBe('sent');
    const [a, b] = applies();
    expect(JSON.stringify((b?.body as { OfflineConversions: unknown[] }).OfflineConversions[0])).toBe(JSON.stringify((a?.body as { OfflineConversions: unknown[] }).OfflineConversions[1]));
    expect(fakes.counted('microsoft').size).toBe(3);
  });

  it('counts a resent conversion once: Microsoft ignores the duplicate tuple silently', async () => {
    const evs = events(2);
    await send(evs);
    const again = await send(evs);
    expect(again.outcomes.map((o) => o.status)).toEqual(['sent', 'sent']);
    expect([...fakes.counted('microsoft').values()]).toEqual([2, 2]);
    expect(fakes.microsoft.silent().map((s) => s.reason)).toEqual(['DuplicateConversionKey', 'DuplicateConversionKey']);
  });

  it('refreshes the token once on 109 mid-pass and goes on', async () => {
    const shared = createShared({});
    const base = { connection: microsoftConnection(), urls: fakes.urls, now, random: () => 0, timeoutMs: 2_000 };
    await sendBatchWith({ ...base, events: events(2) }, shared);
    expect(fakes.microsoft.refreshes()).toBe(1);
    fakes.microsoft.expireAccessTokens();
    const r = await sendBatchWith({ ...base, events: events(2) }, shared);
    expect(r.outcomes.map((o) => o.status)).toEqual(['sent', 'sent']);
    expect(fakes.microsoft.refreshes()).toBe(2);
    expect(applies().map((a) => a.status)).toEqual([200, 401, 200]);
    expect(fakes.counted('microsoft').size).toBe(4);
  });

  it('waits at least 2 hours after a 5615 and 60 s after a 117', async () => {
    fakes.script('microsoftCampaign', [{ kind: 'microsoft-partial', indexes: [0], code: 5615 }]);
    const young = await send(events(1));
    expect(young.outcomes[0]).toMatchObject({ status: 'retrying', reason: 'goal_too_new', next_attempt_at: new Date(T0 + 2 * HOUR).toISOString() });
    fakes.script('microsoftCampaign', [{ kind: 'microsoft-fault', code: 117 }]);
    const throttled = await send(events(1));
    expect(throttled.outcomes[0]).toMatchObject({ status: 'retrying', reason: 'rate_limited', next_attempt_at: new Date(T0 + 60_000).toISOString() });
    fakes.script('microsoftCampaign', [{ kind: 'microsoft-fault', code: 0 }]);
    expect((await send(events(1))).outcomes[0]).toMatchObject({ status: 'retrying', reason: 'server_error', http_status: 500 });
  });
});

describe('Microsoft: permanent failures and credentials', () => {
  it('fails a data error with Microsoft\'s code and message, and sends the other conversions', async () => {
    const evs = [...events(1, { revenue_value: 10, currency: 'XXY' }), ...events(1)];
    const r = await send(evs);
    expect(r.outcomes.map((o) => o.status)).toEqual(['failed', 'sent']);
    expect(r.outcomes[0]).toMatchObject({ reason: 'invalid_event', error_code: '5611 OfflineConversionCurrencyCodeInvalid', error_message: 'The offline conversion currency code is invalid.' });
  });

  it('pauses the connection with Microsoft\'s message when the refresh token is revoked', async () => {
    fakes.microsoft.revokeAll();
    const r = await send(events(2));
    expect(r.pause_connection).toBe(true);
    expect(r.outcomes[0]).toMatchObject({ status: 'failed', reason: 'auth', error_code: 'invalid_grant', error_message: expect.stringContaining('AADSTS70000') });
    expect(applies()).toHaveLength(0);
  });

  it('pauses when the developer token is wrong (105 after the one refresh)', async () => {
    const r = await send(events(1), {}, microsoftConnection({ developer_token: 'WRONG' }));
    expect(r.pause_connection).toBe(true);
    expect(r.outcomes[0]).toMatchObject({ reason: 'auth', error_code: '105 InvalidCredentials' });
    // The goal check met the 105 first and refreshed once; the upload's 105 then pauses.
    expect(fakes.requests('microsoftCampaign').map((q) => [q.path.split('/').slice(-2).join('/'), q.status])).toEqual([
      ['ConversionGoals/QueryByIds', 401],
      ['ConversionGoals/QueryByIds', 401],
      ['OfflineConversions/Apply', 401],
    ]);
    expect(fakes.microsoft.refreshes()).toBe(2);
  });

  it('checks the goal once per pass and pauses, uploading nothing, when it is not an active offline goal of that name', async () => {
    const shared = createShared({});
    const base = { urls: fakes.urls, now, random: () => 0, timeoutMs: 2_000 };
    await sendBatchWith({ ...base, connection: microsoftConnection(), events: events(1) }, shared);
    await sendBatchWith({ ...base, connection: microsoftConnection(), events: events(1) }, shared);
    expect(fakes.requests('microsoftCampaign').filter((q) => q.path.endsWith('/QueryByIds'))).toHaveLength(1);
    const missing = await send(events(1), {}, microsoftConnection({ goal_name: 'pruuv offline conversions' }));
    expect(missing.pause_connection).toBe(true);
    expect(missing.outcomes[0]).toMatchObject({ status: 'failed', reason: 'goal_not_found', error_message: expect.stringContaining('names match exactly') });
    expect(applies()).toHaveLength(2);
  });

  it('pauses on an account the user cannot reach (106)', async () => {
    const r = await send(events(1), {}, microsoftConnection({ account_id: '999' }));
    expect(r.outcomes[0]).toMatchObject({ reason: 'permission', error_code: '106 UserIsNotAuthorized' });
  });
});

describe('Microsoft: the goal read before sending (microsoft-ads.md §7.3)', () => {
  const GOAL = FAKE_DEFAULTS.microsoft.goalId;
  afterEach(() => fakes.microsoft.setGoalEnhanced(GOAL, true));
  const item = (i: number) => (applies()[i]?.body as { OfflineConversions: Array<Record<string, unknown>> }).OfflineConversions[0];

  it("sends hashes by the goal's enhanced flag as Microsoft reads it now, not the connection's older switch", async () => {
    fakes.microsoft.setGoalEnhanced(GOAL, false);
    await send(events(1), {}, microsoftConnection({ enhanced_conversions: true }));
    expect(item(0)).not.toHaveProperty('HashedEmailAddress');
    fakes.microsoft.setGoalEnhanced(GOAL, true);
    await send(events(1), {}, microsoftConnection({ enhanced_conversions: false }));
    expect(item(1)).toMatchObject({ HashedEmailAddress: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('freezes the live flag at the first attempt, and a started conversion keeps its own whatever the goal says now', async () => {
    fakes.microsoft.setGoalEnhanced(GOAL, false);
    const stored = new Map<string, string>();
    const freeze = async (fields: ReadonlyMap<string, string>) => {
      fields.forEach((v, k) => stored.set(k, v));
      return fields;
    };
    await send(events(1), { freeze });
    expect([...stored.values()]).toEqual([JSON.stringify({ name: FAKE_DEFAULTS.microsoft.goalName, hashes: false })]);
    const [started] = events(1);
    const frozen = JSON.stringify({ name: FAKE_DEFAULTS.microsoft.goalName, hashes: true });
    await send([started!], { freeze, history: { [started!.id]: { attempts: 1, first_attempt_at: new Date(T0 - HOUR).toISOString(), frozen } } });
    expect(item(1)).toMatchObject({ HashedEmailAddress: started!.email_sha256_microsoft });
    expect(stored.has(started!.id)).toBe(false);
  });
});

describe("Microsoft: a goal's age (5615)", () => {
  const MIN = 60_000;
  const cases = [
    { name: 'first seen an hour ago: 2 h 5 min after the sighting', seen: T0 - HOUR, at: T0 + HOUR + 5 * MIN },
    { name: 'first seen now: 2 h from now, never more', seen: T0, at: T0 + 2 * HOUR },
    { name: 'seen 3 h ago (the goal made again): 2 h from now', seen: T0 - 3 * HOUR, at: T0 + 2 * HOUR },
    { name: 'never seen: 2 h from now', seen: undefined, at: T0 + 2 * HOUR },
  ];
  for (const c of cases) {
    it(`retries ${c.name}`, () => {
      expect(goalOldEnoughAt(c.seen, T0)).toBe(c.at);
    });
  }

  it('retries a 5615 two hours after the process first saw the goal, holding its other conversions unsent till then', async () => {
    const tokenCache = createTokenCache({ now });
    const base = { connection: microsoftConnection(), urls: fakes.urls, now, random: () => 0, timeoutMs: 2_000, tokenCache };
    // An hour earlier a pass saw the goal; its one conversion's click was too recent to go.
    t = T0 - HOUR;
    const recent = events(1, { event_time: new Date(t - 5 * MIN).toISOString(), clicks: { msclkid: { value: 'ab'.repeat(16), ts: new Date(t - 10 * MIN).toISOString() } } });
    await sendBatchWith({ ...base, events: recent }, createShared({ tokenCache }));
    expect(applies()).toHaveLength(0);
    t = T0;
    fakes.script('microsoftCampaign', [{ kind: 'microsoft-partial', indexes: [0], code: 5615 }]);
    const young = await sendBatchWith({ ...base, events: events(1) }, createShared({ tokenCache }));
    const at = new Date(T0 + HOUR + 5 * MIN).toISOString();
    expect(young.outcomes[0]).toMatchObject({ status: 'retrying', reason: 'goal_too_new', next_attempt_at: at });
    t = T0 + 10 * MIN;
    const held = await sendBatchWith({ ...base, events: events(1) }, createShared({ tokenCache }));
    expect(held.outcomes[0]).toMatchObject({ status: 'retrying', reason: 'goal_too_new', next_attempt_at: at, error_message: expect.stringContaining('held until') });
    expect(applies()).toHaveLength(1);
    t = T0 + HOUR + 5 * MIN;
    expect((await sendBatchWith({ ...base, events: events(1) }, createShared({ tokenCache }))).outcomes[0]).toMatchObject({ status: 'sent' });
  });
});
