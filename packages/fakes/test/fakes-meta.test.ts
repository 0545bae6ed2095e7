import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakePlatforms, type FakePlatforms } from '../src/index.js';
import { DAY, HOUR, T0_SECONDS, postForm, postJson, sha256, testClock } from './fakes-helpers.js';

const clock = testClock();
const fakes: FakePlatforms = await startFakePlatforms({ now: clock.now });
afterAll(() => fakes.close());
beforeEach(() => {
  fakes.reset();
  clock.set(T0_SECONDS * 1000);
});

const PIXEL = '1234567890123456';
const TOKEN = 'fake-meta-token';
const url = (version = 'v26.0', pixel = PIXEL): string => `${fakes.urls.meta}/${version}/${pixel}/events`;
const withToken = (version?: string, pixel?: string): string => `${url(version, pixel)}?access_token=${TOKEN}`;

type Event = Record<string, unknown>;
function event(over: Event = {}, userData: Event = {}): Event {
  return {
    event_name: 'Lead',
    event_time: T0_SECONDS - 60,
    event_id: 'evt-1',
    action_source: 'website',
    event_source_url: 'https://shop.example/thanks',
    user_data: {
      em: [sha256('ada@example.com')],
      client_user_agent: 'Mozilla/5.0',
      client_ip_address: '203.0.113.9',
      fbc: 'fb.1.1763640000000.IwAR2abcDEF',
      ...userData,
    },
    ...over,
  };
}

