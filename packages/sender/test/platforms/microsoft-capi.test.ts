/** The UET Conversions API path of the Microsoft adapter: connection, eligibility, event builder, answer reader (microsoft-ads.md §8, §9). Pure. */
import { describe, expect, it } from 'vitest';
import { checkMicrosoftCapi } from '../../src/platforms/microsoft/capi-eligibility.js';
import { buildCapiRequest, capiEvent, type CapiBody, type MicrosoftCapiPlan } from '../../src/platforms/microsoft/capi-request.js';
import { CAPI_LABEL, classifyCapiResponse, readCapiAnswer } from '../../src/platforms/microsoft/capi-response.js';
import { MICROSOFT_CONNECTION } from '../../src/platforms/microsoft/connection.js';
import { microsoft } from '../../src/platforms/microsoft/index.js';
import type { EventResult } from '../../src/outcomes.js';
import type { ConversionEvent } from '../../src/types.js';
import { NOW, makeEvent, microsoftConnection, response, sha256 } from '../helpers.js';

const CLICK = '9f223aca6be512d830005cea8c9d3b06';
const DAY = 86_400_000;
const TAG = '187000001';
const capi = microsoftConnection({ api: 'uet-capi', uet_tag_id: TAG, uet_api_token: 'tag-token' });
const msEvent = (o: Partial<ConversionEvent> = {}): ConversionEvent => makeEvent({ clicks: { msclkid: { value: CLICK, ts: '2026-11-20T12:00:00.000Z' } }, ...o });

function plan(o: Partial<ConversionEvent> = {}): MicrosoftCapiPlan {
  const r = checkMicrosoftCapi(msEvent(o), capi, NOW);
  if (!r.send) throw new Error(r.message);
  return r.plan;
}
const results = (c: ReturnType<typeof classifyCapiResponse>): EventResult[] => (c.verdict.type === 'each' ? c.verdict.results : []);

describe('the connection\'s path', () => {
  it('defaults to offline conversions and lists the path as a choice, the token as a secret', () => {
    const fields = Object.fromEntries(MICROSOFT_CONNECTION.fields.map((f) => [f.name, f]));
    expect(fields['api']).toMatchObject({ type: 'choice', choices: ['offline-conversions', 'uet-capi'], default: 'offline-conversions', required: false });
    expect(fields['uet_api_token']).toMatchObject({ kind: 'secret', required: false });
    expect(fields['uet_tag_id']).toMatchObject({ kind: 'setting', type: 'text' });
  });

  it('needs the tag id (digits) and the token on the uet-capi path only', () => {
    expect(MICROSOFT_CONNECTION.schema.safeParse(microsoftConnection()).success).toBe(true);
    const missing = MICROSOFT_CONNECTION.schema.safeParse(microsoftConnection({ api: 'uet-capi' }));
    expect(missing.success).toBe(false);
    expect(missing.error?.issues.map((i) => i.path.join('.'))).toEqual(['uet_tag_id', 'uet_api_token']);
    expect(MICROSOFT_CONNECTION.schema.safeParse({ ...capi, uet_tag_id: 'abc' }).success).toBe(false);
    expect(MICROSOFT_CONNECTION.schema.safeParse(capi).success).toBe(true);
  });

  it('takes the offline path or the Conversions API by the connection, never both', () => {
    const offline = microsoft.check(msEvent(), microsoftConnection(), undefined, NOW);
    const viaCapi = microsoft.check(msEvent(), capi, undefined, NOW);
    expect(offline.send && 'api' in offline.plan).toBe(false);
    expect(viaCapi.send && 'api' in viaCapi.plan && viaCapi.plan.api).toBe('uet-capi');
  });
});

