/**
 * sendBatch against the strict fake platforms over real HTTP on 127.0.0.1.
 * The fakes and the sender read the same settable clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { createTokenCache } from '../src/oauth.js';
import { createTokenBucket } from '../src/rate-limit.js';
import { sendBatch, type SendBatchOptions } from '../src/send-batch.js';
import type { Connection, ConversionEvent } from '../src/types.js';
import { googleConnection, metaConnection, sha256, tiktokConnection } from './helpers.js';

const T0 = Date.parse('2026-11-20T12:00:00.000Z');
const HOUR = 3_600_000;
let t = T0;
const now = () => new Date(t);
let fakes: FakePlatforms;

beforeAll(async () => {
  fakes = await startFakePlatforms({ now });
});
afterAll(async () => {
  await fakes.close();
});
beforeEach(() => {
  t = T0;
  fakes.reset();
});

let seq = 0;
function events(n: number, overrides: Partial<ConversionEvent> = {}): ConversionEvent[] {
  return Array.from({ length: n }, () => {
    seq += 1;
    return {
      id: `10000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
      client_id: 'cli_1',
      stage_id: 'stg_lead',
      stage_key: 'lead',
      reference: `crm-${seq}`,
      event_time: new Date(T0 - HOUR).toISOString(),
      source: 'webhook',
      consent: 'granted',
      email_sha256: sha256(`lead${seq}@example.com`),
      clicks: {
        fbclid: { value: `IwAR${seq}fbclid`, ts: new Date(T0 - 2 * HOUR).toISOString() },
        gclid: { value: `Cj0KCQiA${seq}gclid`, ts: new Date(T0 - 8 * HOUR).toISOString() },
        ttclid: { value: `E.C.P.${seq}ttclid`, ts: new Date(T0 - 2 * HOUR).toISOString() },
      },
      ...overrides,
    };
  });
}

const ads = () => googleConnection({ api: 'ads' });

function send(connection: Connection, evs: ConversionEvent[], extra: Partial<SendBatchOptions> = {}) {
  return sendBatch({ connection, events: evs, urls: fakes.urls, now, random: () => 0, timeoutMs: 2_000, ...extra });
}

const statuses = (r: Awaited<ReturnType<typeof sendBatch>>) => r.outcomes.map((o) => o.status);

describe('sendBatch: success', () => {
  const cases: Array<{ name: string; connection: () => Connection; counted: 'meta' | 'google' | 'tiktok'; route: 'meta' | 'googleAds' | 'dataManager' | 'tiktok' }> = [
    { name: 'Meta', connection: () => metaConnection(), counted: 'meta', route: 'meta' },
    { name: 'Google Data Manager', connection: () => googleConnection(), counted: 'google', route: 'dataManager' },
    { name: 'Google Ads API', connection: ads, counted: 'google', route: 'googleAds' },
    { name: 'TikTok', connection: () => tiktokConnection(), counted: 'tiktok', route: 'tiktok' },
  ];
  for (const c of cases) {
    it(`delivers a batch to ${c.name}, each event counted once`, async () => {
      const evs = events(5);
      const result = await send(c.connection(), evs);
      expect(statuses(result)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
      expect(result.batch).toMatchObject({ size: 5, eligible: 5, requests: 1 });
      expect(fakes.requests(c.route)).toHaveLength(1);
      const counted = fakes.counted(c.counted);
      expect(counted.size).toBe(5);
      expect([...counted.values()].every((n) => n === 1)).toBe(true);
    });
  }

  it('returns the request id of the answer', async () => {
    const result = await send(metaConnection(), events(1));
    expect(result.outcomes[0]?.request_id).toMatch(/.+/);
  });

  it('skips ineligible events without sending them', async () => {
    const nothingToMatch = { clicks: {}, email_sha256: undefined, phone_sha256: undefined, phone_sha256_meta: undefined };
    const evs = [...events(2), ...events(1, { consent: 'denied' }), ...events(1, nothingToMatch)];
    const result = await send(tiktokConnection(), evs);
    expect(result.outcomes.map((o) => o.reason ?? o.status)).toEqual(['sent', 'sent', 'consent_denied', 'missing_click_id']);
    expect(fakes.counted('tiktok').size).toBe(2);
  });

  it('sends TikTok an event without a ttclid that has a hashed email, and the fake takes it', async () => {
    const result = await send(tiktokConnection(), events(1, { clicks: {} }));
    expect(result.outcomes.map((o) => o.status)).toEqual(['sent']);
    expect(fakes.counted('tiktok').size).toBe(1);
  });
});

describe('sendBatch: dry run', () => {
  for (const connection of [metaConnection({ dry_run: true }), tiktokConnection({ dry_run: true }), googleConnection({ dry_run: true }), googleConnection({ api: 'ads', dry_run: true })]) {
    const label = connection.platform === 'google' ? `google ${connection.api}` : connection.platform;
    it(`counts nothing on ${label}`, async () => {
      const result = await send(connection, events(3));
      expect(result.outcomes.map((o) => [o.status, o.reason])).toEqual(Array.from({ length: 3 }, () => ['skipped', 'dry_run']));
      expect(result.batch.dry_run).toBe(true);
      expect(fakes.counted('meta').size + fakes.counted('google').size + fakes.counted('tiktok').size).toBe(0);
      if (connection.platform === 'google') {
        const route = connection.api === 'ads' ? 'googleAds' : 'dataManager';
        expect(fakes.requests(route)[0]?.body).toMatchObject({ validateOnly: true });
      } else {
        expect(fakes.requests(connection.platform)).toHaveLength(0);
        expect(JSON.stringify(result.dry_run_requests)).not.toContain(connection.access_token);
      }
    });
  }
});

describe('sendBatch: transient failures', () => {
  it('retries through 500, 500, 200 and counts once', async () => {
    fakes.script('meta', [{ kind: 'status', status: 500 }, { kind: 'status', status: 500 }]);
    const evs = events(2);
    const first = await send(metaConnection(), evs);
    expect(first.outcomes[0]).toMatchObject({ status: 'retrying', reason: 'server_error', http_status: 500, error_code: 'HTTP 500' });
    const firstAt = now().toISOString();
    t += 60_000;
    const history = Object.fromEntries(evs.map((e) => [e.id, { attempts: 1, first_attempt_at: firstAt }]));
    const second = await send(metaConnection(), evs, { history });
    expect(statuses(second)).toEqual(['retrying', 'retrying']);
    t += 120_000;
    const third = await send(metaConnection(), evs, { history: Object.fromEntries(evs.map((e) => [e.id, { attempts: 2, first_attempt_at: firstAt }])) });
    expect(statuses(third)).toEqual(['sent', 'sent']);
    expect([...fakes.counted('meta').values()]).toEqual([1, 1]);
  });

  it('honours Retry-After in next_attempt_at', async () => {
    fakes.script('tiktok', [{ kind: 'retry-after', status: 429, seconds: 120 }]);
    const result = await send(tiktokConnection(), events(1));
    expect(result.outcomes[0]).toMatchObject({ status: 'retrying', reason: 'rate_limited', http_status: 429, next_attempt_at: new Date(T0 + 120_000).toISOString() });
  });

  it('honours Google retryDelay in next_attempt_at', async () => {
    fakes.script('dataManager', [{ kind: 'google-rpc', httpStatus: 429, status: 'RESOURCE_EXHAUSTED', retryDelaySeconds: 300 }]);
    const result = await send(googleConnection(), events(1));
    expect(result.outcomes[0]).toMatchObject({ status: 'retrying', next_attempt_at: new Date(T0 + 300_000).toISOString() });
  });

  it('turns a hang into a timeout to retry', async () => {
    fakes.script('meta', [{ kind: 'hang' }]);
    const result = await send(metaConnection(), events(1), { timeoutMs: 300 });
    expect(result.outcomes[0]).toMatchObject({ status: 'retrying', reason: 'timeout', error_code: 'TIMEOUT' });
    expect(result.outcomes[0]?.error_message).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/meta\/v26\.0\/1234567890123456\/events timed out after 300 ms$/);
  });

  it('turns a socket reset into a network error to retry', async () => {
    fakes.script('googleAds', [{ kind: 'reset' }]);
    const result = await send(ads(), events(1));
    expect(result.outcomes[0]).toMatchObject({ status: 'retrying', reason: 'network', error_code: 'NETWORK' });
  });

  it('resends after accept-then-drop without double counting', async () => {
    fakes.script('tiktok', [{ kind: 'accept-then-drop' }]);
    const evs = events(3);
    expect(statuses(await send(tiktokConnection(), evs))).toEqual(['retrying', 'retrying', 'retrying']);
    expect(statuses(await send(tiktokConnection(), evs, { history: Object.fromEntries(evs.map((e) => [e.id, { attempts: 1 }])) }))).toEqual(['sent', 'sent', 'sent']);
    expect([...fakes.counted('tiktok').values()]).toEqual([2, 2, 2]);
  });

  it('retries TikTok 40100', async () => {
    fakes.script('tiktok', [{ kind: 'tiktok-code', code: 40100 }]);
    const result = await send(tiktokConnection(), events(2));
    expect(result.outcomes[0]).toMatchObject({ status: 'retrying', reason: 'rate_limited', error_code: '40100' });
    expect(fakes.counted('tiktok').size).toBe(0);
  });

  it('marks an event dead once Meta would no longer deduplicate a resend', async () => {
    fakes.script('meta', [{ kind: 'status', status: 503 }]);
    const evs = events(1);
    const result = await send(metaConnection(), evs, { history: { [evs[0]!.id]: { attempts: 6, first_attempt_at: new Date(T0 - 47.5 * HOUR).toISOString() } } });
    expect(result.outcomes[0]).toMatchObject({ status: 'dead', reason: 'dedup_window_passed', error_code: 'HTTP 503' });
  });
});

describe('sendBatch: bad events', () => {
  it('skips an event that fails the input schema and sends the rest', async () => {
    const evs = events(3);
    evs[1] = { ...evs[1]!, email_sha256: 'plain@example.com' };
    const result = await send(metaConnection(), evs);
    expect(statuses(result)).toEqual(['sent', 'skipped', 'sent']);
    expect(result.outcomes[1]).toMatchObject({ reason: 'invalid_event' });
    expect(result.outcomes[1]?.message).toMatch(/email_sha256/);
  });

  it('fails only the rows Google names in partialFailureError (3 of 10)', async () => {
    fakes.script('googleAds', [{ kind: 'google-partial', rows: [0, 3, 9], error: 'CLICK_NOT_FOUND' }]);
    const result = await send(ads(), events(10));
    expect(statuses(result)).toEqual(['failed', 'sent', 'sent', 'failed', 'sent', 'sent', 'sent', 'sent', 'sent', 'failed']);
    expect(result.outcomes[3]).toMatchObject({ reason: 'invalid_request', error_code: 'CLICK_NOT_FOUND', http_status: 200 });
    expect(fakes.counted('google').size).toBe(7);
  });

  it('isolates one bad event in a 1,000-event Meta batch', async () => {
    const evs = events(1000);
    evs[613] = { ...evs[613]!, event_time: new Date(T0 + 24 * HOUR).toISOString() }; // the fake refuses future events
    const result = await send(metaConnection(), evs);
    expect(statuses(result).filter((s) => s === 'sent')).toHaveLength(999);
    expect(result.outcomes[613]).toMatchObject({ status: 'failed', reason: 'invalid_event', error_code: '100', http_status: 400 });
    expect(fakes.counted('meta').size).toBe(999);
    expect(result.batch.requests).toBeLessThanOrEqual(21);
  });

  it('quarantines the Data Manager event named by index and resends the rest', async () => {
    fakes.script('dataManager', [{ kind: 'google-partial', rows: [3], error: 'INVALID_CURRENCY_CODE' }]);
    const result = await send(googleConnection(), events(10));
    expect(statuses(result)).toEqual(['sent', 'sent', 'sent', 'failed', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent']);
    expect(result.outcomes[3]).toMatchObject({ reason: 'invalid_event', http_status: 400 });
    const sizes = fakes.requests('dataManager').map((r) => (r.body as { events: unknown[] }).events.length);
    expect(sizes).toEqual([10, 9]);
    expect(fakes.counted('google').size).toBe(9);
  });

  it('isolates a bad TikTok event by bisection', async () => {
    const evs = events(8);
    evs[5] = { ...evs[5]!, ttp: sha256('a cookie that looks hashed') }; // the fake refuses hashed-looking plain fields
    const result = await send(tiktokConnection(), evs);
    expect(statuses(result)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent', 'failed', 'sent', 'sent']);
    expect(result.outcomes[5]).toMatchObject({ reason: 'invalid_event', error_code: '40002' });
    expect(result.outcomes[5]?.error_message).toMatch(/ttp/);
    expect(fakes.counted('tiktok').size).toBe(7);
  });
});

describe('sendBatch: Data Manager quota', () => {
  it('waits for the client-side limiter before each request', async () => {
    const waits: number[] = [];
    const limiter = createTokenBucket({ capacity: 1, intervalMs: 60_000, now });
    fakes.script('dataManager', [{ kind: 'google-partial', rows: [0], error: 'INVALID_CURRENCY_CODE' }]);
    const result = await send(googleConnection(), events(3), { dataManagerLimiter: limiter, sleep: async (ms) => void waits.push(ms) });
    expect(statuses(result)).toEqual(['failed', 'sent', 'sent']);
    expect(waits).toEqual([60_000]);
  });

  it('sends one request per conversion action', async () => {
    const evs = [...events(2), ...events(1, { stage_id: 'stg_sale' })];
    const f = await startFakePlatforms({ now, google: { customers: ['1234567890'], conversionActions: ['987654321', '555'], clientId: 'fake-client-id.apps.googleusercontent.com', clientSecret: 'fake-client-secret', refreshTokens: ['fake-refresh-token'] } });
    try {
      const split = await sendBatch({ connection: googleConnection(), events: evs, urls: f.urls, now, overrides: { stg_sale: { google_conversion_action_id: '555' } } });
      expect(statuses(split)).toEqual(['sent', 'sent', 'sent']);
      const destinations = f.requests('dataManager').map((r) => (r.body as { destinations: Array<{ productDestinationId: string }>; events: unknown[] }));
      expect(destinations.map((b) => [b.destinations[0]?.productDestinationId, b.events.length])).toEqual([['987654321', 2], ['555', 1]]);
    } finally {
      await f.close();
    }
  });
});

describe('sendBatch: credentials', () => {
  it('refreshes an expired Google token once and delivers', async () => {
    const tokenCache = createTokenCache({ fetch, tokenUrl: fakes.urls.oauthToken, now: () => new Date(T0) });
    expect(statuses(await send(ads(), events(1), { tokenCache }))).toEqual(['sent']);
    t += 2 * HOUR; // the fake's token expired; the sender's cache clock still thinks it fresh
    const result = await send(ads(), events(2), { tokenCache });
    expect(statuses(result)).toEqual(['sent', 'sent']);
    expect(fakes.requests('oauth')).toHaveLength(2);
    expect(fakes.requests('googleAds').map((r) => r.status)).toEqual([200, 401, 200]);
  });

  it('pauses the connection when the token is refused after a refresh', async () => {
    fakes.script('dataManager', [
      { kind: 'google-rpc', httpStatus: 401, status: 'UNAUTHENTICATED' },
      { kind: 'google-rpc', httpStatus: 401, status: 'UNAUTHENTICATED' },
    ]);
    const result = await send(googleConnection(), events(2));
    expect(result.pause_connection).toBe(true);
    expect(result.outcomes[0]).toMatchObject({ status: 'failed', reason: 'auth', pause_connection: true });
    expect(fakes.requests('oauth')).toHaveLength(2);
  });

  it('pauses on a revoked refresh token', async () => {
    const result = await send(googleConnection({ refresh_token: 'revoked' }), events(1));
    expect(result.outcomes[0]).toMatchObject({ status: 'failed', reason: 'auth', error_code: 'invalid_grant', pause_connection: true });
    expect(fakes.requests('dataManager')).toHaveLength(0);
  });

  it('pauses on an invalid Meta token', async () => {
    const result = await send(metaConnection({ access_token: 'wrong' }), events(2));
    expect(result.outcomes.map((o) => [o.status, o.error_code, o.pause_connection])).toEqual([
      ['failed', '190', true],
      ['failed', '190', true],
    ]);
  });

  it('pauses an Ads connection that is not allowlisted', async () => {
    const f = await startFakePlatforms({ now, adsNotAllowlisted: ['1234567890'] });
    try {
      const result = await sendBatch({ connection: ads(), events: events(1), urls: f.urls, now });
      expect(result.outcomes[0]).toMatchObject({ status: 'failed', reason: 'not_allowlisted', error_code: 'CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE', pause_connection: true });
    } finally {
      await f.close();
    }
  });
});
