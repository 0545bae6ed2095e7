import { describe, expect, it } from 'vitest';
import { checkMeta, type MetaPlan } from '../../src/platforms/meta/eligibility.js';
import { buildMetaRequest, type MetaEventsBody } from '../../src/platforms/meta/request.js';
import { classifyMetaResponse } from '../../src/platforms/meta/response.js';
import type { ConversionEvent } from '../../src/types.js';
import { NOW, VECTORS, makeEvent, metaConnection, response, sha256 } from '../helpers.js';

function plan(overrides: Partial<ConversionEvent> = {}): MetaPlan {
  const r = checkMeta(makeEvent(overrides), metaConnection(), undefined, NOW);
  if (!r.send) throw new Error(r.message);
  return r.plan;
}

describe('buildMetaRequest', () => {
  it('uses the published Meta hash vectors as they are', () => {
    expect(sha256(VECTORS.metaEmail.input)).toBe(VECTORS.metaEmail.hash);
    expect(sha256(VECTORS.metaPhone.input)).toBe(VECTORS.metaPhone.hash);
  });

  it('posts to /{version}/{pixel}/events with the token in the body', () => {
    const req = buildMetaRequest(metaConnection({ test_event_code: 'TEST123' }), [plan()], { baseUrl: 'http://127.0.0.1:1/meta/', version: 'v26.0' });
    expect(req.method).toBe('POST');
    expect(req.url).toBe('http://127.0.0.1:1/meta/v26.0/1234567890123456/events');
    expect(req.url).not.toContain('token');
    expect(req.body).toMatchObject({ access_token: 'fake-meta-token', test_event_code: 'TEST123' });
  });

  it('defaults to graph.facebook.com v26.0', () => {
    expect(buildMetaRequest(metaConnection(), [plan()]).url).toBe('https://graph.facebook.com/v26.0/1234567890123456/events');
  });

  it('builds a website event from a pixel event', () => {
    const p = plan({
      source: 'pixel',
      page_url: 'https://shop.example.com/thanks?x=1',
      user_agent: 'Mozilla/5.0 Test',
      client_ip: '203.0.113.9',
      email_sha256: VECTORS.metaEmail.hash,
      phone_sha256: VECTORS.googlePhone.hash,
      phone_sha256_meta: VECTORS.metaPhone.hash,
      fbp: 'fb.1.1596403881668.1116446470',
      reference: VECTORS.externalId.input,
      stage_key: 'sale',
      revenue_value: 129.5,
      currency: 'EUR',
      item_reference: 'order-77',
    });
    const body = buildMetaRequest(metaConnection(), [p]).body as MetaEventsBody;
    expect(body.data).toEqual([
      {
        event_name: 'Purchase',
        event_time: Date.parse('2026-11-20T14:00:00.000Z') / 1000,
        event_id: p.event.id,
        action_source: 'website',
        event_source_url: 'https://shop.example.com/thanks?x=1',
        user_data: {
          em: VECTORS.metaEmail.hash,
          ph: VECTORS.metaPhone.hash,
          external_id: VECTORS.externalId.hash,
          fbc: p.fbc,
          fbp: 'fb.1.1596403881668.1116446470',
          client_ip_address: '203.0.113.9',
          client_user_agent: 'Mozilla/5.0 Test',
        },
        custom_data: { value: 129.5, currency: 'EUR', order_id: 'order-77' },
      },
    ]);
  });

  it('sends event_time in whole seconds', () => {
    const body = buildMetaRequest(metaConnection(), [plan({ event_time: '2026-11-20T14:00:00.999Z' })]).body as MetaEventsBody;
    expect(body.data[0]?.event_time).toBe(1795183200);
  });

  it('sends webhook events as system_generated with event_source crm', () => {
    const body = buildMetaRequest(metaConnection(), [plan({ source: 'webhook' })]).body as MetaEventsBody;
    expect(body.data[0]).toMatchObject({ action_source: 'system_generated', custom_data: { event_source: 'crm' } });
    expect(body.data[0]).not.toHaveProperty('event_source_url');
  });

  it('falls back to system_generated for a pixel event without a user agent', () => {
    const body = buildMetaRequest(metaConnection(), [plan({ source: 'pixel', page_url: 'https://x.example/' })]).body as MetaEventsBody;
    expect(body.data[0]?.action_source).toBe('system_generated');
  });

  it('leaves value out without a currency', () => {
    const body = buildMetaRequest(metaConnection(), [plan({ revenue_value: 5 })]).body as MetaEventsBody;
    expect(body.data[0]?.custom_data).toEqual({ event_source: 'crm' });
  });
});