describe('eligibility on the Conversions API', () => {
  const cases: Array<{ name: string; event: Partial<ConversionEvent>; send: boolean; reason?: string }> = [
    { name: 'an msclkid', event: {}, send: true },
    { name: 'an email hash without a click', event: { clicks: {}, email_sha256: sha256('a@b.co') }, send: true },
    { name: 'a phone hash without a click', event: { clicks: {}, phone_sha256: sha256('+14255551234') }, send: true },
    { name: 'no msclkid and no hash', event: { clicks: {} }, send: false, reason: 'missing_click_id' },
    { name: 'a malformed msclkid and no hash', event: { clicks: { msclkid: { value: 'not-a-click' } } }, send: false, reason: 'missing_click_id' },
    { name: 'an event 7 days and a minute old', event: { event_time: new Date(NOW.getTime() - 7 * DAY - 60_000).toISOString() }, send: false, reason: 'event_too_old' },
    { name: 'an event 6 days old', event: { event_time: new Date(NOW.getTime() - 6 * DAY).toISOString() }, send: true },
    { name: 'an event an hour ahead', event: { event_time: new Date(NOW.getTime() + 3_600_000).toISOString() }, send: false, reason: 'invalid_event' },
    { name: 'a negative value', event: { revenue_value: -1, currency: 'EUR' }, send: false, reason: 'invalid_event' },
    // The offline path's hour after the click does not apply: CAPI takes events as they happen.
    { name: 'a click a minute old', event: { clicks: { msclkid: { value: CLICK, ts: new Date(NOW.getTime() - 60_000).toISOString() } } }, send: true },
  ];
  for (const c of cases) {
    it(`${c.send ? 'sends' : 'skips'} ${c.name}`, () => {
      const r = checkMicrosoftCapi(msEvent(c.event), capi, NOW);
      expect(r.send).toBe(c.send);
      if (!r.send) expect(r.reason).toBe(c.reason);
    });
  }

  it('needs no developer token or Azure app', () => {
    const { developer_token: _d, client_id: _c, client_secret: _s, ...bare } = capi;
    expect(checkMicrosoftCapi(msEvent(), bare, NOW).send).toBe(true);
    expect(microsoft.check(msEvent(), { ...bare, api: 'offline-conversions' }, undefined, NOW)).toMatchObject({ send: false, reason: 'no_connection' });
  });
});

describe('the event', () => {
  it('carries the event UUID as eventId, the stage key as eventName and the stored time in seconds', () => {
    const p = plan({ event_time: '2026-11-20T14:00:00.900Z', stage_key: 'booked_call' });
    expect(capiEvent(p)).toEqual({
      eventType: 'custom',
      eventId: p.event.id,
      eventName: 'booked_call',
      eventTime: Date.parse('2026-11-20T14:00:00.000Z') / 1000,
      adStorageConsent: 'G',
      userData: { msclkid: CLICK },
      customData: { transactionId: p.event.id },
    });
  });

  it('sends Microsoft\'s email hash, the E.164 phone hash, IP, user agent, value and currency', () => {
    const e = capiEvent(plan({
      email_sha256: sha256('john.doe@contoso.com'), email_sha256_microsoft: sha256('johndoe@contoso.com'), phone_sha256: sha256('+14255551234'),
      client_ip: '203.0.113.9', user_agent: 'Mozilla/5.0', revenue_value: 120.5, currency: 'EUR',
    }));
    expect(e.userData).toEqual({ msclkid: CLICK, em: sha256('johndoe@contoso.com'), ph: sha256('+14255551234'), clientIpAddress: '203.0.113.9', clientUserAgent: 'Mozilla/5.0' });
    expect(e.customData).toEqual({ value: 120.5, currency: 'EUR', transactionId: e.eventId });
  });

  it('strips the UET cookie prefix and beacon suffix of the msclkid', () => {
    expect(capiEvent(plan({ clicks: { msclkid: { value: `_uet${CLICK}-1` } } })).userData.msclkid).toBe(CLICK);
  });

  it('leaves consent out when the site did not ask', () => {
    expect(capiEvent(plan({ consent: 'unspecified' })).adStorageConsent).toBeUndefined();
  });

  it('builds the same request on a retry, with continueOnValidationError and the data provider', () => {
    const plans = [plan(), plan()];
    const a = buildCapiRequest(capi, plans, 'https://capi.uet.microsoft.com/');
    const b = buildCapiRequest(capi, plans, 'https://capi.uet.microsoft.com/');
    expect(a.url).toBe(`https://capi.uet.microsoft.com/v1/${TAG}/events`);
    expect(a.headers).toEqual({ authorization: 'Bearer tag-token', 'content-type': 'application/json' });
    expect((a.body as CapiBody).continueOnValidationError).toBe(true);
    expect((a.body as CapiBody).dataProvider).toBe('pruuv');
    expect(JSON.stringify(b.body)).toBe(JSON.stringify(a.body));
  });
});

