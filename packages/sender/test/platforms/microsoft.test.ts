import { describe, expect, it } from 'vitest';
import { microsoftClickId } from '../../src/platforms/microsoft/click-id.js';
import { microsoftEmail } from '../../src/platforms/microsoft/email.js';
import { checkMicrosoft, type MicrosoftPlan } from '../../src/platforms/microsoft/eligibility.js';
import { MICROSOFT_FROZEN } from '../../src/platforms/microsoft/frozen.js';
import { buildMicrosoftRequest, type ApplyOfflineConversionsBody } from '../../src/platforms/microsoft/request.js';
import { sendBatch } from '../../src/send-batch.js';
import { ACCEPTED_MESSAGE, classifyMicrosoftResponse, needsRefresh } from '../../src/platforms/microsoft/response.js';
import type { ConversionEvent } from '../../src/types.js';
import { NOW, makeEvent, microsoftConnection, response, sha256 } from '../helpers.js';

const CLICK = '9f223aca6be512d830005cea8c9d3b06';
const DAY = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const msEvent = (o: Partial<ConversionEvent> = {}): ConversionEvent =>
  makeEvent({ clicks: { msclkid: { value: CLICK, ts: '2026-11-20T12:00:00.000Z' } }, ...o });
const endpoints = { campaign: 'https://campaign.api.bingads.microsoft.com', version: 'v13' };

function plan(o: Partial<ConversionEvent> = {}): MicrosoftPlan {
  const r = checkMicrosoft(msEvent(o), microsoftConnection(), undefined, NOW);
  if (!r.send) throw new Error(r.message);
  return r.plan;
}

describe('Microsoft hashing (microsoft-ads.md §3.1)', () => {
  it('reproduces Microsoft\'s vectors', () => {
    expect(sha256('john@contoso.com')).toBe('ec81f3ac7b2b19675bab9d54cf416f9f18cff87c97da5cca82c0f0891bc40602');
    expect(sha256('+14255551234')).toBe('c59475d96e9f01d7d18d06cfad84dd02333207f02c0c2c5663ef2782cda0390e');
  });

  it('removes dots and +alias from the local part on every domain', () => {
    expect(microsoftEmail(' John.Doe+ads@Contoso.com ')).toBe('johndoe@contoso.com');
    expect(sha256(microsoftEmail('John.Doe+ads@Contoso.com') as string)).toBe('7272c6a41efa18b518d5789e2336282715b23c50a51cc2890643bdaa97b96840');
    expect(microsoftEmail('a.b@gmail.com')).toBe('ab@gmail.com');
    expect(microsoftEmail('+tag@x.com')).toBeUndefined();
  });
});

describe('microsoftClickId', () => {
  const cases = [
    { input: CLICK, expected: CLICK },
    { input: `_uet${CLICK}`, expected: CLICK },
    { input: `${CLICK}-1`, expected: CLICK },
    { input: '3fa85f64-5717-4562-b3fc-2c963f66afa6', expected: '3fa85f64-5717-4562-b3fc-2c963f66afa6' },
    { input: 'abc', expected: undefined },
  ];
  for (const { input, expected } of cases) it(`reads ${input}`, () => expect(microsoftClickId(input)).toBe(expected));
});