describe('classifyMetaResponse', () => {
  it('reports every event sent when events_received matches', () => {
    const c = classifyMetaResponse(response(200, { events_received: 3, messages: [], fbtrace_id: 'AbC' }), 3, NOW);
    expect(c).toEqual({ verdict: { type: 'all', result: { kind: 'sent' } }, http_status: 200, request_id: 'AbC' });
  });

  it('retries every event when events_received is short', () => {
    const c = classifyMetaResponse(response(200, { events_received: 2, fbtrace_id: 'AbC' }), 3, NOW);
    expect(c.verdict).toMatchObject({ type: 'all', result: { kind: 'retry', reason: 'events_received_short' } });
  });

  it('retries an unreadable 200', () => {
    expect(classifyMetaResponse(response(200, '<html>'), 1, NOW).verdict).toMatchObject({ type: 'all', result: { kind: 'retry', reason: 'bad_response' } });
  });

  const errorCases: Array<{ code: number; subcode?: number; status: number; kind: string; transient?: boolean }> = [
    { code: 100, subcode: 2804003, status: 400, kind: 'split' },
    { code: 100, subcode: 33, status: 400, kind: 'pause' },
    { code: 190, status: 500, kind: 'pause' },
    { code: 17, status: 500, kind: 'retry' },
    { code: 1, status: 500, kind: 'retry' },
    { code: 80004, status: 400, kind: 'retry' },
    { code: 230, status: 400, kind: 'pause' },
    { code: 9999, status: 400, kind: 'fail' },
    { code: 9999, status: 400, kind: 'retry', transient: true },
    { code: 9999, status: 503, kind: 'retry' },
  ];
  for (const c of errorCases) {
    it(`classifies code ${c.code}${c.subcode ? `/${c.subcode}` : ''} (HTTP ${c.status}${c.transient ? ', transient' : ''}) as ${c.kind}`, () => {
      const body = { error: { message: 'm', code: c.code, error_subcode: c.subcode, is_transient: c.transient ?? false, fbtrace_id: 'T1' } };
      const out = classifyMetaResponse(response(c.status, body), 10, NOW);
      const kind = out.verdict.type === 'split' ? 'split' : out.verdict.type === 'all' ? out.verdict.result.kind : 'each';
      expect(kind).toBe(c.kind);
      expect(out.request_id).toBe('T1');
    });
  }

  it('records code/subcode and the user message', () => {
    const body = { error: { message: 'Invalid parameter', code: 100, error_subcode: 2804003, error_user_title: 'Event Timestamp Too Old', error_user_msg: 'too far in the past', fbtrace_id: 'T' } };
    const out = classifyMetaResponse(response(400, body), 2, NOW);
    expect(out.verdict).toMatchObject({ type: 'split', verdict: { error_code: '100/2804003', error_message: 'Event Timestamp Too Old: too far in the past' } });
  });

  it('honours Retry-After on a throttled answer', () => {
    const out = classifyMetaResponse(response(429, { error: { code: 17, message: 'x' } }, { 'retry-after': '120' }), 1, NOW);
    expect(out.verdict).toMatchObject({ type: 'all', result: { kind: 'retry', retryAfterMs: 120_000, minDelayMs: 900_000 } });
  });

  it('judges a non-JSON error by its status', () => {
    expect(classifyMetaResponse(response(502, '<html>bad gateway</html>'), 1, NOW).verdict).toMatchObject({ result: { kind: 'retry', error_code: 'HTTP 502' } });
  });
});
