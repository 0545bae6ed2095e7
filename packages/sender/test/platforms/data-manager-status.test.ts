import { fakesForTests, T0 } from '@pruuv/fakes/vitest';
import { describe, expect, it } from 'vitest';
import {
  buildRequestStatusRequest,
  DATA_MANAGER_FIRST_STATUS_CHECK_MS,
  nextStatusCheck,
  readRequestStatus,
} from '../../src/platforms/google/data-manager-status.js';
import { sendHttp } from '../../src/http.js';
import { response } from '../helpers.js';

// The fakes' default Google account and OAuth client (FAKE_DEFAULTS.google), which googleToken uses.
const suite = await fakesForTests({ dataManagerQuota: { perMinute: 1000 } });
const { fakes } = suite;

const MIN = 60_000;

/** Ingests events with these gclids through the strict fake; returns the request id. */
async function ingest(gclids: string[]): Promise<string> {
  const r = await sendHttp(fetch, {
    method: 'POST',
    url: `${fakes.urls.dataManager}/v1/events:ingest`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${suite.token}` },
    body: {
      destinations: [{ operatingAccount: { accountType: 'GOOGLE_ADS', accountId: '1234567890' }, productDestinationId: '987654321' }],
      events: gclids.map((gclid, i) => ({
        transactionId: `conv-${i}`,
        eventTimestamp: '2026-11-20T10:00:00Z',
        adIdentifiers: { gclid },
      })),
      encoding: 'HEX',
    },
  });
  expect(r.status).toBe(200);
  return (r.json as { requestId: string }).requestId;
}

const check = async (requestId: string, bearer = suite.token) =>
  readRequestStatus(await sendHttp(fetch, buildRequestStatusRequest(requestId, bearer, { baseUrl: fakes.urls.dataManager })));

describe('buildRequestStatusRequest', () => {
  it('is a GET with the request id in the query and the bearer token only', () => {
    const req = buildRequestStatusRequest('t-a8896317/069f?x', 'ya29.tok');
    expect(req).toEqual({
      method: 'GET',
      url: 'https://datamanager.googleapis.com/v1/requestStatus:retrieve?requestId=t-a8896317%2F069f%3Fx',
      headers: { authorization: 'Bearer ya29.tok' },
    });
  });
});

describe('readRequestStatus against the fake', () => {
  it('reads PROCESSING, then SUCCESS with the records ingested', async () => {
    const id = await ingest(['Cj0KCQiAfake1', 'Cj0KCQiAfake2']);
    expect(await check(id)).toEqual({ kind: 'processing' });
    expect(await check(id)).toEqual({ kind: 'final', status: 'SUCCESS', records: 2, errors: [], warnings: [] });
  });

  it('reads PARTIAL_SUCCESS with the count per processing error', async () => {
    const id = await ingest(['Cj0KCQiAfake1', 'not a gclid!', 'also bad!']);
    await check(id);
    expect(await check(id)).toEqual({
      kind: 'final',
      status: 'PARTIAL_SUCCESS',
      records: 3,
      errors: [{ reason: 'PROCESSING_ERROR_REASON_INVALID_GCLID', count: 2 }],
      warnings: [],
    });
  });

  it('reads FAILED when every record failed', async () => {
    const id = await ingest(['bad!']);
    await check(id);
    expect(await check(id)).toMatchObject({ kind: 'final', status: 'FAILED', errors: [{ reason: 'PROCESSING_ERROR_REASON_INVALID_GCLID', count: 1 }] });
  });

  it('reads an unknown request id as unavailable, for good', async () => {
    expect(await check('t-unknown')).toEqual({ kind: 'unavailable', error: 'HTTP 400 INVALID_ARGUMENT INVALID_REQUEST_ID' });
  });

  it('reads a refused token as auth', async () => {
    const id = await ingest(['Cj0KCQiAfake1']);
    expect(await check(id, 'ya29.not-issued')).toMatchObject({ kind: 'auth' });
  });
});

describe('readRequestStatus', () => {
  it('sums several destinations and takes the status they share, else partial', () => {
    const body = {
      requestStatusPerDestination: [
        { requestStatus: 'SUCCESS', eventsIngestionStatus: { recordCount: '2' }, warningInfo: { warningCounts: [{ reason: 'W', recordCount: '1' }] } },
        {
          requestStatus: 'FAILED',
          errorInfo: { errorCounts: [{ reason: 'PROCESSING_ERROR_REASON_CLICK_NOT_FOUND', recordCount: '3' }] },
          eventsIngestionStatus: { recordCount: 3 },
        },
      ],
    };
    expect(readRequestStatus(response(200, body))).toEqual({
      kind: 'final',
      status: 'PARTIAL_SUCCESS',
      records: 5,
      errors: [{ reason: 'PROCESSING_ERROR_REASON_CLICK_NOT_FOUND', count: 3 }],
      warnings: [{ reason: 'W', count: 1 }],
    });
    const processing = { requestStatusPerDestination: [{ requestStatus: 'SUCCESS' }, { requestStatus: 'PROCESSING' }] };
    expect(readRequestStatus(response(200, processing))).toEqual({ kind: 'processing' });
  });

  it('retries quota, server errors and unreadable answers; gives up on other client errors', () => {
    expect(readRequestStatus(response(429, { error: { code: 429, status: 'RESOURCE_EXHAUSTED' } }))).toEqual({
      kind: 'retry',
      error: 'HTTP 429 RESOURCE_EXHAUSTED',
    });
    expect(readRequestStatus(response(503, 'upstream down'))).toEqual({ kind: 'retry', error: 'HTTP 503' });
    expect(readRequestStatus(response(200, { requestStatusPerDestination: [{ requestStatus: 'MAYBE' }] }))).toMatchObject({ kind: 'retry' });
    expect(readRequestStatus(response(200, '<html>'))).toMatchObject({ kind: 'retry' });
    expect(readRequestStatus(response(403, { error: { code: 403, status: 'PERMISSION_DENIED' } }))).toEqual({
      kind: 'unavailable',
      error: 'HTTP 403 PERMISSION_DENIED',
    });
  });
});

describe('nextStatusCheck', () => {
  const sent = new Date(T0);
  const at = (ms: number) => new Date(T0 + ms);

  it('first checks 30 minutes after the 200', () => {
    expect(DATA_MANAGER_FIRST_STATUS_CHECK_MS).toBe(30 * MIN);
    expect(nextStatusCheck(sent, 0, sent)).toEqual(at(30 * MIN));
  });

  it('then waits 30 minutes, 1 hour, 2, 4, and at most 6 hours after each check', () => {
    const waits = [1, 2, 3, 4, 5, 6].map((checks) => nextStatusCheck(sent, checks, at(DAY))!.getTime() - (T0 + DAY));
    expect(waits).toEqual([30 * MIN, 60 * MIN, 120 * MIN, 240 * MIN, 360 * MIN, 360 * MIN]);
  });

  it('never checks before the first 30 minutes are over, even with a clock behind the send', () => {
    expect(nextStatusCheck(sent, 1, at(-10 * MIN))).toEqual(at(30 * MIN));
  });

  it('gives up when the next check would come more than 7 days after the 200', () => {
    expect(nextStatusCheck(sent, 9, at(7 * DAY - 6 * 60 * MIN))).toEqual(at(7 * DAY));
    expect(nextStatusCheck(sent, 9, at(7 * DAY - 6 * 60 * MIN + 1))).toBeUndefined();
  });
});

const DAY = 24 * 60 * MIN;
