import { describe, expect, it } from 'vitest';
import { startFakePlatforms, GOOGLE_SCOPES } from '../src/index.js';
import { DAY, HOUR, T0, fakesForTests, get, googleToken, json, postForm, postJson, sha256 } from './fakes-helpers.js';

const google = {
  customers: ['1234567890'], conversionActions: ['987654321', '111222333'], clientId: 'fake-client-id.apps.googleusercontent.com',
  clientSecret: 'fake-client-secret', refreshTokens: ['fake-refresh-token'],
};
const suite = await fakesForTests({ google, dataManagerQuota: { perMinute: 1000 } });
const { fakes, clock } = suite;

type Json = Record<string, any>;
const ingestUrl = (base = fakes.urls.dataManager): string => `${base}/v1/events:ingest`;
const statusUrl = (id?: string, base = fakes.urls.dataManager): string => `${base}/v1/requestStatus:retrieve${id === undefined ? '' : `?requestId=${encodeURIComponent(id)}`}`;
const auth = (): Record<string, string> => ({ authorization: `Bearer ${suite.token}` });
const destination = (over: Json = {}): Json => ({ operatingAccount: { accountType: 'GOOGLE_ADS', accountId: '1234567890' }, productDestinationId: '987654321', ...over });
const event = (over: Json = {}): Json => ({
  transactionId: 'conv-1',
  eventTimestamp: '2026-11-20T10:00:00Z',
  eventSource: 'WEB',
  adIdentifiers: { gclid: 'Cj0KCQiAfake1', landingPageDeviceInfo: { userAgent: 'Mozilla/5.0' } },
  conversionValue: 129.5,
  currency: 'EUR',
  userData: { userIdentifiers: [{ emailAddress: sha256('dana.smith@example.com') }] },
  consent: { adUserData: 'CONSENT_GRANTED', adPersonalization: 'CONSENT_DENIED' },
  ...over,
});
const request = (over: Json = {}): Json => ({ destinations: [destination()], events: [event()], encoding: 'HEX', validateOnly: false, ...over });
const ingest = (body: unknown, headers = auth()) => postJson(ingestUrl(), body, headers);

/** Assert the Data Manager error envelope (google-data-manager.md §9) and return its field violations. */
function envelope(r: { status: number; body: Json }, status: number, rpc: string): Json[] {
  expect(r.status).toBe(status);
  const { error } = r.body;
  expect(error).toMatchObject({ code: status, status: rpc, message: expect.any(String) });
  const [info, requestInfo, bad] = error.details;
  expect(info).toMatchObject({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: expect.any(String), domain: expect.any(String) });
  expect(info.metadata.requestId).toMatch(/^t-[0-9a-f-]{36}$/);
  expect(requestInfo).toEqual({ '@type': 'type.googleapis.com/google.rpc.RequestInfo', requestId: info.metadata.requestId });
  if (bad === undefined) return [];
  expect(bad['@type']).toBe('type.googleapis.com/google.rpc.BadRequest');
  return bad.fieldViolations;
}

