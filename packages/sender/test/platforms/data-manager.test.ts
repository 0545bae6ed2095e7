import { describe, expect, it } from 'vitest';
import type { GoogleConnection } from '../../src/platforms/google/connection.js';
import { buildDataManagerRequest, classifyDataManagerResponse, formatRfc3339, type IngestEventsBody } from '../../src/platforms/google/data-manager.js';
import { checkGoogle, type GooglePlan } from '../../src/platforms/google/eligibility.js';
import type { ConversionEvent } from '../../src/types.js';
import { NOW, VECTORS, googleConnection, makeEvent, response, sha256 } from '../helpers.js';

function plan(overrides: Partial<ConversionEvent> = {}, conn: GoogleConnection = googleConnection()): GooglePlan {
  const r = checkGoogle(makeEvent(overrides), conn, undefined, NOW);
  if (!r.send) throw new Error(r.message);
  return r.plan;
}

describe('buildDataManagerRequest', () => {
  it('uses the published Data Manager email vector as it is', () => {
    expect(sha256(VECTORS.dmEmail.input)).toBe(VECTORS.dmEmail.hash);
  });

  it('matches the shape of the minimal example (google-data-manager.md §8)', () => {
    const p = plan({
      source: 'pixel',
      user_agent: 'Mozilla/5.0 ...',
      revenue_value: 129.5,
      currency: 'EUR',
      email_sha256: VECTORS.dmEmail.hash,
      event_time: '2026-11-20T14:35:00.000Z',
      clicks: { gclid: { value: 'Cj0KCQiA...', ts: '2026-11-20T08:00:00Z' } },
    });
    const req = buildDataManagerRequest(googleConnection({ login_customer_id: '9876543210' }), '7712337565', [p], 'ya29.tok');
    expect(req.url).toBe('https://datamanager.googleapis.com/v1/events:ingest');
    expect(req.headers).toEqual({ authorization: 'Bearer ya29.tok', 'content-type': 'application/json' });
    expect(req.body).toEqual({
      destinations: [
        {
          operatingAccount: { accountType: 'GOOGLE_ADS', accountId: '1234567890' },
          loginAccount: { accountType: 'GOOGLE_ADS', accountId: '9876543210' },
          productDestinationId: '7712337565',
        },
      ],
      events: [
        {
          transactionId: p.event.id,
          eventTimestamp: '2026-11-20T14:35:00Z',
          eventSource: 'WEB',
          adIdentifiers: { gclid: 'Cj0KCQiA...', landingPageDeviceInfo: { userAgent: 'Mozilla/5.0 ...' } },
          conversionValue: 129.5,
          currency: 'EUR',
          userData: { userIdentifiers: [{ emailAddress: VECTORS.dmEmail.hash }] },
          consent: { adUserData: 'CONSENT_GRANTED' },
        },
      ],
      encoding: 'HEX',
    } satisfies IngestEventsBody);
  });

  it('never sends developer-token or login-customer-id headers', () => {
    const req = buildDataManagerRequest(googleConnection({ developer_token: 'dev', login_customer_id: '9876543210' }), '1', [plan()], 't');
    expect(Object.keys(req.headers).sort()).toEqual(['authorization', 'content-type']);
  });

  it('leaves loginAccount out for direct access', () => {
    const body = buildDataManagerRequest(googleConnection(), '1', [plan()], 't').body as IngestEventsBody;
    expect(body.destinations[0]).not.toHaveProperty('loginAccount');
  });

  it('sends device info with the IP when known, and no eventSource for CRM events', () => {
    const body = buildDataManagerRequest(googleConnection(), '1', [plan({ client_ip: '203.0.113.9' })], 't').body as IngestEventsBody;
    expect(body.events[0]?.adIdentifiers.landingPageDeviceInfo).toEqual({ ipAddress: '203.0.113.9' });
    expect(body.events[0]).not.toHaveProperty('eventSource');
  });

  it('asks for validateOnly on a dry run', () => {
    expect(buildDataManagerRequest(googleConnection({ dry_run: true }), '1', [plan()], 't').body).toMatchObject({ validateOnly: true });
  });

  it('formats RFC 3339 in UTC, whole seconds', () => {
    expect(formatRfc3339('2026-08-16T14:35:00-05:00')).toBe('2026-08-16T19:35:00Z');
    expect(formatRfc3339('2026-08-16T14:35:00.123Z')).toBe('2026-08-16T14:35:00Z');
  });
});

