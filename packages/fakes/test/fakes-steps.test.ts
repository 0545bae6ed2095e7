import { describe, expect, it } from 'vitest';
import { FakePlatformsError, type FakeRoute, type FakeStep } from '../src/index.js';
import { FAKE_DEFAULTS } from '../src/index.js';
import { T0_SECONDS, fakesForTests, json, microsoftToken, postJson, sha256 } from './fakes-helpers.js';

const suite = await fakesForTests();
const { fakes } = suite;

const ACTION = 'customers/1234567890/conversionActions/987654321';

/** One valid request per route; `id` makes the dedup key. */
const send: Record<FakeRoute, (id?: string) => Promise<Response>> = {
  meta: (id = 'e1') =>
    fetch(`${fakes.urls.meta}/v26.0/1234567890123456/events?access_token=fake-meta-token`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: [{ event_name: 'Lead', event_time: T0_SECONDS - 60, event_id: id, action_source: 'system_generated', user_data: { em: sha256('a') } }] }),
    }),
  googleAds: (id = 'o1') =>
    fetch(`${fakes.urls.googleAds}/v26/customers/1234567890:uploadClickConversions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${suite.token}` },
      body: JSON.stringify({ partialFailure: true, conversions: [{ gclid: 'Cj0KCQiAfake1', conversionAction: ACTION, conversionDateTime: '2026-11-20 10:00:00+00:00', orderId: id }] }),
    }),
  dataManager: (id = 't1') =>
    fetch(`${fakes.urls.dataManager}/v1/events:ingest`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${suite.token}` },
      body: JSON.stringify({
        destinations: [{ operatingAccount: { accountType: 'GOOGLE_ADS', accountId: '1234567890' }, productDestinationId: '987654321' }],
        events: [{ transactionId: id, eventTimestamp: '2026-11-20T10:00:00Z', adIdentifiers: { gclid: 'Cj0KCQiAfake1' } }],
      }),
    }),
  oauth: () =>
    fetch(fakes.urls.oauthToken, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'fake-client-id.apps.googleusercontent.com', client_secret: 'fake-client-secret', refresh_token: 'fake-refresh-token' }).toString(),
    }),
  googleAuth: () => fetch(`${fakes.urls.googleAuth}/tokeninfo?access_token=${suite.token}`),
  tiktok: (id = 'e1') =>
    fetch(`${fakes.urls.tiktok}/open_api/v1.3/event/track/`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'access-token': 'fake-tiktok-token' },
      body: JSON.stringify({ event_source: 'web', event_source_id: 'CFAKEPIXEL0000000000', data: [{ event: 'Lead', event_time: T0_SECONDS - 60, event_id: id }] }),
    }),
  metaDialog: () => fetch(`${fakes.urls.metaOAuth}/v26.0/dialog/oauth?client_id=1122334455667788&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&config_id=900000000000001&state=s`, { redirect: 'manual' }),
  tiktokPortal: () => fetch(`${fakes.urls.tiktokOAuth}?app_id=7300000000000000001&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=s`, { redirect: 'manual' }),
  microsoftOAuth: () =>
    fetch(fakes.urls.microsoftToken, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token', client_id: FAKE_DEFAULTS.microsoft.clientId, client_secret: FAKE_DEFAULTS.microsoft.clientSecret,
        refresh_token: FAKE_DEFAULTS.microsoft.refreshToken, scope: 'https://ads.microsoft.com/msads.manage offline_access',
      }).toString(),
    }),
  microsoftCampaign: async (id = '9f223aca6be512d830005cea8c9d3b06') =>
    fetch(`${fakes.urls.microsoftCampaign}/CampaignManagement/v13/OfflineConversions/Apply`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', authorization: `Bearer ${await microsoftToken(fakes.urls.microsoftToken)}`,
        developertoken: FAKE_DEFAULTS.microsoft.developerToken, customerid: FAKE_DEFAULTS.microsoft.customerId, customeraccountid: FAKE_DEFAULTS.microsoft.accountId,
      },
      body: JSON.stringify({ OfflineConversions: [{ MicrosoftClickId: id, ConversionName: FAKE_DEFAULTS.microsoft.goalName, ConversionTime: '2026-11-20T10:00:00.000Z' }] }),
    }),
  microsoftCustomer: async () =>
    fetch(`${fakes.urls.microsoftCustomer}/CustomerManagement/v13/User/Query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await microsoftToken(fakes.urls.microsoftToken)}`, developertoken: FAKE_DEFAULTS.microsoft.developerToken },
      body: JSON.stringify({ UserId: null }),
    }),
  microsoftInspect: () => fetch(fakes.urls.microsoftInspect),
  microsoftCapi: (id = 'e1') =>
    fetch(`${fakes.urls.microsoftCapi}/v1/${FAKE_DEFAULTS.microsoft.uetTagId}/events`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_DEFAULTS.microsoft.uetTagToken}` },
      body: JSON.stringify({
        data: [{ eventType: 'custom', eventId: id, eventName: 'lead', eventTime: T0_SECONDS - 60, userData: { msclkid: '9f223aca6be512d830005cea8c9d3b06' } }],
        continueOnValidationError: true, dataProvider: 'pruuv',
      }),
    }),
};
fakes.oauth.allowRedirectUri('meta', 'https://app.example/cb');
fakes.oauth.allowRedirectUri('tiktok', 'https://app.example/cb');
const ROUTES = ['meta', 'googleAds', 'dataManager', 'oauth', 'googleAuth', 'tiktok', 'microsoftOAuth', 'microsoftCampaign', 'microsoftCustomer', 'microsoftInspect', 'microsoftCapi'] as const satisfies readonly FakeRoute[];
const counted = { meta: 'meta', googleAds: 'google', dataManager: 'google', tiktok: 'tiktok', microsoftCampaign: 'microsoft', microsoftCapi: 'microsoftCapi' } as const;