describe('checkMicrosoft', () => {
  const cases: Array<{ name: string; event: Partial<ConversionEvent>; reason: string }> = [
    { name: 'no msclkid', event: { clicks: { gclid: { value: 'g' } } }, reason: 'missing_click_id' },
    { name: 'a malformed msclkid', event: { clicks: { msclkid: { value: 'nope' } } }, reason: 'missing_click_id' },
    { name: 'a conversion before the click', event: { event_time: '2026-11-20T11:00:00.000Z' }, reason: 'conversion_before_click' },
    { name: 'a conversion more than 90 days old', event: { event_time: iso(NOW.getTime() - 91 * DAY), clicks: { msclkid: { value: CLICK } } }, reason: 'event_too_old' },
    {
      name: 'a conversion more than 90 days after the click',
      event: { event_time: iso(NOW.getTime() - DAY), clicks: { msclkid: { value: CLICK, ts: iso(NOW.getTime() - 92 * DAY) } } },
      reason: 'click_too_old',
    },
  ];
  for (const c of cases) {
    it(`skips ${c.name}`, () => {
      const r = checkMicrosoft(msEvent(c.event), microsoftConnection(), undefined, NOW);
      expect(r).toMatchObject({ send: false, reason: c.reason });
    });
  }

  it('skips when the operator set no developer token, naming the variable', () => {
    const { developer_token: _d, ...conn } = microsoftConnection();
    const r = checkMicrosoft(msEvent(), conn, undefined, NOW);
    expect(r).toMatchObject({ send: false, reason: 'no_connection', message: expect.stringContaining('PRUUV_MICROSOFT_DEVELOPER_TOKEN') });
  });

  it('refuses a cid or aid that is not numeric', () => {
    const r = checkMicrosoft(msEvent(), microsoftConnection({ account_id: 'F120ABCD' }), undefined, NOW);
    expect(r).toMatchObject({ send: false, reason: 'no_connection', message: expect.stringContaining('account id') });
  });
});

describe('buildMicrosoftRequest', () => {
  it('posts to OfflineConversions/Apply with the REST headers', () => {
    const req = buildMicrosoftRequest(microsoftConnection(), [plan()], 'tok', endpoints);
    expect(req.url).toBe('https://campaign.api.bingads.microsoft.com/CampaignManagement/v13/OfflineConversions/Apply');
    expect(req.headers).toEqual({
      authorization: 'Bearer tok', developertoken: 'FAKEDEVTOKEN01', customerid: '251000001', customeraccountid: '180000001', 'content-type': 'application/json',
    });
  });

  it('sends the stored event time in UTC, the value with its currency, and the Microsoft email hash to an enhanced goal', () => {
    const p = plan({
      event_time: '2026-11-20T15:30:00+01:00', revenue_value: 120.5, currency: 'EUR',
      email_sha256: sha256('john.doe@contoso.com'), email_sha256_microsoft: sha256('johndoe@contoso.com'), phone_sha256: sha256('+14255551234'), phone_sha256_meta: sha256('14255551234'),
    });
    const body = buildMicrosoftRequest(microsoftConnection(), [p], 't', endpoints).body as ApplyOfflineConversionsBody;
    expect(body).toEqual({
      OfflineConversions: [{
        MicrosoftClickId: CLICK, ConversionName: 'Pruuv offline conversions', ConversionTime: '2026-11-20T14:30:00.000Z',
        ConversionValue: 120.5, ConversionCurrencyCode: 'EUR',
        HashedEmailAddress: sha256('johndoe@contoso.com'), HashedPhoneNumber: 'c59475d96e9f01d7d18d06cfad84dd02333207f02c0c2c5663ef2782cda0390e',
      }],
    });
  });

  it('sends no hashes to a goal without enhanced conversions', () => {
    const p = plan({ email_sha256: sha256('a@b.co'), phone_sha256: sha256('+1') });
    const body = buildMicrosoftRequest(microsoftConnection({ enhanced_conversions: false }), [p], 't', endpoints).body as ApplyOfflineConversionsBody;
    expect(Object.keys(body.OfflineConversions[0] as object)).toEqual(['MicrosoftClickId', 'ConversionName', 'ConversionTime']);
  });

  it('builds byte-identical bodies on every attempt, whatever the clock', () => {
    const event = msEvent({ revenue_value: 9.99, currency: 'USD', email_sha256: sha256('x@y.co') });
    const first = checkMicrosoft(event, microsoftConnection(), undefined, NOW);
    const later = checkMicrosoft(event, microsoftConnection(), undefined, new Date(NOW.getTime() + 30 * DAY));
    if (!first.send || !later.send) throw new Error('ineligible');
    const a = JSON.stringify(buildMicrosoftRequest(microsoftConnection(), [first.plan], 'token-1', endpoints).body);
    const b = JSON.stringify(buildMicrosoftRequest(microsoftConnection(), [later.plan], 'token-2', endpoints).body);
    expect(b).toBe(a);
  });
});