function dmError(status: string, code: number, details: unknown[]) {
  return response(code, { error: { code, message: 'There was a problem with the request.', status, details } });
}

describe('classifyDataManagerResponse', () => {
  it('reports every event sent with the requestId', () => {
    expect(classifyDataManagerResponse(response(200, { requestId: 'r-1' }), NOW)).toEqual({
      verdict: { type: 'all', result: { kind: 'sent' } },
      http_status: 200,
      request_id: 'r-1',
    });
  });

  it('extracts the bad event indexes from fieldViolations', () => {
    const res = dmError('INVALID_ARGUMENT', 400, [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'INVALID_ARGUMENT', domain: 'datamanager.googleapis.com', metadata: { requestId: 't-1' } },
      {
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        fieldViolations: [
          { field: 'events.events[7].user_data.user_identifiers[1]', description: 'The HEX encoded value is malformed.', reason: 'INVALID_HEX_ENCODING' },
          { field: 'events[2].currency', description: 'bad', reason: 'INVALID_CURRENCY_CODE' },
          { field: 'destinations[0].login_account.account_id', description: 'String is not a valid number.', reason: 'INVALID_NUMBER_FORMAT' },
        ],
      },
    ]);
    const out = classifyDataManagerResponse(res, NOW);
    expect(out.verdict).toMatchObject({ type: 'split', indices: [2, 7], verdict: { reason: 'invalid_event' } });
    expect(out.request_id).toBe('t-1');
  });

  it('bisects an INVALID_ARGUMENT that names no event', () => {
    const out = classifyDataManagerResponse(dmError('INVALID_ARGUMENT', 400, []), NOW);
    expect(out.verdict).toEqual(expect.objectContaining({ type: 'split' }));
    expect(out.verdict).not.toHaveProperty('indices');
  });

  it('retries the per-minute quota with RetryInfo', () => {
    const res = dmError('RESOURCE_EXHAUSTED', 429, [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'RATE_LIMIT_EXCEEDED', metadata: { quota_limit: 'IngestionMutateRequestsPerMinutePerProject' } },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '15s' },
    ]);
    expect(classifyDataManagerResponse(res, NOW).verdict).toMatchObject({ type: 'all', result: { kind: 'retry', reason: 'rate_limited', retryAfterMs: 15_000 } });
  });

  it('waits at least an hour after the daily quota', () => {
    const res = dmError('RESOURCE_EXHAUSTED', 429, [{ reason: 'RATE_LIMIT_EXCEEDED', metadata: { quota_limit: 'IngestionMutateRequestsPerDayPerProject' } }]);
    expect(classifyDataManagerResponse(res, NOW).verdict).toMatchObject({ result: { kind: 'retry', reason: 'quota_daily', minDelayMs: 3_600_000 } });
  });

  const statusCases = [
    { status: 'UNAVAILABLE', code: 503, kind: 'retry' },
    { status: 'DEADLINE_EXCEEDED', code: 504, kind: 'retry' },
    { status: 'INTERNAL', code: 500, kind: 'retry' },
    { status: 'PERMISSION_DENIED', code: 403, kind: 'pause' },
    { status: 'UNAUTHENTICATED', code: 401, kind: 'pause' },
    { status: 'NOT_FOUND', code: 404, kind: 'fail' },
    { status: 'FAILED_PRECONDITION', code: 400, kind: 'fail' },
  ];
  for (const c of statusCases) {
    it(`classifies ${c.status} as ${c.kind}`, () => {
      expect(classifyDataManagerResponse(dmError(c.status, c.code, []), NOW).verdict).toMatchObject({ type: 'all', result: { kind: c.kind } });
    });
  }

  it('reports validated events on a dry run', () => {
    expect(classifyDataManagerResponse(response(200, {}), NOW, true).verdict).toEqual({ type: 'all', result: { kind: 'validated' } });
  });
});