describe('script()', () => {
  it('consumes steps in order, then answers normally', async () => {
    fakes.script('meta', [{ kind: 'status', status: 500 }, { kind: 'status', status: 502, body: '<html>Bad Gateway</html>', headers: { 'Content-Type': 'text/html' } }]);
    const first = await send.meta();
    const second = await send.meta();
    const third = await send.meta();
    expect(first.status).toBe(500);
    expect(await first.text()).toBe('');
    expect(second.status).toBe(502);
    expect(second.headers.get('content-type')).toBe('text/html');
    expect(await second.text()).toBe('<html>Bad Gateway</html>');
    expect(third.status).toBe(200);
    expect(fakes.requests('meta').map((r) => r.step)).toEqual(['status', 'status', undefined]);
    expect(fakes.counted('meta').size).toBe(1);
  });

  const misfits: Array<[FakeRoute, FakeStep]> = [
    ['meta', { kind: 'google-rpc', httpStatus: 500, status: 'INTERNAL' }],
    ['tiktok', { kind: 'meta-error', code: 17 }],
    ['oauth', { kind: 'google-partial', rows: [0], error: 'CLICK_NOT_FOUND' }],
    ['googleAds', { kind: 'tiktok-code', code: 40100 }],
    ['dataManager', { kind: 'status', status: 42 }],
    ['meta', { kind: 'consent', decision: 'deny' }],
    ['metaDialog', { kind: 'meta-error', code: 190 }],
    ['tiktok', { kind: 'consent', decision: 'deny' }],
  ];
  for (const [route, step] of misfits) {
    it(`throws FakePlatformsError for a ${step.kind} step on ${route}`, () => {
      expect(() => fakes.script(route, [step])).toThrow(FakePlatformsError);
    });
  }
});

