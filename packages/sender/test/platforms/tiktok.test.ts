import { describe, expect, it } from 'vitest';
import { checkTikTok, type TikTokPlan } from '../../src/platforms/tiktok/eligibility.js';
import { buildTikTokRequest, type TikTokTrackBody } from '../../src/platforms/tiktok/request.js';
import { classifyTikTokResponse } from '../../src/platforms/tiktok/response.js';
import type { ConversionEvent } from '../../src/types.js';
import { NOW, VECTORS, makeEvent, response, sha256, tiktokConnection } from '../helpers.js';

function plan(overrides: Partial<ConversionEvent> = {}): TikTokPlan {
  const r = checkTikTok(makeEvent(overrides), tiktokConnection(), undefined, NOW);
  if (!r.send) throw new Error(r.message);
  return r.plan;
}

describe('buildTikTokRequest', () => {
  it('uses the published TikTok phone vector as it is', () => {
    expect(sha256(VECTORS.tiktokPhone.input)).toBe(VECTORS.tiktokPhone.hash);
  });

  it('posts to /open_api/v1.3/event/track/ with the Access-Token header', () => {
    const req = buildTikTokRequest(tiktokConnection(), [plan()]);
    expect(req.url).toBe('https://business-api.tiktok.com/open_api/v1.3/event/track/');
    expect(req.headers).toEqual({ 'access-token': 'fake-tiktok-token', 'content-type': 'application/json' });
  });

  it('builds a web event under the pixel code', () => {
    const p = plan({
      source: 'pixel',
      stage_key: 'sale',
      revenue_value: 42,
      currency: 'USD',
      item_reference: 'ord-1',
      email_sha256: sha256('alice_abc@gmail.com'),
      phone_sha256: VECTORS.tiktokPhone.hash,
      phone_sha256_meta: sha256('12133734253'),
      reference: VECTORS.externalId.input,
      ttp: 'ttp-cookie',
      client_ip: '2001:db8::1',
      user_agent: 'UA',
      page_url: 'https://shop.example.com/thanks',
      referrer: 'https://www.tiktok.com/',
    });
    const body = buildTikTokRequest(tiktokConnection({ test_event_code: 'TEST1' }), [p]).body as TikTokTrackBody;
    expect(body).toEqual({
      event_source: 'web',
      event_source_id: 'CFAKEPIXEL0000000000',
      test_event_code: 'TEST1',
      data: [
        {
          event: 'Purchase',
          event_time: Date.parse('2026-11-20T14:00:00.000Z') / 1000,
          event_id: p.event.id,
          user: {
            ttclid: 'E.C.P.tt-test',
            ttp: 'ttp-cookie',
            email: sha256('alice_abc@gmail.com'),
            phone: VECTORS.tiktokPhone.hash,
            // TikTok keeps the reference's case (its GTM template's hash(value, false)).
            external_id: sha256(VECTORS.externalId.input.trim()),
            ip: '2001:db8::1',
            user_agent: 'UA',
          },
          properties: { value: 42, currency: 'USD', order_id: 'ord-1' },
          page: { url: 'https://shop.example.com/thanks', referrer: 'https://www.tiktok.com/' },
        },
      ],
    } satisfies TikTokTrackBody);
  });
});

describe('classifyTikTokResponse', () => {
  const cases: Array<{ code: number; kind: string }> = [
    { code: 0, kind: 'sent' },
    { code: 40001, kind: 'pause' },
    { code: 40002, kind: 'split' },
    { code: 40100, kind: 'retry' },
    { code: 40700, kind: 'retry' },
    { code: 50002, kind: 'retry' },
    { code: 40105, kind: 'pause' },
    { code: 40102, kind: 'pause' },
    { code: 40999, kind: 'fail' },
  ];
  for (const { code, kind } of cases) {
    it(`classifies code ${code} in an HTTP 200 as ${kind}`, () => {
      const out = classifyTikTokResponse(response(200, { code, message: 'm', request_id: 'rq', data: {} }), NOW);
      const got = out.verdict.type === 'split' ? 'split' : out.verdict.type === 'all' ? out.verdict.result.kind : 'each';
      expect(got).toBe(kind);
      expect(out.request_id).toBe('rq');
    });
  }

  it('keeps the code and message', () => {
    const out = classifyTikTokResponse(response(200, { code: 40002, message: 'data.0.event: Not a valid string' }), NOW);
    expect(out.verdict).toMatchObject({ verdict: { error_code: '40002', error_message: 'data.0.event: Not a valid string' } });
  });

  it('retries a non-JSON 502', () => {
    expect(classifyTikTokResponse(response(502, '<html>nginx</html>'), NOW).verdict).toMatchObject({ result: { kind: 'retry', error_code: 'HTTP 502' } });
  });
});
