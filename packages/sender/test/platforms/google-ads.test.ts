import { describe, expect, it } from 'vitest';
import { buildGoogleAdsRequest, classifyGoogleAdsResponse, formatGoogleAdsDateTime, type UploadClickConversionsBody } from '../../src/platforms/google/ads.js';
import type { GoogleConnection } from '../../src/platforms/google/connection.js';
import { checkGoogle, type GooglePlan } from '../../src/platforms/google/eligibility.js';
import type { ConversionEvent } from '../../src/types.js';
import { NOW, VECTORS, googleConnection, makeEvent, response, sha256 } from '../helpers.js';

const ads = (o: Partial<GoogleConnection> = {}) => googleConnection({ api: 'ads', ...o });

function plan(overrides: Partial<ConversionEvent> = {}): GooglePlan {
  const r = checkGoogle(makeEvent(overrides), ads(), undefined, NOW);
  if (!r.send) throw new Error(r.message);
  return r.plan;
}

describe('formatGoogleAdsDateTime', () => {
  const cases = [
    { input: '2026-10-01T12:05:00.250Z', expected: '2026-10-01 12:05:00+00:00' },
    { input: '2026-01-02T03:04:05+02:00', expected: '2026-01-02 01:04:05+00:00' },
    { input: '2026-12-31T23:59:59Z', expected: '2026-12-31 23:59:59+00:00' },
  ];
  for (const { input, expected } of cases) {
    it(`formats ${input} as ${expected}`, () => {
      expect(formatGoogleAdsDateTime(input)).toBe(expected);
      expect(formatGoogleAdsDateTime(input)).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
    });
  }
});

describe('buildGoogleAdsRequest', () => {
  it('uses the published Google phone vector as it is', () => {
    expect(sha256(VECTORS.googlePhone.input)).toBe(VECTORS.googlePhone.hash);
  });

  it('builds one ClickConversion per event', () => {
    const p = plan({
      revenue_value: 150,
      currency: 'EUR',
      email_sha256: sha256('first.last@gmail.com'),
      email_sha256_google: sha256('firstlast@gmail.com'),
      phone_sha256: VECTORS.googlePhone.hash,
      phone_sha256_meta: sha256('18005550102'),
    });
    const req = buildGoogleAdsRequest(ads(), [p], 'ya29.token');
    expect(req.url).toBe('https://googleads.googleapis.com/v26/customers/1234567890:uploadClickConversions');
    expect(req.body).toEqual({
      conversions: [
        {
          gclid: 'Cj0KCQiA-test',
          conversionAction: 'customers/1234567890/conversionActions/987654321',
          conversionDateTime: '2026-11-20 14:00:00+00:00',
          conversionValue: 150,
          currencyCode: 'EUR',
          orderId: p.event.id,
          userIdentifiers: [{ hashedEmail: sha256('firstlast@gmail.com') }, { hashedPhoneNumber: VECTORS.googlePhone.hash }],
          consent: { adUserData: 'GRANTED' },
        },
      ],
      partialFailure: true,
    } satisfies UploadClickConversionsBody);
  });

  it('sends the bearer token and login-customer-id, and a developer-token only when configured', () => {
    const plain = buildGoogleAdsRequest(ads(), [plan()], 'tok');
    expect(plain.headers).toEqual({ authorization: 'Bearer tok', 'content-type': 'application/json' });
    const managed = buildGoogleAdsRequest(ads({ login_customer_id: '111-222-3333', developer_token: 'dev' }), [plan()], 'tok');
    expect(managed.headers).toMatchObject({ 'login-customer-id': '1112223333', 'developer-token': 'dev' });
  });

  it('omits consent when unspecified', () => {
    const body = buildGoogleAdsRequest(ads(), [plan({ consent: 'unspecified' })], 't').body as UploadClickConversionsBody;
    expect(body.conversions[0]).not.toHaveProperty('consent');
  });

  it('sends exactly one click id', () => {
    const p = plan({ clicks: { gclid: { value: 'G', ts: '2026-11-19T00:00:00Z' }, wbraid: { value: 'W', ts: '2026-11-20T00:00:00Z' } } });
    const conv = (buildGoogleAdsRequest(ads(), [p], 't').body as UploadClickConversionsBody).conversions[0];
    expect(conv).toMatchObject({ wbraid: 'W' });
    expect(conv).not.toHaveProperty('gclid');
    expect(conv).not.toHaveProperty('gbraid');
  });

  it('asks for validateOnly on a dry run', () => {
    expect(buildGoogleAdsRequest(ads({ dry_run: true }), [plan()], 't').body).toMatchObject({ validateOnly: true, partialFailure: true });
  });
});

