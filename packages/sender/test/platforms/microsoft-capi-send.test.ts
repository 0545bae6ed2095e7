/**
 * The UET Conversions API path through sendBatch against the strict fake
 * over real HTTP on 127.0.0.1 (microsoft-ads.md §8, §9).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS, startFakePlatforms, type FakePlatforms } from '@pruuv/fakes';
import { sendBatch, type SendBatchOptions } from '../../src/send-batch.js';
import type { CapiBody } from '../../src/platforms/microsoft/capi-request.js';
import type { MicrosoftConnection } from '../../src/platforms/microsoft/connection.js';
import type { ConversionEvent } from '../../src/types.js';
import { microsoftConnection, sha256 } from '../helpers.js';

const T0 = Date.parse('2026-11-20T12:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const D = FAKE_DEFAULTS.microsoft;
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

const capi = (o: Partial<MicrosoftConnection> = {}): MicrosoftConnection =>
  microsoftConnection({ api: 'uet-capi', uet_tag_id: D.uetTagId, uet_api_token: D.uetTagToken, ...o });

let seq = 0;
function events(n: number, o: Partial<ConversionEvent> = {}): ConversionEvent[] {
  return Array.from({ length: n }, () => {
    seq += 1;
    return {
      id: `30000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
      client_id: 'cli_1', stage_id: 'stg_lead', stage_key: 'lead', reference: `crm-${seq}`,
      event_time: new Date(T0 - 2 * HOUR).toISOString(), source: 'webhook', consent: 'granted',
      email_sha256_microsoft: sha256(`lead${seq}@example.com`),
      clicks: { msclkid: { value: sha256(`click${seq}`).slice(0, 32), ts: new Date(T0 - 3 * HOUR).toISOString() } },
      ...o,
    };
  });
}

function send(evs: ConversionEvent[], extra: Partial<SendBatchOptions> = {}, connection: MicrosoftConnection = capi()) {
  return sendBatch({ connection, events: evs, urls: fakes.urls, now, random: () => 0, timeoutMs: 2_000, ...extra });
}
const posts = () => fakes.requests('microsoftCapi');
const bodyOf = (i: number) => posts()[i]?.body as CapiBody;

describe('Microsoft UET Conversions API: delivery', () => {
  it('sends 1,500 events in requests of at most 1,000 to the tag, each received once, and nothing to offline conversions', async () => {
    const evs = events(1500);
    const r = await send(evs);
    expect(r.outcomes.every((o) => o.status === 'sent' && o.message?.startsWith('UET Conversions API: received by Microsoft'))).toBe(true);
    expect(bodyOf(0).data[0]).toMatchObject({ eventId: evs[0]?.id, eventName: 'lead', eventType: 'custom' });
    expect(posts().map((p) => [p.path, (p.body as CapiBody).data.length])).toEqual([
      [`/microsoft-capi/v1/${D.uetTagId}/events`, 1000],
      [`/microsoft-capi/v1/${D.uetTagId}/events`, 500],
    ]);
    expect(posts()[0]?.headers['authorization']).toBe(`Bearer ${D.uetTagToken}`);
    expect(fakes.counted('microsoftCapi').size).toBe(1500);
    expect(fakes.counted('microsoftCapi').get(`${D.uetTagId}:lead:${evs[0]?.id}`)).toBe(1);
    expect(fakes.requests('microsoftCampaign')).toHaveLength(0);
    expect(fakes.requests('microsoftOAuth')).toHaveLength(0);
    expect(r.batch.api).toBe('uet-capi');
  });

  it('fails the event Microsoft names with its code and message, and the others go', async () => {
    const evs = events(3);
    fakes.script('microsoftCapi', [{ kind: 'microsoft-capi-invalid', indexes: [1], errorCode: 'InvalidEventTime' }]);
    const r = await send(evs);
    expect(r.outcomes.map((o) => o.status)).toEqual(['sent', 'failed', 'sent']);
    expect(r.outcomes[1]).toMatchObject({ reason: 'invalid_event', http_status: 200, error_code: 'InvalidEventTime', error_message: 'UET Conversions API: data[1] InvalidEventTime Scripted validation error.' });
    expect(fakes.counted('microsoftCapi').size).toBe(2);
    expect(fakes.counted('microsoftCapi').has(`${D.uetTagId}:lead:${evs[1]?.id}`)).toBe(false);
    // Never retried: a later batch does not carry it.
    expect(posts()).toHaveLength(1);
  });

  it('records a warning in the audit message of an event Microsoft still took', async () => {
    const [e] = events(1, { currency: 'ABC', revenue_value: 10 });
    const r = await send([e as ConversionEvent]);
    expect(r.outcomes[0]).toMatchObject({ status: 'sent' });
    expect(r.outcomes[0]?.message).toMatch(/Warnings \(field dropped by Microsoft\): data\[0\]\.customData\.currency InvalidCurrency/);
  });

  it('pauses the connection on a 401 with a message about the token, and sends nothing more', async () => {
    const r = await send(events(2), {}, capi({ uet_api_token: 'revoked-token' }));
    expect(r.pause_connection).toBe(true);
    expect(r.outcomes.map((o) => [o.status, o.reason, o.http_status])).toEqual([['failed', 'auth', 401], ['failed', 'auth', 401]]);
    expect(r.outcomes[0]?.error_message).toMatch(/^UET Conversions API: You are not authorized to access this resource\. The UET tag's Conversions API token was refused/);
    expect(posts()).toHaveLength(1);
  });

  it('retries a 5xx and a 429 with backoff, then sends the same eventId, counted once', async () => {
    const [e] = events(1);
    fakes.script('microsoftCapi', [{ kind: 'status', status: 503, body: { error: { code: 'ServiceUnavailable', message: 'x' } } }]);
    const first = await send([e as ConversionEvent]);
    expect(first.outcomes[0]).toMatchObject({ status: 'retrying', reason: 'server_error', http_status: 503 });
    fakes.script('microsoftCapi', [{ kind: 'retry-after', status: 429, seconds: 90 }]);
    const second = await send([e as ConversionEvent], { history: { [e!.id]: { attempts: 1, first_attempt_at: new Date(T0).toISOString() } } });
    expect(second.outcomes[0]).toMatchObject({ status: 'retrying', reason: 'rate_limited', next_attempt_at: new Date(T0 + 90_000).toISOString() });
    t = T0 + HOUR;
    const third = await send([e as ConversionEvent], { history: { [e!.id]: { attempts: 2, first_attempt_at: new Date(T0).toISOString() } } });
    expect(third.outcomes[0]?.status).toBe('sent');
    // An answer lost on the way: the resend is the same event, counted once.
    fakes.script('microsoftCapi', [{ kind: 'accept-then-drop' }]);
    expect((await send([e as ConversionEvent])).outcomes[0]?.status).toBe('retrying');
    await send([e as ConversionEvent]);
    expect(posts().map((p) => (p.body as CapiBody).data[0]?.eventId)).toEqual(Array(5).fill(e!.id));
    expect(new Set(posts().map((p) => JSON.stringify(p.body))).size).toBe(1);
    expect([...fakes.counted('microsoftCapi').values()]).toEqual([3]);
    expect(fakes.microsoft.capiEvents().map((x) => x.verdict)).toEqual(['counted', 'duplicate', 'duplicate']);
  });

  it('stops retrying at 7 days: a retry due later is skipped with its reason, never sent', async () => {
    const [e] = events(1, { event_time: new Date(T0 - 6 * DAY).toISOString() });
    fakes.script('microsoftCapi', [{ kind: 'status', status: 500 }]);
    expect((await send([e as ConversionEvent])).outcomes[0]?.status).toBe('retrying');
    t = T0 + DAY + HOUR;
    const late = await send([e as ConversionEvent], { history: { [e!.id]: { attempts: 1, first_attempt_at: new Date(T0).toISOString() } } });
    expect(late.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'event_too_old' });
    expect(late.outcomes[0]?.message).toMatch(/7 days/);
    expect(posts()).toHaveLength(1);
  });

  it('sends a build-only dry run nowhere and shows no token', async () => {
    const r = await send(events(2), {}, capi({ dry_run: true }));
    expect(r.outcomes.every((o) => o.reason === 'dry_run')).toBe(true);
    expect(posts()).toHaveLength(0);
    expect(JSON.stringify(r.dry_run_requests)).not.toContain(D.uetTagToken);
    expect(r.dry_run_requests?.[0]?.url).toBe(`${fakes.urls.microsoftCapi}/v1/${D.uetTagId}/events`);
  });

  it('sends through offline conversions, and nothing to the tag, when the connection goes back to that path', async () => {
    const r = await send(events(1), {}, capi({ api: 'offline-conversions' }));
    expect(r.outcomes[0]?.status).toBe('sent');
    expect(posts()).toHaveLength(0);
    expect(fakes.counted('microsoft').size).toBe(1);
  });
});