describe('meta-error', () => {
  const cases: Array<{ step: FakeStep & { kind: 'meta-error' }; status: number; transient: boolean; type: string }> = [
    { step: { kind: 'meta-error', code: 1 }, status: 500, transient: true, type: 'OAuthException' },
    { step: { kind: 'meta-error', code: 2 }, status: 500, transient: true, type: 'OAuthException' },
    { step: { kind: 'meta-error', code: 4 }, status: 400, transient: false, type: 'OAuthException' },
    { step: { kind: 'meta-error', code: 17, transient: true }, status: 400, transient: true, type: 'OAuthException' },
    { step: { kind: 'meta-error', code: 341 }, status: 400, transient: false, type: 'OAuthException' },
    { step: { kind: 'meta-error', code: 613 }, status: 400, transient: false, type: 'OAuthException' },
    { step: { kind: 'meta-error', code: 80004 }, status: 400, transient: false, type: 'OAuthException' },
    { step: { kind: 'meta-error', code: 190, httpStatus: 500 }, status: 500, transient: false, type: 'OAuthException' },
    { step: { kind: 'meta-error', code: 100, subcode: 33 }, status: 400, transient: false, type: 'GraphMethodException' },
  ];
  for (const { step, status, transient, type } of cases) {
    it(`answers ${status} code ${step.code} with is_transient ${transient}`, async () => {
      fakes.script('meta', [step]);
      const r = await send.meta();
      expect(r.status).toBe(status);
      expect((await json(r)).error).toEqual({
        message: expect.any(String), type, code: step.code, is_transient: transient, fbtrace_id: expect.any(String),
        ...(step.subcode === undefined ? {} : { error_subcode: step.subcode }),
      });
      expect(fakes.counted('meta').size).toBe(0);
    });
  }
});