describe('the answer', () => {
  const detail = (index: number, o: Record<string, unknown> = {}) => ({
    index, propertyName: `data[${index}].eventTime`, attemptedValue: null, errorMessage: 'eventTime is required.', errorCode: 'Empty', isWarning: false, ...o,
  });

  it('counts every event received on a 200 and says which path took it', () => {
    const r = results(classifyCapiResponse(response(200, { eventsReceived: 2 }), 2, NOW));
    expect(r).toHaveLength(2);
    for (const x of r) expect(x).toMatchObject({ kind: 'sent', message: expect.stringMatching(new RegExp(`^${CAPI_LABEL}: received by Microsoft \\(HTTP 200, 2 of the request's 2 received\\)`)) });
  });

  it('fails the event a 200 names with a non-warning error, and records a warning on an event it still took', () => {
    const body = { eventsReceived: 2, error: { code: 'ValidationError', message: '…', details: [detail(1), detail(2, { propertyName: 'data[2].userData.em', errorCode: 'InvalidSha256', isWarning: true })] } };
    const r = results(classifyCapiResponse(response(200, body), 3, NOW));
    expect(r[0]).toMatchObject({ kind: 'sent' });
    expect(r[1]).toMatchObject({ kind: 'fail', reason: 'invalid_event', error_code: 'Empty', error_message: 'UET Conversions API: data[1].eventTime Empty eventTime is required.' });
    expect(r[2]).toMatchObject({ kind: 'sent', message: expect.stringContaining('Warnings (field dropped by Microsoft): data[2].userData.em InvalidSha256') });
  });

  it('on a 400 fails the events it names and sends the others again', () => {
    const r = results(classifyCapiResponse(response(400, { error: { code: 'ValidationError', message: '…', details: [detail(0)] } }), 2, NOW));
    expect(r[0]).toMatchObject({ kind: 'fail', reason: 'invalid_event' });
    expect(r[1]).toMatchObject({ kind: 'retry', reason: 'not_named' });
  });

  it('reads the index from propertyName when index is absent', () => {
    expect(readCapiAnswer({ error: { code: 'ValidationError', details: [{ propertyName: 'data[3].userData', errorCode: 'X', isWarning: false }] } })?.details[0]?.index).toBe(3);
  });

  const statuses: Array<{ status: number; body: unknown; kind: string; reason: string; headers?: Record<string, string> }> = [
    { status: 401, body: { error: { code: 'Unauthorized', message: 'You are not authorized to access this resource.' } }, kind: 'pause', reason: 'auth' },
    { status: 403, body: { error: { code: 'Forbidden', message: 'x' } }, kind: 'pause', reason: 'permission' },
    { status: 429, body: { error: { code: 'TooManyRequests', message: 'x' } }, kind: 'retry', reason: 'rate_limited', headers: { 'retry-after': '30' } },
    { status: 500, body: { error: { code: 'InternalServerError', message: 'x' } }, kind: 'retry', reason: 'server_error' },
    { status: 502, body: '<html>Bad Gateway</html>', kind: 'retry', reason: 'server_error' },
    { status: 400, body: { error: { code: 'ValidationError', message: 'x', details: [{ propertyName: 'data', errorCode: 'Empty', isWarning: false }] } }, kind: 'fail', reason: 'invalid_request' },
  ];
  for (const s of statuses) {
    it(`answers HTTP ${s.status} with ${s.kind} (${s.reason}) for the whole request`, () => {
      const c = classifyCapiResponse(response(s.status, s.body, s.headers), 2, NOW);
      expect(c.verdict).toMatchObject({ type: 'all', result: { kind: s.kind, reason: s.reason } });
      if (s.headers !== undefined) expect(c.verdict).toMatchObject({ result: { retryAfterMs: 30_000 } });
    });
  }

  it('tells a person to give a new token after a 401', () => {
    const c = classifyCapiResponse(response(401, { error: { code: 'Unauthorized', message: 'You are not authorized to access this resource.' } }), 1, NOW);
    expect(c.verdict.type === 'all' && c.verdict.result.kind === 'pause' && c.verdict.result.error_message).toMatch(/token was refused: paste the tag's current token .* Reconnect/);
  });

  it('retries a 200 whose body it cannot read', () => {
    expect(classifyCapiResponse(response(200, 'ok'), 1, NOW).verdict).toMatchObject({ type: 'all', result: { kind: 'retry', reason: 'bad_response' } });
  });
});