function partialFailure(rows: Array<{ index: number; code: string }>) {
  return {
    results: [],
    partialFailureError: {
      code: 3,
      message: 'errors',
      details: [
        {
          '@type': 'type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure',
          errors: rows.map((r) => ({
            errorCode: { conversionUploadError: r.code },
            message: `row ${r.index}: ${r.code}`,
            location: { fieldPathElements: [{ fieldName: 'conversions', index: r.index }, { fieldName: 'gclid' }] },
          })),
          requestId: 'req-pf',
        },
      ],
    },
    jobId: '123',
  };
}

describe('classifyGoogleAdsResponse', () => {
  it('fails only the rows named in partialFailureError (rows 3 of 10)', () => {
    const body = partialFailure([
      { index: 2, code: 'CLICK_NOT_FOUND' },
      { index: 5, code: 'TOO_RECENT_EVENT' },
      { index: 9, code: 'ORDER_ID_ALREADY_IN_USE' },
    ]);
    const out = classifyGoogleAdsResponse(response(200, body), 10, NOW);
    if (out.verdict.type !== 'each') throw new Error('expected per-row results');
    const kinds = out.verdict.results.map((r) => r.kind);
    expect(kinds).toEqual(['sent', 'sent', 'fail', 'sent', 'sent', 'retry', 'sent', 'sent', 'sent', 'delivered']);
    expect(out.verdict.results[2]).toMatchObject({ error_code: 'CLICK_NOT_FOUND', error_message: 'row 2: CLICK_NOT_FOUND' });
    expect(out.verdict.results[5]).toMatchObject({ reason: 'too_recent', minDelayMs: 6 * 3_600_000 });
    expect(out.request_id).toBe('req-pf');
  });

  it('reports validated rows on a dry run', () => {
    const out = classifyGoogleAdsResponse(response(200, { jobId: '1' }), 2, NOW, true);
    expect(out.verdict).toEqual({ type: 'each', results: [{ kind: 'validated' }, { kind: 'validated' }] });
  });

  const rpc = (status: string, httpStatus: number, errorCode: Record<string, string>, extra: Record<string, unknown> = {}) =>
    response(httpStatus, {
      error: {
        code: httpStatus,
        message: status,
        status,
        details: [{ '@type': 'type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure', errors: [{ errorCode, message: 'x', ...extra }], requestId: 'r1' }],
      },
    });

  const rpcCases: Array<{ name: string; res: ReturnType<typeof response>; kind: string; reason: string }> = [
    { name: 'quota exhausted', res: rpc('RESOURCE_EXHAUSTED', 429, { quotaError: 'RESOURCE_EXHAUSTED' }), kind: 'retry', reason: 'rate_limited' },
    { name: 'transient internal error', res: rpc('INTERNAL', 500, { internalError: 'TRANSIENT_ERROR' }), kind: 'retry', reason: 'transient' },
    { name: 'unauthenticated', res: rpc('UNAUTHENTICATED', 401, { authenticationError: 'OAUTH_TOKEN_EXPIRED' }), kind: 'pause', reason: 'auth' },
    { name: 'permission denied', res: rpc('PERMISSION_DENIED', 403, { authorizationError: 'USER_PERMISSION_DENIED' }), kind: 'pause', reason: 'permission' },
    { name: 'not allowlisted', res: rpc('PERMISSION_DENIED', 403, { notAllowlistedError: 'CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE' }), kind: 'pause', reason: 'not_allowlisted' },
    { name: 'request-level invalid argument', res: rpc('INVALID_ARGUMENT', 400, { requestError: 'INVALID_INPUT' }), kind: 'fail', reason: 'invalid_request' },
  ];
  for (const c of rpcCases) {
    it(`classifies ${c.name} as ${c.kind}`, () => {
      const out = classifyGoogleAdsResponse(c.res, 3, NOW);
      expect(out.verdict).toMatchObject({ type: 'all', result: { kind: c.kind, reason: c.reason } });
      expect(out.request_id).toBe('r1');
    });
  }

  it('honours quotaErrorDetails.retryDelay', () => {
    const res = rpc('RESOURCE_EXHAUSTED', 429, { quotaError: 'RESOURCE_EXHAUSTED' }, { details: { quotaErrorDetails: { retryDelay: '42s' } } });
    expect(classifyGoogleAdsResponse(res, 1, NOW).verdict).toMatchObject({ result: { retryAfterMs: 42_000 } });
  });

  it('splits when a request-level error names rows', () => {
    const res = rpc('INVALID_ARGUMENT', 400, { fieldError: 'INVALID_VALUE' }, { location: { fieldPathElements: [{ fieldName: 'conversions', index: 4 }] } });
    expect(classifyGoogleAdsResponse(res, 6, NOW).verdict).toMatchObject({ type: 'split', indices: [4] });
  });
});