describe('Microsoft frozen fields (microsoft-ads.md §5)', () => {
  const body = (p: MicrosoftPlan, conn = microsoftConnection()) =>
    JSON.stringify(buildMicrosoftRequest(conn, [p], 'token', endpoints).body);

  it('freezes the goal name and the hashes switch, in about 40 bytes', () => {
    const frozen = MICROSOFT_FROZEN.take(microsoftConnection(), plan({ email_sha256: sha256('a@b.co') }), NOW);
    expect(frozen).toBe('{"name":"Pruuv offline conversions","hashes":true}');
    expect(frozen!.length).toBeLessThan(60);
  });

  it('freezes nothing for a click under an hour old: that pass sends nothing', () => {
    const recent = plan({ clicks: { msclkid: { value: CLICK, ts: iso(NOW.getTime() - 20 * 60_000) } }, event_time: iso(NOW.getTime() - 10 * 60_000) });
    expect(MICROSOFT_FROZEN.take(microsoftConnection(), recent, NOW)).toBeUndefined();
  });

  it('builds the first attempt\'s conversion whatever the connection says now', () => {
    const p = plan({ email_sha256: sha256('a@b.co'), revenue_value: 10, currency: 'GBP' });
    const frozen = MICROSOFT_FROZEN.take(microsoftConnection(), p, NOW)!;
    const later = microsoftConnection({ goal_name: 'Signed contracts', enhanced_conversions: false });
    const retry = MICROSOFT_FROZEN.apply(p, frozen)! as MicrosoftPlan;
    expect(body(retry, later)).toBe(body(p));
    expect(body(p, later)).not.toBe(body(p)); // what an unfrozen retry would send
  });

  it('freezes nothing on the UET Conversions API path, and applies no offline fields to its plans', () => {
    const p = plan({ email_sha256: sha256('a@b.co') });
    expect(MICROSOFT_FROZEN.take(microsoftConnection({ api: 'uet-capi' }), p, NOW)).toBeUndefined();
    const capi = { platform: 'microsoft' as const, api: 'uet-capi' as const, event: p.event, msclkid: CLICK };
    expect(MICROSOFT_FROZEN.take(microsoftConnection(), capi, NOW)).toBeUndefined();
    // Fields an offline attempt froze before the connection changed path.
    expect(MICROSOFT_FROZEN.apply(capi, '{"name":"Offline purchases","hashes":true}')).toBe(capi);
  });

  for (const bad of ['not json', '{"name":"","hashes":true}', '{"name":"x"}', '[]']) {
    it(`reads no frozen fields from ${bad}`, () => {
      expect(MICROSOFT_FROZEN.apply(plan(), bad)).toBeUndefined();
    });
  }

  it('fails a conversion whose stored fields cannot be read instead of sending different ones', async () => {
    const event = msEvent();
    const result = await sendBatch({
      connection: microsoftConnection({ dry_run: true }),
      events: [event],
      history: { [event.id]: { attempts: 1, first_attempt_at: NOW.toISOString(), frozen: 'garbled' } },
      now: () => NOW,
    });
    expect(result.outcomes[0]).toMatchObject({ status: 'failed', reason: 'invalid_frozen_fields' });
    expect(result.dry_run_requests ?? []).toEqual([]);
  });
});