describe('POST /meta/{version}/{pixel}/events', () => {
  describe('with a valid event', () => {
    it('answers events_received, empty messages and a random fbtrace_id', async () => {
      const a = await postJson(withToken(), { data: [event()] });
      const b = await postJson(withToken(), { data: [event({ event_id: 'evt-2' })] });
      expect(a.status).toBe(200);
      expect(a.body).toEqual({ events_received: 1, messages: [], fbtrace_id: expect.stringMatching(/^[A-Za-z0-9_-]{10,}$/) });
      expect(b.body.fbtrace_id).not.toBe(a.body.fbtrace_id);
    });

    it('takes the token from a JSON body', async () => {
      const r = await postJson(url(), { data: [event()], access_token: TOKEN });
      expect(r.status).toBe(200);
    });

    it('takes data as a JSON string in a form body', async () => {
      const r = await postForm(url(), { data: JSON.stringify([event()]), access_token: TOKEN });
      expect(r).toMatchObject({ status: 200, body: { events_received: 1 } });
    });
  });

  describe('request-level errors', () => {
    const cases: Array<{ name: string; send: () => Promise<{ status: number; body: any }>; code: number; subcode?: number; type?: string }> = [
      { name: 'missing token', send: () => postJson(url(), { data: [event()] }), code: 190 },
      { name: 'unknown token', send: () => postJson(`${url()}?access_token=nope`, { data: [event()] }), code: 190 },
      { name: 'unknown pixel', send: () => postJson(withToken('v26.0', '999'), { data: [event()] }), code: 100, subcode: 33, type: 'GraphMethodException' },
      { name: 'expired version v19.0', send: () => postJson(withToken('v19.0'), { data: [event()] }), code: 2635 },
      { name: 'version without .0', send: () => postJson(withToken('v26'), { data: [event()] }), code: 2635 },
      { name: 'missing data', send: () => postJson(withToken(), {}), code: 100 },
      { name: 'empty data', send: () => postJson(withToken(), { data: [] }), code: 100 },
      { name: 'data not an array', send: () => postJson(withToken(), { data: event() }), code: 100 },
      { name: '1,001 events', send: () => postJson(withToken(), { data: Array.from({ length: 1001 }, (_, i) => event({ event_id: `e${i}` })) }), code: 100 },
      { name: 'form data that is not JSON', send: () => postForm(url(), { data: '[{', access_token: TOKEN }), code: 100 },
      { name: 'unknown path', send: () => postJson(`${fakes.urls.meta}/v26.0/${PIXEL}/nope?access_token=${TOKEN}`, {}), code: 2500 },
    ];
    for (const { name, send, code, subcode, type } of cases) {
      it(`answers 400 code ${code}${subcode === undefined ? '' : `/${subcode}`} for ${name}`, async () => {
        const r = await send();
        expect(r.status).toBe(400);
        expect(r.body.error).toMatchObject({ code, type: type ?? 'OAuthException', fbtrace_id: expect.any(String), message: expect.any(String) });
        if (subcode !== undefined) expect(r.body.error.error_subcode).toBe(subcode);
        expect(fakes.counted('meta').size).toBe(0);
      });
    }
  });

  describe('per-event rules', () => {
    const cases: Array<{ name: string; event: Event; title: RegExp; subcode?: number }> = [
      { name: 'missing event_name', event: event({ event_name: '' }), title: /Event Name/ },
      { name: 'event_time in milliseconds', event: event({ event_time: T0_SECONDS * 1000 }), title: /Event Time/ },
      { name: 'event_time as a string', event: event({ event_time: String(T0_SECONDS) }), title: /Event Time/ },
      { name: 'event_time with a fraction', event: event({ event_time: T0_SECONDS - 0.5 }), title: /Event Time/ },
      { name: 'event_time 8 days old', event: event({ event_time: T0_SECONDS - 8 * 86_400 }), title: /^Event Timestamp Too Old$/, subcode: 2804003 },
      { name: 'event_time an hour ahead', event: event({ event_time: T0_SECONDS + 3600 }), title: /Future/ },
      { name: 'action_source crm', event: event({ action_source: 'crm' }), title: /Action Source/ },
      { name: 'missing action_source', event: event({ action_source: undefined }), title: /Action Source/ },
      { name: 'empty user_data', event: { ...event(), action_source: 'system_generated', user_data: {} }, title: /User Data/ },
      { name: 'website event without event_source_url', event: event({ event_source_url: undefined }), title: /Source URL/ },
      { name: 'website event without client_user_agent', event: event({}, { client_user_agent: undefined }), title: /User Agent/ },
      { name: 'plaintext email', event: event({}, { em: 'ada@example.com' }), title: /Unhashed/ },
      { name: 'upper-case hash', event: event({}, { em: sha256('x').toUpperCase() }), title: /Unhashed/ },
      { name: 'a bad phone in a list', event: event({}, { ph: [sha256('4915112345678'), '4915112345678'] }), title: /Invalid Hash/ },
      { name: 'a 32-hex (MD5-like) value', event: event({}, { fn: 'a'.repeat(32) }), title: /Invalid Hash/ },
      { name: 'an invalid IP', event: event({}, { client_ip_address: 'not-an-ip' }), title: /IP Address/ },
      { name: 'a hashed IP', event: event({}, { client_ip_address: sha256('203.0.113.9') }), title: /IP Address/ },
      { name: 'a hashed user agent', event: event({}, { client_user_agent: sha256('Mozilla') }), title: /User Agent/ },
      { name: 'an unknown user_data key', event: event({}, { email: sha256('x') }), title: /User Data/ },
      { name: 'an unknown event key', event: event({ eventName: 'Lead' }), title: /Invalid Event/ },
      { name: 'Purchase without value', event: event({ event_name: 'Purchase', custom_data: { currency: 'EUR' } }), title: /Value or Currency/, subcode: 2804019 },
      { name: 'Purchase without currency', event: event({ event_name: 'Purchase', custom_data: { value: 10 } }), title: /Value or Currency/, subcode: 2804019 },
      // A numeric string ('142.52') is valid: Meta's own examples send one (platforms.md §1.5).
      { name: 'a non-numeric string value', event: event({ event_name: 'Purchase', custom_data: { value: 'ten', currency: 'EUR' } }), title: /Invalid Value/ },
      { name: 'a 4-letter currency', event: event({ custom_data: { value: 1, currency: 'EURO' } }), title: /Currency/ },
    ];
    for (const { name, event: bad, title, subcode } of cases) {
      it(`rejects the whole request for ${name}`, async () => {
        const r = await postJson(withToken(), { data: [event({ event_id: 'good' }), bad] });
        expect(r.status).toBe(400);
        expect(r.body.error).toMatchObject({ code: 100, type: 'OAuthException', is_transient: false, fbtrace_id: expect.any(String) });
        expect(r.body.error.error_user_title).toMatch(title);
        expect(r.body.error.error_user_msg).toContain('data[1]');
        expect(r.body.error.error_subcode).toBe(subcode);
        expect(fakes.counted('meta').size).toBe(0);
      });
    }

    const accepted: Array<{ name: string; event: Event }> = [
      { name: 'a hash with the param builder appendix', event: event({}, { em: `${sha256('ada@example.com')}.AQQCAQIB`, ph: `${sha256('1')}.BA` }) },
      { name: 'a physical-store event 30 days old', event: { event_name: 'Purchase', event_time: T0_SECONDS - 30 * 86_400, action_source: 'physical_store', user_data: { ph: sha256('4915112345678') }, custom_data: { value: 5, currency: 'EUR' } } },
      { name: 'a system_generated CRM stage', event: { event_name: 'Qualified Lead', event_time: T0_SECONDS - 60, action_source: 'system_generated', user_data: { lead_id: 1234567890123456 }, custom_data: { event_source: 'crm' } } },
      { name: 'an event 4 minutes ahead (clock skew)', event: event({ event_time: T0_SECONDS + 240 }) },
      { name: 'an IPv6 address', event: event({}, { client_ip_address: '2001:db8::1' }) },
    ];
    for (const { name, event: good } of accepted) {
      it(`accepts ${name}`, async () => {
        const r = await postJson(withToken(), { data: [good] });
        expect(r.body).toMatchObject({ events_received: 1 });
        expect(r.status).toBe(200);
      });
    }
  });

  describe('fbc and fbp', () => {
    const cases: Array<{ name: string; userData: Event; diagnostic: RegExp | undefined }> = [
      { name: 'a 4-segment fbc', userData: { fbc: 'fb.1.1763640000000.IwAR2abcDEF' }, diagnostic: undefined },
      { name: 'a 5-segment fbc with appendix', userData: { fbc: 'fb.1.1763640000000.IwAR2abcDEF.AQQCAQIB', fbp: 'fb.1.1763640000000.1116446470.Bg' }, diagnostic: undefined },
      { name: 'an fbc with a seconds creationTime', userData: { fbc: 'fb.1.1763640000.IwAR2abcDEF' }, diagnostic: /creationTime 1763640000 is not Unix milliseconds/ },
      { name: 'a malformed fbp', userData: { fbp: 'GA1.2.3.4' }, diagnostic: /user_data\.fbp: "GA1\.2\.3\.4"/ },
    ];
    for (const { name, userData, diagnostic } of cases) {
      it(`accepts ${name} and records ${diagnostic === undefined ? 'no diagnostic' : 'a diagnostic'}`, async () => {
        const r = await postJson(withToken(), { data: [event({}, userData)] });
        expect(r.status).toBe(200);
        const [logged] = fakes.requests('meta');
        if (diagnostic === undefined) expect(logged?.diagnostics).toEqual([]);
        else expect(logged?.diagnostics.join('\n')).toMatch(diagnostic);
      });
    }
  });

  describe('dedup', () => {
    it('counts the same event_name and event_id once within 48 h', async () => {
      await postJson(withToken(), { data: [event()] });
      clock.advance(47 * HOUR);
      const r = await postJson(withToken(), { data: [event({ event_time: T0_SECONDS + 47 * 3600 - 60 })] });
      expect(r.body.events_received).toBe(1);
      expect([...fakes.counted('meta')]).toEqual([[`${PIXEL}:Lead:evt-1`, 2]]);
    });

    it('counts the same pair again after 48 h', async () => {
      await postJson(withToken(), { data: [event()] });
      clock.advance(2 * DAY + HOUR);
      await postJson(withToken(), { data: [event({ event_time: T0_SECONDS + 49 * 3600 - 60 })] });
      expect([...fakes.counted('meta')]).toEqual([[`${PIXEL}:Lead:evt-1`, 1], [`${PIXEL}:Lead:evt-1#2`, 1]]);
    });

    it('keeps different event names with one event_id apart', async () => {
      const r = await postJson(withToken(), { data: [event(), event({ event_name: 'Purchase', custom_data: { value: 1, currency: 'EUR' } })] });
      expect(r.body.events_received).toBe(2);
      expect(fakes.counted('meta').size).toBe(2);
    });

    it('counts every event without event_id', async () => {
      await postJson(withToken(), { data: [event({ event_id: undefined }), event({ event_id: undefined })] });
      expect(fakes.counted('meta').size).toBe(2);
    });
  });
});
