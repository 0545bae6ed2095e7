import { describe, expect, it } from 'vitest';
import { startFakePlatforms, GOOGLE_SCOPES } from '../src/index.js';
import { DAY, HOUR, T0, fakesForTests, googleToken, postForm, postJson, sha256 } from './fakes-helpers.js';

const CUSTOMER = '1234567890';
const ACTION = `customers/${CUSTOMER}/conversionActions/987654321`;
const suite = await fakesForTests({ adsNotAllowlisted: ['5555555555'],
  google: {
    customers: [CUSTOMER, '5555555555'], conversionActions: ['987654321'], clientId: 'fake-client-id.apps.googleusercontent.com',
    clientSecret: 'fake-client-secret', refreshTokens: ['fake-refresh-token'],
    knownClicks: [
      'Cj0KCQiAknown', 'Cj0KCQiAother', 'Cj0KCQiAthird',
      { id: 'Cj0KCQiAtimed', clickedAt: new Date(T0 - DAY) },
      { id: 'Cj0KCQiAfresh', clickedAt: new Date(T0 - HOUR) },
      { id: 'Cj0KCQiAold', clickedAt: new Date(T0 - 100 * DAY) },
      'GBRAIDknown', 'WBRAIDknown',
    ],
  },
});
const { fakes, clock } = suite;

const uploadUrl = (version = 'v26', customer = CUSTOMER): string => `${fakes.urls.googleAds}/${version}/customers/${customer}:uploadClickConversions`;
const auth = (): Record<string, string> => ({ authorization: `Bearer ${suite.token}` });
type Row = Record<string, unknown>;
const row = (over: Row = {}): Row => ({
  gclid: 'Cj0KCQiAknown', conversionAction: ACTION, conversionDateTime: '2026-11-20 10:00:00+00:00',
  conversionValue: 150, currencyCode: 'EUR', orderId: 'order-1', ...over,
});
const upload = (conversions: Row[], extra: Row = {}, headers = auth()) => postJson(uploadUrl(), { conversions, partialFailure: true, ...extra }, headers);