describe('classifyMicrosoftResponse', () => {
  it('accepts every item of a 200 without partial errors (empty, null or absent) and says what that means', () => {
    for (const body of [{ PartialErrors: [] }, { PartialErrors: null }, {}]) {
      const c = classifyMicrosoftResponse(response(200, body, { trackingid: 't-1' }), 2, NOW);
      expect(c).toEqual({ http_status: 200, request_id: 't-1', verdict: { type: 'each', results: [{ kind: 'sent', message: ACCEPTED_MESSAGE }, { kind: 'sent', message: ACCEPTED_MESSAGE }] } });
    }
  });

  it('maps PartialErrors by Index, the gravest of several errors deciding', () => {
    const c = classifyMicrosoftResponse(
      response(200, {
        PartialErrors: [
          { Index: 2, Code: 5612, ErrorCode: 'OfflineConversionsApplyFailed', Message: 'x' },
          { Index: 0, Code: 5615, ErrorCode: 'OfflineConversionNotAcceptedForGoal', Message: 'young' },
          { Index: 2, Code: 5604, ErrorCode: 'OfflineConversionMicrosoftClickIdInvalid', Message: 'bad click' },
          { Index: 3, Code: '5612', ErrorCode: 'OfflineConversionsApplyFailed', Message: 'x' },
        ],
      }),
      4,
      NOW,
    );
    if (c.verdict.type !== 'each') throw new Error(c.verdict.type);
    expect(c.verdict.results[0]).toMatchObject({ kind: 'retry', reason: 'goal_too_new', minDelayMs: 2 * 3_600_000, error_code: '5615 OfflineConversionNotAcceptedForGoal' });
    expect(c.verdict.results[1]).toMatchObject({ kind: 'sent' });
    expect(c.verdict.results[2]).toMatchObject({ kind: 'fail', reason: 'invalid_event', error_code: '5604 OfflineConversionMicrosoftClickIdInvalid', error_message: 'bad click' });
    expect(c.verdict.results[3]).toMatchObject({ kind: 'retry', reason: 'transient' });
  });

  const faults = [
    { name: '109 after the refresh pauses', status: 401, code: 109, kind: 'pause' },
    { name: '105 pauses with Microsoft\'s message', status: 401, code: 105, kind: 'pause' },
    { name: '106 pauses', status: 403, code: 106, kind: 'pause' },
    { name: '117 retries after at least 60 s', status: 429, code: 117, kind: 'retry', minDelayMs: 60_000 },
    { name: '0 retries', status: 500, code: 0, kind: 'retry' },
    { name: '5601 fails', status: 400, code: 5601, kind: 'fail' },
    { name: '1029 fails', status: 400, code: 1029, kind: 'fail' },
  ];
  for (const f of faults) {
    it(`reads a fault: ${f.name}`, () => {
      const body = { TrackingId: 'tr', Type: 'AdApiFaultDetail', Errors: [{ Code: f.code, ErrorCode: 'E', Message: `message ${f.code}` }] };
      const c = classifyMicrosoftResponse(response(f.status, body), 3, NOW);
      expect(c.request_id).toBe('tr');
      expect(c.verdict).toMatchObject({ type: 'all', result: { kind: f.kind, error_code: `${f.code} E`, error_message: `message ${f.code}`, ...(f.minDelayMs ? { minDelayMs: f.minDelayMs } : {}) } });
    });
  }

  it('reads the wrapped ApplicationFault form too, and a 502 page by its status', () => {
    const wrapped = classifyMicrosoftResponse(response(400, { ApplicationFault: { Type: 'ApiFaultDetail', OperationErrors: [{ Code: 5600, ErrorCode: 'OfflineConversionsNullOrEmpty' }] } }), 1, NOW);
    expect(wrapped.verdict).toMatchObject({ type: 'all', result: { kind: 'fail', error_code: '5600 OfflineConversionsNullOrEmpty' } });
    const proxy = classifyMicrosoftResponse(response(502, '<html>bad gateway</html>'), 1, NOW);
    expect(proxy.verdict).toMatchObject({ type: 'all', result: { kind: 'retry', reason: 'server_error' } });
  });

  it('asks for a refresh on 401 and on 109, not on other faults', () => {
    expect(needsRefresh(response(401, {}))).toBe(true);
    expect(needsRefresh(response(400, { Type: 'AdApiFaultDetail', Errors: [{ Code: 109 }] }))).toBe(true);
    expect(needsRefresh(response(429, { Type: 'AdApiFaultDetail', Errors: [{ Code: 117 }] }))).toBe(false);
  });
});