describe('POST /datamanager/v1/events:ingest', () => {
  describe('with a valid request', () => {
    it('answers a requestId and counts the event under action:transactionId', async () => {
      const r = await ingest(request());
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect([...fakes.counted('google')]).toEqual([['987654321:conv-1', 1]]);
    });

    it('accepts BASE64 identifiers', async () => {
      const r = await ingest(request({ encoding: 'BASE64', events: [event({ userData: { userIdentifiers: [{ emailAddress: '5KG47+hdYeQbbpA/APalh5abrJrrDoxX4wskbucu4q4=' }] } })] }));
      expect(r.status).toBe(200);
    });

    it('accepts an offset timestamp with nanoseconds and a manager login account', async () => {
      const r = await ingest(request({
        destinations: [destination({ loginAccount: { accountType: 'GOOGLE_ADS', accountId: '9876543210' } })],
        events: [event({ eventTimestamp: '2026-11-20T05:00:00.123456789-05:00' })],
      }));
      expect(r.status).toBe(200);
    });

    it('counts each event once per destination', async () => {
      const r = await ingest(request({ destinations: [destination({ reference: 'a' }), destination({ reference: 'b', productDestinationId: '111222333' })] }));
      expect(r.status).toBe(200);
      expect([...fakes.counted('google').keys()].sort()).toEqual(['111222333:conv-1', '987654321:conv-1']);
    });

    it('records developer-token and login-customer-id headers for assertions', async () => {
      await ingest(request(), { ...auth(), 'developer-token': 'dev', 'login-customer-id': '1' });
      await ingest(request({ events: [event({ transactionId: 'conv-2' })] }));
      const [first, second] = fakes.requests('dataManager');
      expect(first?.headers).toMatchObject({ 'developer-token': 'dev', 'login-customer-id': '1' });
      expect(second?.headers['developer-token']).toBeUndefined();
    });
  });

  describe('transport and auth', () => {
    it('answers 401 CREDENTIALS_MISSING without Authorization', async () => {
      const r = await ingest(request(), {});
      envelope(r, 401, 'UNAUTHENTICATED');
      expect(r.body.error.message).toMatch(/^Request is missing required authentication credential\. Expected OAuth 2 access token/);
      expect(r.body.error.details[0]).toMatchObject({ reason: 'CREDENTIALS_MISSING', domain: 'googleapis.com' });
    });

    it('answers 401 to an unknown token', async () => {
      const r = await ingest(request(), { authorization: 'Bearer ya29.unknown' });
      envelope(r, 401, 'UNAUTHENTICATED');
    });

    it('answers 401 ACCESS_TOKEN_EXPIRED after 3599 s, and accepts a refreshed token', async () => {
      clock.advance(3599 * 1000);
      const r = await ingest(request());
      envelope(r, 401, 'UNAUTHENTICATED');
      expect(r.body.error.details[0].reason).toBe('ACCESS_TOKEN_EXPIRED');
      suite.token = await googleToken(fakes.urls.oauthToken);
      expect((await ingest(request())).status).toBe(200);
    });

    it('answers 403 ACCESS_TOKEN_SCOPE_INSUFFICIENT to an adwords-only token', async () => {
      const narrow = await startFakePlatforms({ now: clock.now, google: { ...google, tokenScopes: [GOOGLE_SCOPES.ads] } });
      try {
        const t = await postForm(narrow.urls.oauthToken, { grant_type: 'refresh_token', client_id: google.clientId, client_secret: google.clientSecret, refresh_token: 'fake-refresh-token' });
        const r = await postJson(ingestUrl(narrow.urls.dataManager), request(), { authorization: `Bearer ${t.body.access_token}` });
        envelope(r, 403, 'PERMISSION_DENIED');
        expect(r.body.error.details[0]).toMatchObject({ reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', domain: 'googleapis.com' });
      } finally {
        await narrow.close();
      }
    });

    it('answers 404 NOT_FOUND for other routes and methods', async () => {
      envelope(await get(ingestUrl(), auth()), 404, 'NOT_FOUND');
      envelope(await postJson(`${fakes.urls.dataManager}/v1/audienceMembers:ingest`, {}, auth()), 404, 'NOT_FOUND');
    });

    it('answers 400 to a body that is not application/json', async () => {
      const r = await fetch(ingestUrl(), { method: 'POST', headers: { ...auth(), 'content-type': 'text/plain' }, body: JSON.stringify(request()) });
      envelope({ status: r.status, body: await json(r) }, 400, 'INVALID_ARGUMENT');
    });

    it('answers 400 to a body that is not JSON', async () => {
      const r = await fetch(ingestUrl(), { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{"events":' });
      const body = await json(r);
      envelope({ status: r.status, body }, 400, 'INVALID_ARGUMENT');
      expect(body.error.message).toMatch(/^Invalid JSON payload received\./);
    });
  });

  describe('JSON shape', () => {
    const cases: Array<{ name: string; body: Json; violation: { field: string; description: string } }> = [
      {
        name: 'an unknown key',
        body: request({ events: [event({ foo: 1 })] }),
        violation: { field: 'events[0]', description: 'Invalid JSON payload received. Unknown name "foo" at \'events[0]\': Cannot find field.' },
      },
      {
        name: 'a snake_case key',
        body: request({ events: [event({ transactionId: undefined, transaction_id: 'x' })] }),
        violation: { field: 'events[0]', description: 'Invalid JSON payload received. Unknown name "transaction_id" at \'events[0]\': Cannot find field.' },
      },
      {
        name: 'a lower-case enum',
        body: request({ events: [event({ eventSource: 'web' })] }),
        violation: { field: 'events[0].event_source', description: 'Invalid value at \'events[0].event_source\' (type.googleapis.com/google.ads.datamanager.v1.EventSource), "web"' },
      },
      {
        name: 'an Ads consent value',
        body: request({ events: [event({ consent: { adUserData: 'GRANTED' } })] }),
        violation: { field: 'events[0].consent.ad_user_data', description: 'Invalid value at \'events[0].consent.ad_user_data\' (type.googleapis.com/google.ads.datamanager.v1.ConsentStatus), "GRANTED"' },
      },
      {
        name: 'a string conversionValue',
        body: request({ events: [event({ conversionValue: '129.5' })] }),
        violation: { field: 'events[0].conversion_value', description: 'Invalid value at \'events[0].conversion_value\' (TYPE_DOUBLE), "129.5"' },
      },
      {
        name: 'ENCODING_UNSPECIFIED',
        body: request({ encoding: 'ENCODING_UNSPECIFIED' }),
        violation: { field: 'encoding', description: 'Invalid value at \'encoding\' (type.googleapis.com/google.ads.datamanager.v1.Encoding), "ENCODING_UNSPECIFIED"' },
      },
      {
        name: 'an Ads-format timestamp',
        body: request({ events: [event({ eventTimestamp: '2026-11-20 14:35:00+00:00' })] }),
        violation: {
          field: 'events[0].event_timestamp',
          description: "Invalid value at 'events[0].event_timestamp' (type.googleapis.com/google.protobuf.Timestamp), Field 'eventTimestamp', Illegal timestamp format; timestamps must end with 'Z' or have a valid timezone offset.",
        },
      },
      {
        name: 'a timestamp without offset',
        body: request({ events: [event({ eventTimestamp: '2026-11-20T14:35:00' })] }),
        violation: {
          field: 'events[0].event_timestamp',
          description: "Invalid value at 'events[0].event_timestamp' (type.googleapis.com/google.protobuf.Timestamp), Field 'eventTimestamp', Illegal timestamp format; timestamps must end with 'Z' or have a valid timezone offset.",
        },
      },
    ];
    for (const { name, body, violation } of cases) {
      it(`answers 400 naming ${name}`, async () => {
        const r = await ingest(body);
        expect(envelope(r, 400, 'INVALID_ARGUMENT')).toEqual([violation]);
        expect(r.body.error.message).toBe(violation.description);
        expect(fakes.counted('google').size).toBe(0);
      });
    }
  });

  describe('validation', () => {
    const many = (n: number, make: (i: number) => Json): Json[] => Array.from({ length: n }, (_, i) => make(i));
    const cases: Array<{ name: string; body: Json; field: string; reason: string; description?: string }> = [
      { name: 'no destinations', body: request({ destinations: [] }), field: 'destinations', reason: 'REQUIRED_FIELD_MISSING' },
      { name: '11 destinations', body: request({ destinations: many(11, (i) => destination({ reference: `d${i}` })) }), field: 'destinations', reason: 'TOO_MANY_DESTINATIONS' },
      { name: 'a duplicate reference', body: request({ destinations: [destination({ reference: 'x' }), destination({ reference: 'x' })] }), field: 'destinations[1].reference', reason: 'DUPLICATE_DESTINATION_REFERENCE' },
      { name: 'no operating account', body: request({ destinations: [destination({ operatingAccount: undefined })] }), field: 'destinations[0].operating_account', reason: 'REQUIRED_FIELD_MISSING' },
      { name: 'a non-Ads operating account', body: request({ destinations: [destination({ operatingAccount: { accountType: 'DATA_PARTNER', accountId: '1234567890' } })] }), field: 'destinations[0].operating_account.account_type', reason: 'INVALID_DESTINATION' },
      { name: 'an operating account without type', body: request({ destinations: [destination({ operatingAccount: { accountId: '1234567890' } })] }), field: 'destinations[0].operating_account.account_type', reason: 'REQUIRED_FIELD_MISSING' },
      { name: 'a login account id with hyphens', body: request({ destinations: [destination({ loginAccount: { accountType: 'GOOGLE_ADS', accountId: '987-654-3210' } })] }), field: 'destinations[0].login_account.account_id', reason: 'INVALID_NUMBER_FORMAT', description: 'String is not a valid number.' },
      { name: 'a linked account without data-partner login', body: request({ destinations: [destination({ linkedAccount: { accountType: 'GOOGLE_ADS', accountId: '1' } })] }), field: 'destinations[0].linked_account', reason: 'LINKED_ACCOUNT_ONLY_ALLOWED_WITH_DATA_PARTNER_LOGIN_ACCOUNT' },
      { name: 'no productDestinationId', body: request({ destinations: [destination({ productDestinationId: undefined })] }), field: 'destinations[0].product_destination_id', reason: 'REQUIRED_FIELD_MISSING' },
      { name: 'a resource name as productDestinationId', body: request({ destinations: [destination({ productDestinationId: 'customers/1234567890/conversionActions/987654321' })] }), field: 'destinations[0].product_destination_id', reason: 'INVALID_CONVERSION_ACTION_ID' },
      { name: 'no events', body: request({ events: [] }), field: 'events', reason: 'REQUIRED_FIELD_MISSING' },
      { name: '2,001 events', body: request({ events: many(2001, (i) => event({ transactionId: `t${i}` })) }), field: 'events', reason: 'TOO_MANY_EVENTS' },
      { name: 'no transactionId', body: request({ events: [event({ transactionId: undefined })] }), field: 'events.events[0].transaction_id', reason: 'REQUIRED_FIELD_MISSING' },
      { name: 'no eventTimestamp', body: request({ events: [event({ eventTimestamp: undefined })] }), field: 'events.events[0].event_timestamp', reason: 'REQUIRED_FIELD_MISSING' },
      { name: 'an event 91 days old', body: request({ events: [event({ eventTimestamp: new Date(T0 - 91 * DAY).toISOString() })] }), field: 'events.events[0].event_timestamp', reason: 'EVENT_TIME_INVALID' },
      { name: 'an event an hour ahead', body: request({ events: [event({ eventTimestamp: new Date(T0 + HOUR).toISOString() })] }), field: 'events.events[0].event_timestamp', reason: 'EVENT_TIME_INVALID' },
      { name: 'no identifiers', body: request({ events: [event({ adIdentifiers: { landingPageDeviceInfo: { userAgent: 'x' } }, userData: undefined })] }), field: 'events.events[0]', reason: 'NO_IDENTIFIERS_PROVIDED' },
      { name: 'a lower-case currency', body: request({ events: [event({ currency: 'eur' })] }), field: 'events.events[0].currency', reason: 'INVALID_CURRENCY_CODE' },
      { name: 'an unknown currency', body: request({ events: [event({ currency: 'ABC' })] }), field: 'events.events[0].currency', reason: 'INVALID_CURRENCY_CODE' },
      { name: 'an unknown destination reference', body: request({ events: [event({ destinationReferences: ['nope'] })] }), field: 'events.events[0].destination_references[0]', reason: 'INVALID_DESTINATION' },
      { name: '11 user identifiers', body: request({ events: [event({ userData: { userIdentifiers: many(11, (i) => ({ emailAddress: sha256(`u${i}`) })) } })] }), field: 'events.events[0].user_data.user_identifiers', reason: 'TOO_MANY_USER_IDENTIFIERS' },
      { name: 'an identifier with email and phone', body: request({ events: [event({ userData: { userIdentifiers: [{ emailAddress: sha256('a'), phoneNumber: sha256('+1') }] } })] }), field: 'events.events[0].user_data.user_identifiers[0]', reason: 'INVALID_ARGUMENT' },
      { name: 'userData without encoding', body: request({ encoding: undefined }), field: 'encoding', reason: 'REQUIRED_FIELD_MISSING' },
      {
        name: 'a malformed HEX value',
        body: request({ events: [event({ userData: { userIdentifiers: [{ emailAddress: sha256('a') }, { phoneNumber: `zz${sha256('b').slice(2)}` }] } })] }),
        field: 'events.events[0].user_data.user_identifiers[1]', reason: 'INVALID_HEX_ENCODING', description: 'The HEX encoded value is malformed.',
      },
      { name: 'a plaintext email with HEX', body: request({ events: [event({ userData: { userIdentifiers: [{ emailAddress: 'dana.smith@example.com' }] } })] }), field: 'events.events[0].user_data.user_identifiers[0]', reason: 'INVALID_HEX_ENCODING' },
      { name: 'a short HEX value', body: request({ events: [event({ userData: { userIdentifiers: [{ emailAddress: sha256('a').slice(0, 40) }] } })] }), field: 'events.events[0].user_data.user_identifiers[0]', reason: 'INVALID_SHA256_FORMAT' },
      { name: 'a plaintext email with BASE64', body: request({ encoding: 'BASE64', events: [event({ userData: { userIdentifiers: [{ emailAddress: 'dana.smith@example.com' }] } })] }), field: 'events.events[0].user_data.user_identifiers[0]', reason: 'INVALID_BASE64_ENCODING' },
      { name: 'a plaintext phone with BASE64', body: request({ encoding: 'BASE64', events: [event({ userData: { userIdentifiers: [{ phoneNumber: '+18005550100' }] } })] }), field: 'events.events[0].user_data.user_identifiers[0]', reason: 'INVALID_SHA256_FORMAT' },
      { name: 'BASE64 of 16 bytes', body: request({ encoding: 'BASE64', events: [event({ userData: { userIdentifiers: [{ emailAddress: Buffer.alloc(16, 1).toString('base64') }] } })] }), field: 'events.events[0].user_data.user_identifiers[0]', reason: 'INVALID_SHA256_FORMAT' },
      { name: 'a hex digest sent as BASE64', body: request({ encoding: 'BASE64', events: [event()] }), field: 'events.events[0].user_data.user_identifiers[0]', reason: 'INVALID_SHA256_FORMAT' },
    ];
    for (const { name, body, field, reason, description } of cases) {
      it(`rejects ${name} with ${reason} at ${field}`, async () => {
        const r = await ingest(body);
        const violations = envelope(r, 400, 'INVALID_ARGUMENT');
        expect(r.body.error.message).toBe('There was a problem with the request.');
        expect(violations).toContainEqual({ field, reason, description: description ?? expect.any(String) });
        expect(fakes.counted('google').size).toBe(0);
      });
    }

    it('lists every violation with its event index and counts nothing', async () => {
      const r = await ingest(request({ events: [event({ transactionId: 'a', currency: 'eur' }), event({ transactionId: 'b' }), event({ transactionId: undefined })] }));
      const violations = envelope(r, 400, 'INVALID_ARGUMENT');
      expect(violations.map((v) => [v.field, v.reason])).toEqual([
        ['events.events[0].currency', 'INVALID_CURRENCY_CODE'],
        ['events.events[2].transaction_id', 'REQUIRED_FIELD_MISSING'],
      ]);
      expect(violations.map((v) => /events\[(\d+)\]/.exec(v.field)?.[1])).toEqual(['0', '2']);
      expect(fakes.counted('google').size).toBe(0);
    });

    it('answers 403 PERMISSION_DENIED for an unknown account or conversion action', async () => {
      const r = await ingest(request({ destinations: [destination({ operatingAccount: { accountType: 'GOOGLE_ADS', accountId: '9999999999' }, productDestinationId: '5' })] }));
      const violations = envelope(r, 403, 'PERMISSION_DENIED');
      expect(violations.map((v) => v.field)).toEqual(['destinations[0].operating_account.account_id', 'destinations[0].product_destination_id']);
    });
  });

  describe('quota', () => {
    it('answers 429 with the per-minute quota_limit after perMinute requests, until the minute passes', async () => {
      const small = await startFakePlatforms({ now: clock.now, google, dataManagerQuota: { perMinute: 2, perDay: 10 } });
      try {
        const t = await googleToken(small.urls.oauthToken);
        const send = (id: string) => postJson(ingestUrl(small.urls.dataManager), request({ events: [event({ transactionId: id })] }), { authorization: `Bearer ${t}` });
        expect((await send('a')).status).toBe(200);
        expect((await send('b')).status).toBe(200);
        const limited = await send('c');
        envelope(limited, 429, 'RESOURCE_EXHAUSTED');
        expect(limited.body.error.details[0]).toMatchObject({
          reason: 'RATE_LIMIT_EXCEEDED', domain: 'googleapis.com',
          metadata: { quota_limit: 'IngestionMutateRequestsPerMinutePerProject', service: 'datamanager.googleapis.com' },
        });
        clock.advance(60_000);
        expect((await send('c')).status).toBe(200);
        expect(small.counted('google').size).toBe(3);
      } finally {
        await small.close();
      }
    });

    it('answers 429 with the per-day quota_limit after perDay requests, until the next day', async () => {
      const small = await startFakePlatforms({ now: clock.now, google, dataManagerQuota: { perMinute: 10, perDay: 1 } });
      try {
        const t = await googleToken(small.urls.oauthToken);
        const send = () => postJson(ingestUrl(small.urls.dataManager), request(), { authorization: `Bearer ${t}` });
        expect((await send()).status).toBe(200);
        const limited = await send();
        expect(limited.status).toBe(429);
        expect(limited.body.error.details[0].metadata.quota_limit).toBe('IngestionMutateRequestsPerDayPerProject');
        clock.advance(DAY);
        const fresh = await googleToken(small.urls.oauthToken);
        expect((await postJson(ingestUrl(small.urls.dataManager), request(), { authorization: `Bearer ${fresh}` })).status).toBe(200);
      } finally {
        await small.close();
      }
    });
  });

  describe('validateOnly', () => {
    it('validates, stores nothing, and has no retrievable status', async () => {
      const ok = await ingest(request({ validateOnly: true }));
      expect(ok.status).toBe(200);
      expect(fakes.counted('google').size).toBe(0);
      const status = await get(statusUrl(ok.body.requestId), auth());
      expect(envelope(status, 400, 'INVALID_ARGUMENT')).toEqual([{ field: 'request_id', reason: 'INVALID_REQUEST_ID', description: expect.any(String) }]);
      const bad = await ingest(request({ validateOnly: true, events: [event({ currency: 'eur' })] }));
      expect(bad.status).toBe(400);
    });
  });
});

describe('GET /datamanager/v1/requestStatus:retrieve', () => {
  const retrieve = async (id: string): Promise<Json[]> => {
    const r = await get(statusUrl(id), auth());
    expect(r.status).toBe(200);
    return r.body.requestStatusPerDestination;
  };

  it('answers PROCESSING first, then SUCCESS with the record count', async () => {
    const { body } = await ingest(request());
    expect(await retrieve(body.requestId)).toEqual([{ destination: destination(), requestStatus: 'PROCESSING' }]);
    expect(await retrieve(body.requestId)).toEqual([{ destination: destination(), requestStatus: 'SUCCESS', eventsIngestionStatus: { recordCount: '1' } }]);
  });

  it('reports a resent transactionId as DUPLICATE_TRANSACTION_ID and counts it once', async () => {
    await ingest(request());
    const { body } = await ingest(request({ events: [event(), event({ transactionId: 'conv-2' })] }));
    await retrieve(body.requestId);
    expect(await retrieve(body.requestId)).toEqual([{
      destination: destination(),
      requestStatus: 'PARTIAL_SUCCESS',
      errorInfo: { errorCounts: [{ recordCount: '1', reason: 'PROCESSING_ERROR_REASON_DUPLICATE_TRANSACTION_ID' }] },
      eventsIngestionStatus: { recordCount: '2' },
    }]);
    expect([...fakes.counted('google')]).toEqual([['987654321:conv-1', 2], ['987654321:conv-2', 1]]);
  });

  it('answers 400 REQUIRED_FIELD_MISSING without requestId and INVALID_REQUEST_ID for an unknown one', async () => {
    expect(envelope(await get(statusUrl(), auth()), 400, 'INVALID_ARGUMENT')[0]).toMatchObject({ reason: 'REQUIRED_FIELD_MISSING' });
    expect(envelope(await get(statusUrl('nope'), auth()), 400, 'INVALID_ARGUMENT')[0]).toMatchObject({ reason: 'INVALID_REQUEST_ID' });
  });

  it('stays PROCESSING until the configured delay has passed', async () => {
    const slow = await startFakePlatforms({ now: clock.now, google, dataManagerStatusDelaySeconds: 1800 });
    try {
      const t = await googleToken(slow.urls.oauthToken);
      const headers = { authorization: `Bearer ${t}` };
      const { body } = await postJson(ingestUrl(slow.urls.dataManager), request(), headers);
      const status = async () => (await get(statusUrl(body.requestId, slow.urls.dataManager), headers)).body.requestStatusPerDestination[0].requestStatus;
      expect(await status()).toBe('PROCESSING');
      clock.advance(29 * 60_000);
      expect(await status()).toBe('PROCESSING');
      clock.advance(60_000);
      expect(await status()).toBe('SUCCESS');
    } finally {
      await slow.close();
    }
  });

  describe('with known clicks', () => {
    const cases: Array<{ name: string; gclid: string; at?: string; reason: string | undefined }> = [
      { name: 'an unknown gclid', gclid: 'Cj0KCQiAunknown', reason: 'PROCESSING_ERROR_REASON_CLICK_NOT_FOUND' },
      { name: 'a modified gclid', gclid: 'Cj0K CQiA', reason: 'PROCESSING_ERROR_REASON_INVALID_GCLID' },
      { name: 'a conversion before its click', gclid: 'Cj0KCQiAday', at: new Date(T0 - 2 * DAY).toISOString(), reason: 'PROCESSING_ERROR_REASON_CONVERSION_PRECEDES_CLICK' },
      { name: 'a click less than 6 h old', gclid: 'Cj0KCQiAhour', at: new Date(T0 - 30 * 60_000).toISOString(), reason: 'PROCESSING_ERROR_REASON_TOO_RECENT_CLICK' },
      { name: 'a known click', gclid: 'Cj0KCQiAday', reason: undefined },
    ];
    for (const { name, gclid, at, reason } of cases) {
      it(`reports ${name} as ${reason ?? 'SUCCESS'} and counts it only when matched`, async () => {
        const seeded = await startFakePlatforms({ now: clock.now, google: { ...google, knownClicks: [{ id: 'Cj0KCQiAday', clickedAt: new Date(T0 - DAY) }, { id: 'Cj0KCQiAhour', clickedAt: new Date(T0 - HOUR) }] } });
        try {
          const t = await googleToken(seeded.urls.oauthToken);
          const headers = { authorization: `Bearer ${t}` };
          const e = event({ adIdentifiers: { gclid }, ...(at === undefined ? {} : { eventTimestamp: at }) });
          const { body, status } = await postJson(ingestUrl(seeded.urls.dataManager), request({ events: [e] }), headers);
          expect(status).toBe(200);
          await get(statusUrl(body.requestId, seeded.urls.dataManager), headers);
          const [result] = (await get(statusUrl(body.requestId, seeded.urls.dataManager), headers)).body.requestStatusPerDestination;
          if (reason === undefined) {
            expect(result.requestStatus).toBe('SUCCESS');
            expect(seeded.counted('google').size).toBe(1);
          } else {
            expect(result).toMatchObject({ requestStatus: 'FAILED', errorInfo: { errorCounts: [{ recordCount: '1', reason }] } });
            expect(seeded.counted('google').size).toBe(0);
          }
        } finally {
          await seeded.close();
        }
      });
    }
  });
});
