import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Classified, EventResult } from '../src/outcomes.js';
import { classifyGoogleAdsResponse } from '../src/platforms/google/ads.js';
import { classifyDataManagerResponse } from '../src/platforms/google/data-manager.js';
import { classifyMetaResponse } from '../src/platforms/meta/response.js';
import { classifyMicrosoftResponse } from '../src/platforms/microsoft/response.js';
import { classifyTikTokResponse } from '../src/platforms/tiktok/response.js';
import { DEFAULT_RETRY_POLICY, RETRY_TABLE, nextAttempt, type RetryRule } from '../src/retry-policy.js';
import { sendBatch } from '../src/send-batch.js';
import { classifyCapiResponse } from '../src/platforms/microsoft/capi-response.js';
import { NOW, googleConnection, makeEvent, microsoftConnection, response, tiktokConnection } from './helpers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CANONICAL = new Set(['INTERNAL', 'UNKNOWN', 'UNAVAILABLE', 'DEADLINE_EXCEEDED', 'ABORTED', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED']);

function first(c: Classified): EventResult {
  const v = c.verdict;
  if (v.type === 'all') return v.result;
  if (v.type === 'split') return v.verdict;
  return v.results[0] as EventResult;
}

/** Produces, through the real classifiers, the answer each row describes. */
async function trigger(rule: RetryRule): Promise<{ kind: string; reason?: string }> {
  const [platform, code = ''] = rule.key.split(':') as [string, string | undefined];
  const pick = (r: EventResult) => ({ kind: r.kind, ...('reason' in r ? { reason: r.reason } : {}) });
  if (rule.key === 'network' || rule.key === 'timeout' || rule.key === 'google:invalid_grant') {
    const fetchDouble = async (_url: string, init: RequestInit): Promise<Response> => {
      if (rule.key === 'network') throw new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
      if (rule.key === 'google:invalid_grant') {
        return new Response(JSON.stringify({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }), { status: 400 });
      }
      return new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    };
    const connection = rule.key === 'google:invalid_grant' ? googleConnection() : tiktokConnection();
    const out = await sendBatch({ connection, events: [makeEvent()], fetch: fetchDouble, now: () => NOW, timeoutMs: 20 });
    const o = out.outcomes[0];
    return { kind: o?.pause_connection ? 'pause' : o?.status === 'retrying' ? 'retry' : String(o?.status), ...(o?.reason ? { reason: o.reason } : {}) };
  }
  if (rule.key === 'microsoft:invalid_grant' || rule.key === 'microsoft:click_too_recent') {
    const fetchDouble = async (): Promise<Response> =>
      new Response(JSON.stringify({ error: 'invalid_grant', error_description: 'AADSTS70000: grant expired.' }), { status: 400 });
    const clickTs = new Date(NOW.getTime() - (rule.key === 'microsoft:click_too_recent' ? 10 * 60_000 : 3 * HOUR)).toISOString();
    const event = makeEvent({ event_time: clickTs, clicks: { msclkid: { value: 'a'.repeat(32), ts: clickTs } } });
    const out = await sendBatch({ connection: microsoftConnection(), events: [event], fetch: fetchDouble, now: () => NOW, timeoutMs: 20 });
    const o = out.outcomes[0];
    return { kind: o?.pause_connection ? 'pause' : o?.status === 'retrying' ? 'retry' : String(o?.status), ...(o?.reason ? { reason: o.reason } : {}) };
  }
  if (rule.key === 'microsoft:goal_not_found' || rule.key === 'microsoft:goal_paused') {
    const fetchDouble = async (url: string): Promise<Response> => {
      if (url.endsWith('/token')) return new Response(JSON.stringify({ access_token: 'a', expires_in: 3599 }), { status: 200 });
      const goals = rule.key === 'microsoft:goal_paused' ? [{ Name: 'Pruuv offline conversions', Type: 'OfflineConversion', Status: 'Paused' }] : [];
      return new Response(JSON.stringify({ ConversionGoals: goals, PartialErrors: [] }), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const clickTs = new Date(NOW.getTime() - 3 * HOUR).toISOString();
    const event = makeEvent({ event_time: clickTs, clicks: { msclkid: { value: 'a'.repeat(32), ts: clickTs } } });
    const out = await sendBatch({ connection: microsoftConnection(), events: [event], fetch: fetchDouble, now: () => NOW, timeoutMs: 200 });
    const o = out.outcomes[0];
    return { kind: o?.pause_connection ? 'pause' : String(o?.status), ...(o?.reason ? { reason: o.reason } : {}) };
  }
  if (platform === 'microsoft' && code.startsWith('capi-')) {
    const detail = { index: 0, propertyName: 'data[0].eventTime', errorCode: 'Empty', errorMessage: 'm', isWarning: false };
    const answers: Record<string, [number, unknown]> = {
      'capi-not-named': [400, { error: { code: 'ValidationError', details: [{ ...detail, index: 1, propertyName: 'data[1].eventTime' }] } }],
      'capi-401': [401, { error: { code: 'Unauthorized', message: 'You are not authorized to access this resource.' } }],
      'capi-403': [403, { error: { code: 'Forbidden', message: 'm' } }],
      'capi-validation': [200, { eventsReceived: 1, error: { code: 'ValidationError', details: [detail] } }],
      'capi-request': [400, { error: { code: 'ValidationError', details: [{ ...detail, index: undefined, propertyName: 'data' }] } }],
    };
    const [status, body] = answers[code] ?? [0, undefined];
    return pick(first(classifyCapiResponse(response(status, body), 2, NOW)));
  }
  if (platform === 'microsoft') {
    const items: Record<string, number> = { '5612': 5612, '5615': 5615, '5606': 5606, '5603-5617': 5604 };
    if (code === 'item') return pick(first(classifyMicrosoftResponse(response(200, { PartialErrors: [{ Index: 0, Code: 0, ErrorCode: 'ConversionEmailAddressIsNotHashed' }] }), 1, NOW)));
    if (items[code] !== undefined) return pick(first(classifyMicrosoftResponse(response(200, { PartialErrors: [{ Index: 0, Code: items[code], ErrorCode: 'E' }] }), 1, NOW)));
    const c = code === 'request' ? 5601 : Number(code);
    const body = { Type: 'ApiFaultDetail', OperationErrors: [{ Code: c, ErrorCode: 'E', Message: 'm' }] };
    return pick(first(classifyMicrosoftResponse(response(c === 0 ? 500 : 400, body), 1, NOW)));
  }
  if (rule.key === 'bad_response') return pick(first(classifyTikTokResponse(response(200, 'not json'), NOW)));
  if (platform === 'http') {
    const status = code === '5xx' ? 503 : code === '4xx' ? 418 : Number(code);
    return pick(first(classifyTikTokResponse(response(status, '<html></html>'), NOW)));
  }
  if (platform === 'meta') {
    if (code === 'events_received_short') return pick(first(classifyMetaResponse(response(200, { events_received: 1 }), 2, NOW)));
    const [c, sub] = code === '200-299' ? [250, undefined] : code === 'transient' ? [12345, undefined] : code.split('/').map(Number);
    const body = { error: { code: c, error_subcode: sub, message: 'm', is_transient: code === 'transient' } };
    return pick(first(classifyMetaResponse(response(400, body), 2, NOW)));
  }
  if (platform === 'tiktok') {
    const c = code === '5xxxx' ? 50001 : code === 'other' ? 40999 : Number(code);
    return pick(first(classifyTikTokResponse(response(200, { code: c, message: 'm' }), NOW)));
  }
  // google
  if (code === 'IngestionMutateRequestsPerDayPerProject') {
    const body = { error: { code: 429, status: 'RESOURCE_EXHAUSTED', details: [{ reason: 'RATE_LIMIT_EXCEEDED', metadata: { quota_limit: code } }] } };
    return pick(first(classifyDataManagerResponse(response(429, body), NOW)));
  }
  if (CANONICAL.has(code)) {
    return pick(first(classifyDataManagerResponse(response(500, { error: { code: 500, status: code, message: 'm' } }), NOW)));
  }
  if (code === 'other' || code === 'authenticationError' || code === 'authorizationError') {
    const errorCode = code === 'other' ? { conversionUploadError: 'CLICK_NOT_FOUND' } : { [code]: 'SOME_REASON' };
    const body = { partialFailureError: { code: 3, details: [{ errors: [{ errorCode, location: { fieldPathElements: [{ fieldName: 'conversions', index: 0 }] } }] }] } };
    return pick(first(classifyGoogleAdsResponse(response(200, body), 1, NOW)));
  }
  const body = { error: { code: 400, message: 'm', details: [{ errors: [{ errorCode: { someError: code } }] }] } };
  return pick(first(classifyGoogleAdsResponse(response(400, body), 2, NOW)));
}

describe('RETRY_TABLE', () => {
  for (const rule of RETRY_TABLE) {
    it(`${rule.key} → ${rule.verdict} (${rule.reason})`, async () => {
      expect(await trigger(rule)).toEqual({ kind: rule.verdict, reason: rule.reason });
    });
  }

  it('has one row per key', () => {
    expect(new Set(RETRY_TABLE.map((r) => r.key)).size).toBe(RETRY_TABLE.length);
  });

  it('is printed in the README, row for row', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const r of RETRY_TABLE) expect(readme).toContain(`| \`${r.key}\` | ${r.platform} | ${r.verdict} | \`${r.reason}\` |`);
  });

  it('gives every row a reason to print', () => {
    for (const r of RETRY_TABLE) expect(r.why.length).toBeGreaterThan(15);
  });
});

