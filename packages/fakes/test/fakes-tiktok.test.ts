import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakePlatforms, type FakePlatforms } from '../src/index.js';
import { T0, T0_SECONDS, postJson, sha256, testClock } from './fakes-helpers.js';

const clock = testClock();
const fakes: FakePlatforms = await startFakePlatforms({ now: clock.now });
afterAll(() => fakes.close());
beforeEach(() => {
  fakes.reset();
  clock.set(T0);
});

const PIXEL = 'CFAKEPIXEL0000000000';
const trackUrl = (): string => `${fakes.urls.tiktok}/open_api/v1.3/event/track/`;
const auth = { 'access-token': 'fake-tiktok-token' };
type Json = Record<string, unknown>;
const event = (over: Json = {}, user: Json = {}, properties: Json = {}): Json => ({
  event: 'Purchase',
  event_time: T0_SECONDS - 60,
  event_id: 'evt-1',
  user: { email: sha256('ada@example.com'), phone: [sha256('+4915112345678')], external_id: sha256('user_123'), ip: '203.0.113.9', user_agent: 'Mozilla/5.0', ttclid: 'E.C.P.abc123', ttp: 'ttp-cookie', ...user },
  properties: { value: 129.5, currency: 'EUR', contents: [{ content_id: 'sku-1', quantity: 1 }], ...properties },
  page: { url: 'https://shop.example/thanks' },
  ...over,
});
const body = (over: Json = {}): Json => ({ event_source: 'web', event_source_id: PIXEL, data: [event()], ...over });

describe('POST /tiktok/open_api/v1.3/event/track/', () => {
  it('answers code 0 OK with a request_id and counts the event', async () => {
    const r = await postJson(trackUrl(), body(), auth);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ code: 0, message: 'OK', request_id: expect.stringMatching(/^20261120120000[0-9A-F]{18}$/), data: {} });
    expect([...fakes.counted('tiktok')]).toEqual([[`${PIXEL}:evt-1:Purchase`, 1]]);
  });

  it('answers 404 without the trailing slash', async () => {
    const r = await postJson(`${fakes.urls.tiktok}/open_api/v1.3/event/track`, body(), auth);
    expect(r.status).toBe(404);
  });

  const cases: Array<{ name: string; body: Json; headers?: Record<string, string>; code: number; message: RegExp }> = [
    { name: 'no Access-Token', body: body(), headers: {}, code: 40001, message: /Access-Token/ },
    { name: 'an unknown Access-Token', body: body(), headers: { 'access-token': 'nope' }, code: 40001, message: /invalid/ },
    { name: 'event_source website', body: body({ event_source: 'website' }), code: 40002, message: /^event_source: / },
    { name: 'an unknown event_source_id', body: body({ event_source_id: 'CUNKNOWN' }), code: 40002, message: /^event_source_id: / },
    { name: 'empty data', body: body({ data: [] }), code: 40002, message: /^data: / },
    { name: '1,001 events', body: body({ data: Array.from({ length: 1001 }, (_, i) => event({ event_id: `e${i}` })) }), code: 40002, message: /^data: At most 1000/ },
    { name: 'a missing event name', body: body({ data: [event(), event({ event: '' })] }), code: 40002, message: /^data\.1\.event: / },
    { name: 'event_time in milliseconds', body: body({ data: [event({ event_time: T0 })] }), code: 40002, message: /^data\.0\.event_time: .*milliseconds/ },
    { name: 'an ISO event_time', body: body({ data: [event({ event_time: '2026-11-20T12:00:00Z' })] }), code: 40002, message: /^data\.0\.event_time: / },
    { name: 'a plaintext email', body: body({ data: [event({}, { email: 'ada@example.com' })] }), code: 40002, message: /^data\.0\.user\.email: / },
    { name: 'a plaintext phone in a list', body: body({ data: [event({}, { phone: [sha256('+1'), '+4915112345678'] })] }), code: 40002, message: /^data\.0\.user\.phone\.1: / },
    { name: 'a numeric external_id', body: body({ data: [event({}, { external_id: 123 })] }), code: 40002, message: /^data\.0\.user\.external_id: Not a valid string/ },
    { name: 'an invalid IP', body: body({ data: [event({}, { ip: '999.1.1.1' })] }), code: 40002, message: /^data\.0\.user\.ip: / },
    { name: 'a hashed ttclid', body: body({ data: [event({}, { ttclid: sha256('x') })] }), code: 40002, message: /^data\.0\.user\.ttclid: must not be hashed/ },
    { name: 'a string value', body: body({ data: [event({}, {}, { value: '129.5' })] }), code: 40002, message: /^data\.0\.properties\.value: Not a valid number/ },
    { name: 'a lower-case currency', body: body({ data: [event({}, {}, { currency: 'eur' })] }), code: 40002, message: /^data\.0\.properties\.currency: / },
    { name: 'a numeric content_id', body: body({ data: [event({}, {}, { contents: [{ content_id: 42 }] })] }), code: 40002, message: /^data\.0\.properties\.contents\.0\.content_id: Not a valid string$/ },
  ];
  for (const { name, body: sent, headers, code, message } of cases) {
    it(`answers HTTP 200 code ${code} for ${name} and counts nothing`, async () => {
      const r = await postJson(trackUrl(), sent, headers ?? auth);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ code, message: expect.stringMatching(message), request_id: expect.any(String), data: {} });
      expect(fakes.counted('tiktok').size).toBe(0);
    });
  }

  it('accepts an offline event with a bare hashed email', async () => {
    const r = await postJson(trackUrl(), body({ event_source: 'offline', data: [{ event: 'Lead', event_time: T0_SECONDS - 3600, event_id: 'x', user: { email: sha256('a') } }] }), auth);
    expect(r.body.code).toBe(0);
  });

  describe('dedup', () => {
    it('counts the same source, event_id and event once', async () => {
      await postJson(trackUrl(), body(), auth);
      await postJson(trackUrl(), body(), auth);
      expect([...fakes.counted('tiktok')]).toEqual([[`${PIXEL}:evt-1:Purchase`, 2]]);
    });

    it('keeps different events with one event_id apart', async () => {
      await postJson(trackUrl(), body({ data: [event(), event({ event: 'Lead' })] }), auth);
      expect(fakes.counted('tiktok').size).toBe(2);
    });
  });
});
