/** The fake UET Conversions API and UET tag calls (microsoft-ads.md §8, §10). */
import { describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS } from '../src/index.js';
import { DAY, T0_SECONDS, fakesForTests, get, microsoftToken, postJson, sha256 } from './fakes-helpers.js';

const D = FAKE_DEFAULTS.microsoft;
const suite = await fakesForTests({
  microsoft: {
    customerId: D.customerId,
    accounts: [{ id: D.accountId, name: 'Contoso', number: D.accountNumber }, { id: '180000002', name: 'Fabrikam', number: 'F120EFGH' }],
    goals: [{ id: D.goalId, name: D.goalName, accountId: D.accountId, enhanced: true }],
    clientId: D.clientId,
    clientSecret: D.clientSecret,
    redirectUris: [],
    refreshTokens: [D.refreshToken],
    developerToken: D.developerToken,
    uetTags: [
      { id: D.uetTagId, name: D.uetTagName, accountId: D.accountId, authKey: D.uetTagToken },
      { id: '187000002', name: 'Shop tag', accountId: D.accountId },
      { id: '187000003', name: 'Fabrikam tag', accountId: '180000002', authKey: 'fabrikam-token' },
    ],
  },
});
const { fakes } = suite;
const CLICK = '9f223aca6be512d830005cea8c9d3b06';

const event = (o: Record<string, unknown> = {}) => ({
  eventType: 'custom', eventId: 'e1', eventName: 'lead', eventTime: T0_SECONDS - 60, userData: { msclkid: CLICK }, ...o,
});
function send(data: unknown[], o: { tag?: string; token?: string; cont?: boolean; body?: Record<string, unknown> } = {}) {
  const body = o.body ?? { data, continueOnValidationError: o.cont ?? true, dataProvider: 'pruuv' };
  return postJson(`${fakes.urls.microsoftCapi}/v1/${o.tag ?? D.uetTagId}/events`, body, { authorization: `Bearer ${o.token ?? D.uetTagToken}` });
}