describe('nextAttempt', () => {
  const base = { now: NOW, firstAttemptAt: NOW, eventTime: new Date(NOW.getTime() - HOUR) };

  it('grows the ceiling exponentially with full jitter', () => {
    const delays = [1, 2, 3, 4].map((attempt) => nextAttempt({ ...base, platform: 'tiktok', attempt, random: () => 0.999999 }));
    expect(delays.map((d) => (d.status === 'retrying' ? Math.round(d.delayMs / 1000) : -1))).toEqual([60, 120, 240, 480]);
    const low = nextAttempt({ ...base, platform: 'tiktok', attempt: 4, random: () => 0.25 });
    expect(low).toMatchObject({ status: 'retrying', delayMs: 120_000 });
  });

  it('caps the ceiling at 6 hours', () => {
    const d = nextAttempt({ ...base, platform: 'google', attempt: 11, random: () => 0.999999 });
    expect(d.status === 'retrying' && d.delayMs).toBe(Math.floor(0.999999 * 6 * HOUR));
  });

  it('never retries before Retry-After', () => {
    expect(nextAttempt({ ...base, platform: 'meta', attempt: 1, random: () => 0, retryAfterMs: 120_000 })).toEqual({
      status: 'retrying',
      at: new Date(NOW.getTime() + 120_000),
      delayMs: 120_000,
    });
  });

  it('never retries before the rule minimum (Google TOO_RECENT_EVENT: 6 h)', () => {
    expect(nextAttempt({ ...base, platform: 'google', attempt: 1, random: () => 0.5, minDelayMs: 6 * HOUR })).toMatchObject({ delayMs: 6 * HOUR });
  });

  it('stops Meta 48 h after the first attempt', () => {
    const first = new Date(NOW.getTime() - 47 * HOUR - 30 * 60_000);
    expect(nextAttempt({ ...base, eventTime: NOW, platform: 'meta', attempt: 5, firstAttemptAt: first, random: () => 0 })).toMatchObject({
      status: 'dead',
      reason: 'dedup_window_passed',
    });
    expect(nextAttempt({ ...base, eventTime: NOW, platform: 'meta', attempt: 5, firstAttemptAt: new Date(NOW.getTime() - 40 * HOUR), random: () => 0 })).toMatchObject({
      status: 'retrying',
    });
  });

  it('stops TikTok 48 h after the first attempt', () => {
    const first = new Date(NOW.getTime() - 47.5 * HOUR);
    expect(nextAttempt({ ...base, platform: 'tiktok', attempt: 3, firstAttemptAt: first, random: () => 0 })).toMatchObject({ status: 'dead', reason: 'dedup_window_passed' });
  });

  it('stops Meta before the event is 7 days old', () => {
    const eventTime = new Date(NOW.getTime() - 7 * DAY + 30 * 60_000);
    expect(nextAttempt({ ...base, platform: 'meta', attempt: 1, eventTime, random: () => 0 })).toMatchObject({ status: 'dead', reason: 'event_too_old' });
  });

  it('keeps retrying Google until near 90 days after the click', () => {
    const clickTime = new Date(NOW.getTime() - 80 * DAY);
    const firstAttemptAt = new Date(NOW.getTime() - 30 * DAY);
    expect(nextAttempt({ ...base, platform: 'google', attempt: 3, firstAttemptAt, clickTime, random: () => 0 })).toMatchObject({ status: 'retrying' });
    const old = new Date(NOW.getTime() - 90 * DAY + 30 * 60_000);
    expect(nextAttempt({ ...base, platform: 'google', attempt: 3, clickTime: old, random: () => 0 })).toMatchObject({ status: 'dead', reason: 'click_window_passed' });
  });

  it('stops after the attempt cap', () => {
    expect(nextAttempt({ ...base, platform: 'google', attempt: DEFAULT_RETRY_POLICY.maxAttempts, random: () => 0 })).toMatchObject({ status: 'dead', reason: 'max_attempts' });
    expect(nextAttempt({ ...base, platform: 'google', attempt: 2, random: () => 0, policy: { maxAttempts: 2 } })).toMatchObject({ status: 'dead', reason: 'max_attempts' });
  });
});
