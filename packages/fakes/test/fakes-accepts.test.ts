/**
 * The fakes accept everything the real APIs accept (issue 13, item 11), or they
 * would hide bugs and refuse valid clients; they stay strict on what the real
 * APIs refuse (the other fake tests).
 */
import { describe, expect, it } from 'vitest';
import { T0_SECONDS, fakesForTests, postJson, sha256 } from './fakes-helpers.js';

const google = {
  customers: ['1234567890'], conversionActions: ['987654321'], clientId: 'fake-client-id.apps.googleusercontent.com',
  clientSecret: 'fake-client-secret', refreshTokens: ['fake-refresh-token'],
};
const suite = await fakesForTests({ google });
const { fakes } = suite;
type Json = Record<string, unknown>;

describe('Data Manager fake', () => {
  // What Google's Node client sends (`$alt=json;enum-encoding=int`): proto3 JSON parsers take an enum's number as well as its name.
  const intEnums = (): Json => ({
    destinations: [{ operatingAccount: { accountType: 1, accountId: '1234567890' }, productDestinationId: '987654321' }],
    events: [{
      transactionId: 'conv-int-1',
      eventTimestamp: new Date(T0_SECONDS * 1000 - 3_600_000).toISOString(),
      eventSource: 1,
      adIdentifiers: { gclid: 'Cj0KCQiAfake1' },
      userData: { userIdentifiers: [{ emailAddress: sha256('dana.smith@example.com') }] },
      consent: { adUserData: 1, adPersonalization: 2 },
    }],
    encoding: 1,
    validateOnly: false,
  });

  it('accepts enums as integers, with $alt=json;enum-encoding=int as the official client sends them', async () => {
    const r = await postJson(`${fakes.urls.dataManager}/v1/events:ingest?$alt=json%3Benum-encoding=int`, intEnums(), { authorization: `Bearer ${suite.token}` });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.requestId).toEqual(expect.any(String));
    expect(fakes.counted('google').size).toBe(1);
  });

  it('still refuses an integer that is no value of the enum', async () => {
    const body = intEnums();
    (body['events'] as Json[])[0]!['eventSource'] = 42;
    const r = await postJson(`${fakes.urls.dataManager}/v1/events:ingest`, body, { authorization: `Bearer ${suite.token}` });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('event_source');
  });

  it('still refuses EVENT_SOURCE_UNSPECIFIED given as 0', async () => {
    const body = intEnums();
    (body['events'] as Json[])[0]!['eventSource'] = 0;
    const r = await postJson(`${fakes.urls.dataManager}/v1/events:ingest`, body, { authorization: `Bearer ${suite.token}` });
    expect(r.status).toBe(400);
  });
});

describe('Meta fake', () => {
  const url = (): string => `${fakes.urls.meta}/v26.0/1234567890123456/events?access_token=fake-meta-token`;
  const event = (over: Json = {}, userData: Json = {}, customData?: Json): Json => ({
    event_name: 'Lead',
    event_time: T0_SECONDS - 60,
    event_id: `evt-${Math.random()}`,
    action_source: 'app',
    user_data: { em: [sha256('ada@example.com')], ...userData },
    ...(customData === undefined ? {} : { custom_data: customData }),
    ...over,
  });

  it('accepts every user_data field of the Business SDK (f5first, f5last, fi, dobd, dobm, doby, app_user_id…)', async () => {
    const userData = {
      f5first: sha256('maryj'), f5last: sha256('smith'), fi: sha256('m'), dobd: sha256('16'), dobm: sha256('02'), doby: sha256('1997'),
      app_user_id: sha256('app-user-1'), anon_id: 'anon-1', madid: '38400000-8cf0-11bd-b23e-10b96e40000d', ctwa_clid: 'ctwa-1', page_id: '1234',
      lead_id: 1234567890123456, subscription_id: 'sub-1', fb_login_id: 1234,
    };
    const r = await postJson(url(), { data: [event({}, userData)] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });

  it('accepts the top-level advanced_measurement_table and advertiser_tracking_enabled', async () => {
    const r = await postJson(url(), { data: [event({ advanced_measurement_table: 'amt-1', advertiser_tracking_enabled: true })] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });

  it('accepts custom_data.value as a numeric string, as Meta\'s own examples send it', async () => {
    const r = await postJson(url(), { data: [event({ event_name: 'Purchase' }, {}, { value: '142.52', currency: 'usd' })] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });

  it('still refuses an unhashed f5first', async () => {
    const r = await postJson(url(), { data: [event({}, { f5first: 'maryj' })] });
    expect(r.status).toBe(400);
  });

  it('still refuses a value that is not a number', async () => {
    const r = await postJson(url(), { data: [event({ event_name: 'Purchase' }, {}, { value: 'lots', currency: 'USD' })] });
    expect(r.status).toBe(400);
  });
});

describe('TikTok fake', () => {
  const url = (): string => `${fakes.urls.tiktok}/open_api/v1.3/event/track/`;
  const body = (user: Json): Json => ({
    event_source: 'web', event_source_id: 'CFAKEPIXEL0000000000',
    data: [{ event: 'Lead', event_time: T0_SECONDS - 60, event_id: `evt-${Math.random()}`, user }],
  });

  it('accepts upper-case hex hashes, which its own Events API template passes through', async () => {
    const user = { email: sha256('ada@example.com').toUpperCase(), phone: [sha256('+4915112345678').toUpperCase()], external_id: sha256('user_123').toUpperCase() };
    const r = await postJson(url(), body(user), { 'access-token': 'fake-tiktok-token' });
    expect(r.body).toMatchObject({ code: 0 });
  });

  it('still refuses a plaintext email', async () => {
    const r = await postJson(url(), body({ email: 'ada@example.com' }), { 'access-token': 'fake-tiktok-token' });
    expect(r.body).toMatchObject({ code: 40002 });
  });
});