describe('google-rpc', () => {
  it('answers an Ads 429 RESOURCE_EXHAUSTED with quotaError and retryDelay', async () => {
    fakes.script('googleAds', [{ kind: 'google-rpc', httpStatus: 429, status: 'RESOURCE_EXHAUSTED', retryDelaySeconds: 30 }]);
    const r = await send.googleAds();
    expect(r.status).toBe(429);
    const { error } = await json(r);
    expect(error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    expect(error.details[0].errors[0]).toMatchObject({ errorCode: { quotaError: 'RESOURCE_EXHAUSTED' }, details: { quotaErrorDetails: { retryDelay: '30s' } } });
  });

  const ads: Array<{ httpStatus: number; status: string; reason?: string; errorCode: Record<string, string> }> = [
    { httpStatus: 500, status: 'INTERNAL', errorCode: { internalError: 'TRANSIENT_ERROR' } },
    { httpStatus: 503, status: 'UNAVAILABLE', errorCode: { internalError: 'TRANSIENT_ERROR' } },
    { httpStatus: 504, status: 'DEADLINE_EXCEEDED', errorCode: { internalError: 'DEADLINE_EXCEEDED' } },
    { httpStatus: 403, status: 'PERMISSION_DENIED', reason: 'CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE', errorCode: { notAllowlistedError: 'CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE' } },
  ];
  for (const { httpStatus, status, reason, errorCode } of ads) {
    it(`answers an Ads ${httpStatus} ${status} with ${Object.keys(errorCode)[0]}`, async () => {
      fakes.script('googleAds', [{ kind: 'google-rpc', httpStatus, status, ...(reason === undefined ? {} : { reason }) }]);
      const r = await send.googleAds();
      expect(r.status).toBe(httpStatus);
      const { error } = await json(r);
      expect(error.status).toBe(status);
      expect(error.details[0].errors[0].errorCode).toEqual(errorCode);
      expect(fakes.counted('google').size).toBe(0);
    });
  }

  it('answers a Data Manager 503 with ErrorInfo and RetryInfo', async () => {
    fakes.script('dataManager', [{ kind: 'google-rpc', httpStatus: 503, status: 'UNAVAILABLE', retryDelaySeconds: 5 }]);
    const r = await send.dataManager();
    expect(r.status).toBe(503);
    const { error } = await json(r);
    expect(error).toMatchObject({ code: 503, status: 'UNAVAILABLE' });
    expect(error.details.map((d: { '@type': string }) => d['@type'])).toEqual([
      'type.googleapis.com/google.rpc.ErrorInfo', 'type.googleapis.com/google.rpc.RequestInfo', 'type.googleapis.com/google.rpc.RetryInfo',
    ]);
    expect(error.details[2].retryDelay).toBe('5s');
  });

  it('answers a Data Manager daily-quota 429 when the reason names it', async () => {
    fakes.script('dataManager', [{ kind: 'google-rpc', httpStatus: 429, status: 'RESOURCE_EXHAUSTED', reason: 'IngestionMutateRequestsPerDayPerProject' }]);
    const r = await send.dataManager();
    expect(r.status).toBe(429);
    expect((await json(r)).error.details[0].metadata.quota_limit).toBe('IngestionMutateRequestsPerDayPerProject');
  });

  it('answers the token endpoint with an OAuth error body', async () => {
    fakes.script('oauth', [{ kind: 'google-rpc', httpStatus: 503, status: 'UNAVAILABLE' }]);
    const r = await send.oauth();
    expect(r.status).toBe(503);
    expect(await json(r)).toEqual({ error: 'unavailable', error_description: expect.any(String) });
  });
});

describe('google-partial', () => {
  it('fails the given Ads rows and processes the others', async () => {
    fakes.script('googleAds', [{ kind: 'google-partial', rows: [1], error: 'CLICK_NOT_FOUND' }]);
    const rows = ['a', 'b', 'c'].map((id) => ({ gclid: 'Cj0KCQiAfake1', conversionAction: ACTION, conversionDateTime: `2026-11-20 10:00:0${id === 'a' ? 0 : id === 'b' ? 1 : 2}+00:00`, orderId: id }));
    const r = await postJson(`${fakes.urls.googleAds}/v26/customers/1234567890:uploadClickConversions`, { partialFailure: true, conversions: rows }, { authorization: `Bearer ${suite.token}` });
    expect(r.status).toBe(200);
    expect(r.body.results[1]).toEqual({});
    expect(r.body.results[0]).toMatchObject({ gclid: 'Cj0KCQiAfake1' });
    expect(r.body.partialFailureError.details[0].errors).toEqual([
      { errorCode: { conversionUploadError: 'CLICK_NOT_FOUND' }, message: expect.any(String), location: { fieldPathElements: [{ fieldName: 'conversions', index: 1 }] } },
    ]);
    expect([...fakes.counted('google').keys()]).toEqual(['987654321:a', '987654321:c']);
  });

  it('rejects a whole Data Manager request, naming the rows', async () => {
    fakes.script('dataManager', [{ kind: 'google-partial', rows: [0], error: 'INVALID_CURRENCY_CODE' }]);
    const r = await send.dataManager();
    expect(r.status).toBe(400);
    const { error } = await json(r);
    expect(error.details[2].fieldViolations).toEqual([{ field: 'events.events[0]', reason: 'INVALID_CURRENCY_CODE', description: expect.any(String) }]);
    expect(fakes.counted('google').size).toBe(0);
  });
});

describe('tiktok-code', () => {
  it('answers HTTP 200 with code 40100 and TikTok\'s message', async () => {
    fakes.script('tiktok', [{ kind: 'tiktok-code', code: 40100 }]);
    const r = await send.tiktok();
    expect(r.status).toBe(200);
    expect(await json(r)).toEqual({ code: 40100, message: 'Too many requests. Please retry in some time.', request_id: expect.any(String), data: {} });
    expect(fakes.counted('tiktok').size).toBe(0);
  });
});

describe('retry-after', () => {
  const bodies: Record<(typeof ROUTES)[number], (body: any) => void> = {
    meta: (b) => expect(b.error.code).toBe(17),
    googleAds: (b) => expect(b.error.status).toBe('RESOURCE_EXHAUSTED'),
    dataManager: (b) => expect(b.error.details[0].metadata.quota_limit).toBe('IngestionMutateRequestsPerMinutePerProject'),
    oauth: (b) => expect(b.error).toBe('rate_limit_exceeded'),
    googleAuth: (b) => expect(b.error).toBe('rate_limit_exceeded'),
    tiktok: (b) => expect(b.code).toBe(40100),
    microsoftOAuth: (b) => expect(b.error).toBe('temporarily_unavailable'),
    microsoftCampaign: (b) => expect(b).toMatchObject({ Type: 'AdApiFaultDetail', Errors: [{ Code: 117, ErrorCode: 'CallRateExceeded' }] }),
    microsoftCustomer: (b) => expect(b).toMatchObject({ Type: 'AdApiFaultDetail', Errors: [{ Code: 117 }] }),
    microsoftInspect: (b) => expect(b.error).toBe('temporarily_unavailable'),
    microsoftCapi: (b) => expect(b.error.code).toBe('TooManyRequests'),
  };
  for (const route of ROUTES) {
    it(`answers ${route} with 429, Retry-After and the route's throttle body`, async () => {
      fakes.script(route, [{ kind: 'retry-after', status: 429, seconds: 7 }]);
      const r = await send[route]();
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('7');
      bodies[route](await json(r));
    });
  }
});

describe('consent', () => {
  for (const route of ['metaDialog', 'tiktokPortal'] as const) {
    it(`approves by default, then follows a scripted deny and error page (${route})`, async () => {
      fakes.script(route, [{ kind: 'consent', decision: 'deny' }, { kind: 'consent', decision: 'error_page' }]);
      const denied = await send[route]();
      const errorPage = await send[route]();
      const approved = await send[route]();
      expect(denied.status).toBe(302);
      expect(new URL(denied.headers.get('location') ?? '').searchParams.has('code')).toBe(false);
      expect(errorPage.status).toBe(500);
      expect(errorPage.headers.get('location')).toBeNull();
      expect(approved.status).toBe(302);
      expect(new URL(approved.headers.get('location') ?? '').searchParams.get('code')).toMatch(/^\S{20,}$/);
      expect(fakes.requests(route).map((r) => r.step)).toEqual(['consent', 'consent', undefined]);
    });

    it(`answers a retry-after step with 429 (${route})`, async () => {
      fakes.script(route, [{ kind: 'retry-after', status: 429, seconds: 3 }]);
      const r = await send[route]();
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('3');
    });
  }
});

describe('hang, reset and accept-then-drop', () => {
  it('never answers a hung request, so the client timeout fires', async () => {
    fakes.script('tiktok', [{ kind: 'hang' }]);
    const hung = fetch(`${fakes.urls.tiktok}/open_api/v1.3/event/track/`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(150) });
    await expect(hung).rejects.toThrow(/timeout|aborted/i);
    expect(fakes.requests('tiktok')[0]).toMatchObject({ outcome: 'hang', status: undefined });
  });

  for (const route of ['meta', 'googleAds', 'dataManager', 'tiktok', 'microsoftCampaign', 'microsoftCapi'] as const) {
    it(`destroys the socket on reset and processes nothing (${route})`, async () => {
      fakes.script(route, [{ kind: 'reset' }]);
      await expect(send[route]()).rejects.toThrow();
      expect(fakes.counted(counted[route]).size).toBe(0);
      expect(fakes.requests(route)[0]?.outcome).toBe('reset');
    });

    it(`counts an accepted-then-dropped request once when it is resent (${route})`, async () => {
      fakes.script(route, [{ kind: 'accept-then-drop' }]);
      await expect(send[route]()).rejects.toThrow();
      expect(fakes.counted(counted[route]).size).toBe(1);
      const resent = await send[route]();
      expect(resent.status).toBe(200);
      expect([...fakes.counted(counted[route]).values()]).toEqual([2]);
      expect(fakes.requests(route).map((r) => r.outcome)).toEqual(['dropped', 'answered']);
    });
  }

  it('issues a token even when the answer is dropped (oauth)', async () => {
    fakes.script('oauth', [{ kind: 'accept-then-drop' }]);
    await expect(send.oauth()).rejects.toThrow();
    expect((await send.oauth()).status).toBe(200);
  });
});