describe('POST /v1/{tagId}/events', () => {
  it('takes valid events and counts a (tag, eventName, eventId) once', async () => {
    const first = await send([event(), event({ eventId: 'e2', userData: { em: sha256('john@contoso.com') } })]);
    expect(first).toMatchObject({ status: 200, body: { eventsReceived: 2 } });
    const again = await send([event()]);
    expect(again.status).toBe(200);
    expect([...fakes.counted('microsoftCapi')]).toEqual([[`${D.uetTagId}:lead:e1`, 2], [`${D.uetTagId}:lead:e2`, 1]]);
    expect(fakes.microsoft.capiEvents().map((r) => r.verdict)).toEqual(['counted', 'counted', 'duplicate']);
    // Another event name with the same id is another conversion.
    await send([event({ eventName: 'sale' })]);
    expect(fakes.counted('microsoftCapi').get(`${D.uetTagId}:sale:e1`)).toBe(1);
  });

  it('refuses a token of another tag, a missing token and an unknown tag with 401 Unauthorized', async () => {
    for (const o of [{ token: 'fabrikam-token' }, { token: 'nope' }, { tag: '999' }, { tag: 'abc' }]) {
      const r = await send([event()], o);
      expect(r).toMatchObject({ status: 401, body: { error: { code: 'Unauthorized', message: 'You are not authorized to access this resource.' } } });
    }
    const none = await fetch(`${fakes.urls.microsoftCapi}/v1/${D.uetTagId}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(none.status).toBe(401);
    expect(fakes.counted('microsoftCapi').size).toBe(0);
  });

  it('refuses empty and oversized data, a missing dataProvider and unknown top-level properties', async () => {
    expect((await send([])).body.error.details[0]).toMatchObject({ propertyName: 'data', errorCode: 'Empty', isWarning: false });
    expect((await send(Array.from({ length: 1001 }, (_, i) => event({ eventId: `e${i}` })))).body.error.details[0]).toMatchObject({ errorCode: 'TooManyEvents' });
    expect((await send([], { body: { data: [event()], continueOnValidationError: true } })).body.error.details[0]).toMatchObject({ propertyName: 'dataProvider' });
    expect((await send([], { body: { data: [event()], dataProvider: 'pruuv', continueOnError: true } })).status).toBe(400);
    expect(fakes.counted('microsoftCapi').size).toBe(0);
  });

  const errors: Array<{ name: string; event: Record<string, unknown>; property: string; code: string }> = [
    { name: 'an unknown eventType', event: event({ eventType: 'purchase' }), property: 'data[0].eventType', code: 'InvalidEnumValue' },
    { name: 'a missing eventTime', event: event({ eventTime: undefined }), property: 'data[0].eventTime', code: 'Empty' },
    { name: 'an eventTime in milliseconds', event: event({ eventTime: (T0_SECONDS - 60) * 1000 }), property: 'data[0].eventTime', code: 'InvalidEventTime' },
    { name: 'an eventTime older than 7 days', event: event({ eventTime: T0_SECONDS - 8 * 86_400 }), property: 'data[0].eventTime', code: 'InvalidEventTime' },
    { name: 'a future eventTime', event: event({ eventTime: T0_SECONDS + 3600 }), property: 'data[0].eventTime', code: 'InvalidEventTime' },
    { name: 'a custom event without a name', event: event({ eventName: undefined }), property: 'data[0].eventName', code: 'Empty' },
    { name: 'a pageLoad without eventSourceUrl', event: event({ eventType: 'pageLoad' }), property: 'data[0].eventSourceUrl', code: 'InvalidUrl' },
    { name: 'userData without any identifier', event: event({ userData: { clientIpAddress: '203.0.113.9' } }), property: 'data[0].userData', code: 'MissingUserIdentifier' },
    { name: 'a misspelt property', event: event({ eventID: 'x' }), property: 'data[0].eventID', code: 'UnknownProperty' },
  ];
  for (const c of errors) {
    it(`answers ${c.name} with a ValidationError and stores nothing without continueOnValidationError`, async () => {
      const r = await send([event({ eventId: 'ok' }), { ...c.event, eventId: 'bad' }], { cont: false });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('ValidationError');
      expect(r.body.error.details).toContainEqual(expect.objectContaining({ index: 1, propertyName: c.property.replace('[0]', '[1]'), errorCode: c.code, isWarning: false }));
      expect(fakes.counted('microsoftCapi').size).toBe(0);
    });
  }

  it('stores the valid events with continueOnValidationError and names the invalid one by index', async () => {
    const r = await send([event({ eventId: 'a' }), event({ eventId: 'b', eventTime: undefined }), event({ eventId: 'c' })]);
    expect(r.status).toBe(200);
    expect(r.body.eventsReceived).toBe(2);
    expect(r.body.error.details).toEqual([expect.objectContaining({ index: 1, errorCode: 'Empty', isWarning: false })]);
    expect([...fakes.counted('microsoftCapi').keys()]).toEqual([`${D.uetTagId}:lead:a`, `${D.uetTagId}:lead:c`]);
    // None valid: 400 even with continueOnValidationError.
    expect((await send([event({ eventTime: undefined })])).status).toBe(400);
  });

  it('answers warnings with 200, drops the field, and shows at most 10 details', async () => {
    const r = await send([event({ userData: { msclkid: CLICK, em: 'john@contoso.com', ph: 'ABC' }, customData: { value: 5, currency: 'XYZ', transactionId: 'e1' }, adStorageConsent: 'Y' })]);
    expect(r.status).toBe(200);
    const warned = r.body.error.details.map((d: { propertyName: string; errorCode: string; isWarning: boolean }) => [d.propertyName, d.errorCode, d.isWarning]);
    expect(warned).toEqual([
      ['data[0].adStorageConsent', 'InvalidEnumValue', true],
      ['data[0].userData.em', 'InvalidSha256', true],
      ['data[0].userData.ph', 'InvalidSha256', true],
      ['data[0].customData.currency', 'InvalidCurrency', true],
    ]);
    expect(fakes.microsoft.capiEvents()[0]?.warnings).toContain('data[0].userData.em InvalidSha256');
    const many = await send(Array.from({ length: 12 }, (_, i) => event({ eventId: `w${i}`, eventTime: undefined })));
    expect(many.body.error.details).toHaveLength(10);
  });

  it('lists what it took on the test-only route', async () => {
    await send([event()]);
    const seen = await get(fakes.urls.microsoftCapiInspect);
    expect(seen.body.events).toEqual([expect.objectContaining({ tagId: D.uetTagId, verdict: 'counted', event: expect.objectContaining({ eventId: 'e1' }) })]);
  });

  it('answers a scripted 500 and stores nothing', async () => {
    fakes.script('microsoftCapi', [{ kind: 'status', status: 500, body: { error: { code: 'InternalServerError', message: 'x' } } }]);
    expect((await send([event()])).status).toBe(500);
    expect(fakes.counted('microsoftCapi').size).toBe(0);
    expect((await send([event()])).status).toBe(200);
  });

  it('keeps the 7-day limit against the fake clock', async () => {
    suite.clock.advance(8 * DAY);
    expect((await send([event()])).status).toBe(400);
  });
});

describe('UET tag calls', () => {
  async function call(method: string, body: unknown, account = D.accountId) {
    const token = await microsoftToken(fakes.urls.microsoftToken);
    return postJson(`${fakes.urls.microsoftCampaign}/CampaignManagement/v13/${method}`, body, {
      authorization: `Bearer ${token}`, developertoken: D.developerToken, customerid: D.customerId, customeraccountid: account,
    });
  }

  it('lists the account\'s tags with TagIds null', async () => {
    const r = await call('UetTags/QueryByIds', { TagIds: null });
    expect(r.status).toBe(200);
    expect(r.body.UetTags.map((t: { Id: string; Name: string }) => [t.Id, t.Name])).toEqual([[D.uetTagId, D.uetTagName], ['187000002', 'Shop tag']]);
    expect((await call('UetTags/QueryByIds', {})).status).toBe(400);
  });

  it('returns the existing key, or mints one that then opens the Conversions API for that tag only', async () => {
    expect((await call('UetTagAuthKey/Query', { UetTagId: D.uetTagId })).body).toEqual({ UetTagAuthKey: D.uetTagToken, PartialErrors: [] });
    const minted = (await call('UetTagAuthKey/Query', { UetTagId: '187000002' })).body.UetTagAuthKey as string;
    expect(minted).toMatch(/^uet-capi-/);
    expect((await call('UetTagAuthKey/Query', { UetTagId: '187000002' })).body.UetTagAuthKey).toBe(minted);
    expect(fakes.microsoft.uetTagToken('187000002')).toBe(minted);
    expect((await send([event()], { tag: '187000002', token: minted })).status).toBe(200);
    expect((await send([event()], { tag: D.uetTagId, token: minted })).status).toBe(401);
  });

  it('gives no key for a tag of another account, and refuses the CAPI guide\'s field name', async () => {
    const other = await call('UetTagAuthKey/Query', { UetTagId: '187000003' });
    expect(other.body).toMatchObject({ UetTagAuthKey: null, PartialErrors: [{ ErrorCode: 'UetTagIdInvalid' }] });
    expect((await call('UetTagAuthKey/Query', { TagId: D.uetTagId })).status).toBe(400);
  });
});