describe('POST /oauth/token', () => {
  it('exchanges a refresh token for a Bearer access token with both scopes', async () => {
    const r = await postForm(fakes.urls.oauthToken, {
      grant_type: 'refresh_token', client_id: 'fake-client-id.apps.googleusercontent.com', client_secret: 'fake-client-secret', refresh_token: 'fake-refresh-token',
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ access_token: expect.stringMatching(/^ya29\.fake-/), expires_in: 3599, scope: `${GOOGLE_SCOPES.ads} ${GOOGLE_SCOPES.dataManager}`, token_type: 'Bearer' });
  });

  const base = { grant_type: 'refresh_token', client_id: 'fake-client-id.apps.googleusercontent.com', client_secret: 'fake-client-secret', refresh_token: 'fake-refresh-token' };
  const cases: Array<{ name: string; fields: Record<string, string>; status: number; error: string }> = [
    { name: 'an unknown refresh token', fields: { ...base, refresh_token: 'revoked' }, status: 400, error: 'invalid_grant' },
    { name: 'another grant type', fields: { ...base, grant_type: 'client_credentials' }, status: 400, error: 'unsupported_grant_type' },
    { name: 'no grant type', fields: { client_id: base.client_id }, status: 400, error: 'unsupported_grant_type' },
    { name: 'a wrong client secret', fields: { ...base, client_secret: 'nope' }, status: 401, error: 'invalid_client' },
    { name: 'an unknown client id', fields: { ...base, client_id: 'other' }, status: 401, error: 'invalid_client' },
    { name: 'no refresh token', fields: { ...base, refresh_token: '' }, status: 400, error: 'invalid_request' },
  ];
  for (const { name, fields, status, error } of cases) {
    it(`answers ${status} ${error} for ${name}`, async () => {
      const r = await postForm(fakes.urls.oauthToken, fields);
      expect(r.status).toBe(status);
      expect(r.body).toEqual({ error, error_description: expect.any(String) });
    });
  }

  it('answers invalid_grant with Google\'s description', async () => {
    const r = await postForm(fakes.urls.oauthToken, { ...base, refresh_token: 'revoked' });
    expect(r.body.error_description).toBe('Token has been expired or revoked.');
  });

  it('refuses a JSON body', async () => {
    const r = await postJson(fakes.urls.oauthToken, base);
    expect(r).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});

describe('POST /google-ads/{version}/customers/{cid}:uploadClickConversions', () => {
  describe('with valid rows', () => {
    it('answers results, a string jobId and no partialFailureError', async () => {
      const r = await upload([row(), row({ orderId: 'order-2', gclid: 'Cj0KCQiAother' })], {}, { ...auth(), 'developer-token': 'ignored', 'login-customer-id': '1112223333' });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        results: [
          { gclid: 'Cj0KCQiAknown', conversionAction: ACTION, conversionDateTime: '2026-11-20 10:00:00+00:00' },
          { gclid: 'Cj0KCQiAother', conversionAction: ACTION, conversionDateTime: '2026-11-20 10:00:00+00:00' },
        ],
        jobId: expect.stringMatching(/^\d+$/),
      });
      expect(BigInt(r.body.jobId)).toBeGreaterThanOrEqual(2n ** 31n);
      expect([...fakes.counted('google').keys()]).toEqual(['987654321:order-1', '987654321:order-2']);
    });

    it('echoes a given jobId as a string', async () => {
      const r = await upload([row()], { jobId: 42 });
      expect(r.body.jobId).toBe('42');
    });

    it('accepts userIdentifiers without a click id', async () => {
      const r = await upload([row({ gclid: undefined, userIdentifiers: [{ hashedEmail: sha256('a@b.c'), userIdentifierSource: 'FIRST_PARTY' }, { hashedPhoneNumber: sha256('+18005550100') }] })]);
      expect(r.body.partialFailureError).toBeUndefined();
      expect(r.body.results[0].userIdentifiers).toHaveLength(2);
    });

    it('answers no results and counts nothing for validateOnly', async () => {
      const r = await upload([row()], { validateOnly: true });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ jobId: expect.any(String) });
      expect(fakes.counted('google').size).toBe(0);
      const real = await upload([row()]);
      expect(real.body.partialFailureError).toBeUndefined();
    });
  });

  describe('request-level errors', () => {
    const cases: Array<{ name: string; send: () => ReturnType<typeof postJson>; status: number; rpc: string; errorCode?: Record<string, string> }> = [
      { name: 'no Authorization header', send: () => upload([row()], {}, {}), status: 401, rpc: 'UNAUTHENTICATED', errorCode: { authenticationError: 'OAUTH_TOKEN_HEADER_INVALID' } },
      { name: 'an unknown token', send: () => upload([row()], {}, { authorization: 'Bearer ya29.nope' }), status: 401, rpc: 'UNAUTHENTICATED', errorCode: { authenticationError: 'OAUTH_TOKEN_INVALID' } },
      { name: 'an unsupported version', send: () => postJson(uploadUrl('v22'), { conversions: [row()], partialFailure: true }, auth()), status: 404, rpc: 'NOT_FOUND' },
      { name: 'a customer id with hyphens', send: () => postJson(uploadUrl('v26', '123-456-7890'), { conversions: [row()], partialFailure: true }, auth()), status: 400, rpc: 'INVALID_ARGUMENT', errorCode: { requestError: 'INVALID_CUSTOMER_ID' } },
      { name: 'a login-customer-id with hyphens', send: () => upload([row()], {}, { ...auth(), 'login-customer-id': '111-222-3333' }), status: 400, rpc: 'INVALID_ARGUMENT', errorCode: { headerError: 'INVALID_LOGIN_CUSTOMER_ID' } },
      { name: 'an unknown customer', send: () => postJson(uploadUrl('v26', '9999999999'), { conversions: [row()], partialFailure: true }, auth()), status: 403, rpc: 'PERMISSION_DENIED', errorCode: { authorizationError: 'USER_PERMISSION_DENIED' } },
      { name: 'a customer not allowlisted', send: () => postJson(uploadUrl('v26', '5555555555'), { conversions: [row()], partialFailure: true }, auth()), status: 403, rpc: 'PERMISSION_DENIED', errorCode: { notAllowlistedError: 'CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE' } },
      { name: 'a customer not allowlisted, validateOnly', send: () => postJson(uploadUrl('v26', '5555555555'), { conversions: [row()], partialFailure: true, validateOnly: true }, auth()), status: 403, rpc: 'PERMISSION_DENIED', errorCode: { notAllowlistedError: 'CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE' } },
      { name: 'partialFailure missing', send: () => postJson(uploadUrl(), { conversions: [row()] }, auth()), status: 400, rpc: 'INVALID_ARGUMENT', errorCode: { partialFailureError: 'PARTIAL_FAILURE_MODE_REQUIRED' } },
      { name: 'partialFailure false', send: () => upload([row()], { partialFailure: false }), status: 400, rpc: 'INVALID_ARGUMENT', errorCode: { partialFailureError: 'PARTIAL_FAILURE_MODE_REQUIRED' } },
      { name: 'no conversions', send: () => upload([]), status: 400, rpc: 'INVALID_ARGUMENT', errorCode: { fieldError: 'REQUIRED' } },
      { name: '2,001 conversions', send: () => upload(Array.from({ length: 2001 }, (_, i) => row({ orderId: `o${i}` }))), status: 400, rpc: 'INVALID_ARGUMENT', errorCode: { conversionUploadError: 'TOO_MANY_CONVERSIONS_IN_REQUEST' } },
      { name: 'a jobId out of int32 range', send: () => upload([row()], { jobId: 2 ** 31 }), status: 400, rpc: 'INVALID_ARGUMENT', errorCode: { conversionUploadError: 'INVALID_JOB_ID' } },
    ];
    for (const { name, send, status, rpc, errorCode } of cases) {
      it(`answers ${status} ${rpc} for ${name}`, async () => {
        const r = await send();
        expect(r.status).toBe(status);
        expect(r.body.error).toMatchObject({ code: status, status: rpc, message: expect.any(String) });
        if (errorCode !== undefined) {
          expect(r.body.error.details[0]).toMatchObject({
            '@type': 'type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure',
            errors: [{ errorCode, message: expect.any(String) }],
            requestId: expect.any(String),
          });
        }
        expect(fakes.counted('google').size).toBe(0);
      });
    }

    it('refuses an expired token with OAUTH_TOKEN_EXPIRED, then accepts a refreshed one', async () => {
      clock.advance(3600 * 1000);
      const expired = await upload([row()]);
      expect(expired.status).toBe(401);
      expect(expired.body.error.details[0].errors[0].errorCode).toEqual({ authenticationError: 'OAUTH_TOKEN_EXPIRED' });
      suite.token = await googleToken(fakes.urls.oauthToken);
      expect((await upload([row()])).status).toBe(200);
    });

    it('names an unknown field and a wrong JSON type in BadRequest violations', async () => {
      const r = await upload([row(), row({ foo: 1, conversionValue: '150' })]);
      expect(r.status).toBe(400);
      expect(r.body.error.status).toBe('INVALID_ARGUMENT');
      expect(r.body.error.details[0]).toEqual({
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        fieldViolations: [
          { field: 'conversions[1].conversion_value', description: 'Invalid value at \'conversions[1].conversion_value\' (TYPE_DOUBLE), "150"' },
          { field: 'conversions[1]', description: 'Invalid JSON payload received. Unknown name "foo" at \'conversions[1]\': Cannot find field.' },
        ],
      });
    });

    it('refuses a token without the adwords scope', async () => {
      const narrow = await startFakePlatforms({ now: clock.now, google: {
        customers: [CUSTOMER], conversionActions: ['987654321'], clientId: 'c', clientSecret: 's', refreshTokens: ['r'], tokenScopes: [GOOGLE_SCOPES.dataManager],
      } });
      try {
        const t = await postForm(narrow.urls.oauthToken, { grant_type: 'refresh_token', client_id: 'c', client_secret: 's', refresh_token: 'r' });
        const r = await postJson(`${narrow.urls.googleAds}/v26/customers/${CUSTOMER}:uploadClickConversions`, { conversions: [row()], partialFailure: true }, { authorization: `Bearer ${t.body.access_token}` });
        expect(r.status).toBe(403);
        expect(r.body.error.details[0]).toMatchObject({ reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT' });
      } finally {
        await narrow.close();
      }
    });
  });

  describe('per-row errors', () => {
    const cases: Array<{ name: string; row: Row; errorCode: Record<string, string>; path: Array<{ fieldName: string; index?: number }> }> = [
      { name: 'an unknown conversion action', row: row({ conversionAction: `customers/${CUSTOMER}/conversionActions/1` }), errorCode: { conversionUploadError: 'NO_CONVERSION_ACTION_FOUND' }, path: [{ fieldName: 'conversionAction' }] },
      { name: 'a bare action id', row: row({ conversionAction: '987654321' }), errorCode: { conversionUploadError: 'NO_CONVERSION_ACTION_FOUND' }, path: [{ fieldName: 'conversionAction' }] },
      { name: 'an RFC 3339 date time', row: row({ conversionDateTime: '2026-11-20T10:00:00Z' }), errorCode: { dateError: 'INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET' }, path: [{ fieldName: 'conversionDateTime' }] },
      { name: 'a date time without offset', row: row({ conversionDateTime: '2026-11-20 10:00:00' }), errorCode: { dateError: 'INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET' }, path: [{ fieldName: 'conversionDateTime' }] },
      { name: 'a date time with fractional seconds', row: row({ conversionDateTime: '2026-11-20 10:00:00.123+00:00' }), errorCode: { dateError: 'INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET' }, path: [{ fieldName: 'conversionDateTime' }] },
      { name: 'February 30th', row: row({ conversionDateTime: '2026-02-30 10:00:00+00:00' }), errorCode: { dateError: 'INVALID_FIELD_VALUES_IN_DATE_TIME' }, path: [{ fieldName: 'conversionDateTime' }] },
      { name: 'no click id and no identifiers', row: row({ gclid: undefined }), errorCode: { fieldError: 'REQUIRED' }, path: [{ fieldName: 'gclid' }] },
      { name: 'gbraid and wbraid', row: row({ gclid: undefined, gbraid: 'GBRAIDknown', wbraid: 'WBRAIDknown' }), errorCode: { conversionUploadError: 'GBRAID_WBRAID_BOTH_SET' }, path: [{ fieldName: 'wbraid' }] },
      { name: 'gclid and gbraid', row: row({ gbraid: 'GBRAIDknown' }), errorCode: { fieldError: 'VALUE_MUST_BE_UNSET' }, path: [{ fieldName: 'gbraid' }] },
      { name: 'a modified gclid', row: row({ gclid: 'Cj0K CQiA+known' }), errorCode: { conversionUploadError: 'UNPARSEABLE_GCLID' }, path: [{ fieldName: 'gclid' }] },
      { name: 'an unknown gclid', row: row({ gclid: 'Cj0KCQiAunknown' }), errorCode: { conversionUploadError: 'EVENT_NOT_FOUND' }, path: [{ fieldName: 'gclid' }] },
      { name: 'a conversion before its click', row: row({ gclid: 'Cj0KCQiAtimed', conversionDateTime: '2026-11-19 11:00:00+01:00' }), errorCode: { conversionUploadError: 'CONVERSION_PRECEDES_EVENT' }, path: [{ fieldName: 'conversionDateTime' }] },
      { name: 'a click less than 6 h old', row: row({ gclid: 'Cj0KCQiAfresh', conversionDateTime: '2026-11-20 11:30:00+00:00' }), errorCode: { conversionUploadError: 'TOO_RECENT_EVENT' }, path: [{ fieldName: 'gclid' }] },
      { name: 'a click outside the 90-day window', row: row({ gclid: 'Cj0KCQiAold' }), errorCode: { conversionUploadError: 'EXPIRED_EVENT' }, path: [{ fieldName: 'gclid' }] },
      { name: 'six user identifiers', row: row({ userIdentifiers: Array.from({ length: 6 }, (_, i) => ({ hashedEmail: sha256(`u${i}`) })) }), errorCode: { collectionSizeError: 'TOO_MANY' }, path: [{ fieldName: 'userIdentifiers' }] },
      { name: 'an identifier with email and phone', row: row({ userIdentifiers: [{ hashedEmail: sha256('a'), hashedPhoneNumber: sha256('b') }] }), errorCode: { conversionUploadError: 'INVALID_USER_IDENTIFIER' }, path: [{ fieldName: 'userIdentifiers', index: 0 }] },
      { name: 'a plaintext email', row: row({ userIdentifiers: [{ hashedEmail: sha256('a') }, { hashedEmail: 'ada@example.com' }] }), errorCode: { conversionUploadError: 'INVALID_USER_IDENTIFIER' }, path: [{ fieldName: 'userIdentifiers', index: 1 }, { fieldName: 'hashedEmail' }] },
      { name: 'a mobile id', row: row({ userIdentifiers: [{ mobileId: 'abc' }] }), errorCode: { conversionUploadError: 'UNSUPPORTED_USER_IDENTIFIER' }, path: [{ fieldName: 'userIdentifiers', index: 0 }, { fieldName: 'mobileId' }] },
      { name: 'a lower-case currency', row: row({ currencyCode: 'eur' }), errorCode: { currencyCodeError: 'UNSUPPORTED' }, path: [{ fieldName: 'currencyCode' }] },
      { name: 'an email as order id', row: row({ orderId: 'ada@example.com' }), errorCode: { conversionUploadError: 'ORDER_ID_CONTAINS_PII' }, path: [{ fieldName: 'orderId' }] },
    ];
    for (const { name, row: bad, errorCode, path } of cases) {
      it(`fails row 1 only, with HTTP 200, for ${name}`, async () => {
        const r = await upload([row({ orderId: 'good', gclid: 'Cj0KCQiAother' }), { ...bad, orderId: bad['orderId'] === 'order-1' ? 'bad' : bad['orderId'] }]);
        expect(r.status).toBe(200);
        expect(r.body.results).toHaveLength(2);
        expect(r.body.results[0]).toMatchObject({ gclid: 'Cj0KCQiAother' });
        expect(r.body.results[1]).toEqual({});
        expect(r.body.partialFailureError).toMatchObject({ code: 3, message: expect.stringContaining('at conversions[1]') });
        const [failure] = r.body.partialFailureError.details;
        expect(failure['@type']).toBe('type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure');
        expect(failure.errors[0].errorCode).toEqual(errorCode);
        expect(failure.errors[0].location.fieldPathElements).toEqual([{ fieldName: 'conversions', index: 1 }, ...path]);
        expect([...fakes.counted('google').keys()]).toEqual(['987654321:good']);
      });
    }

    it('accepts a known click seen 24 h before upload', async () => {
      const r = await upload([row({ gclid: 'Cj0KCQiAtimed' })]);
      expect(r.body.partialFailureError).toBeUndefined();
    });
  });

  describe('dedup', () => {
    it('fails a repeated orderId in one request with DUPLICATE_ORDER_ID', async () => {
      const r = await upload([row(), row({ gclid: 'Cj0KCQiAother' })]);
      expect(r.body.partialFailureError.details[0].errors[0].errorCode).toEqual({ conversionUploadError: 'DUPLICATE_ORDER_ID' });
      expect([...fakes.counted('google')]).toEqual([['987654321:order-1', 1]]);
    });

    it('answers ORDER_ID_ALREADY_IN_USE to a resend and counts it once', async () => {
      await upload([row()]);
      const again = await upload([row()]);
      expect(again.body.results).toEqual([{}]);
      expect(again.body.partialFailureError.details[0].errors[0].errorCode).toEqual({ conversionUploadError: 'ORDER_ID_ALREADY_IN_USE' });
      expect([...fakes.counted('google')]).toEqual([['987654321:order-1', 2]]);
    });

    it('fails the same click and time without order id', async () => {
      const noOrder = row({ orderId: undefined });
      const first = await upload([noOrder, noOrder]);
      expect(first.body.partialFailureError.details[0].errors[0].errorCode).toEqual({ conversionUploadError: 'DUPLICATE_CLICK_CONVERSION_IN_REQUEST' });
      const again = await upload([noOrder]);
      expect(again.body.partialFailureError.details[0].errors[0].errorCode).toEqual({ conversionUploadError: 'CLICK_CONVERSION_ALREADY_EXISTS' });
      expect([...fakes.counted('google').values()]).toEqual([2]);
    });
  });
});
