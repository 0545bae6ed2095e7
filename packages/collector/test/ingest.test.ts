import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PLATFORM_IDS } from '@pruuv/sender';
import { eventCount, PAGE_ORIGIN, seedClient, seedEvents, startCollector, tempDir, type Fixture, type Running } from './helpers/harness.js';
import { beacon, postBeacon, rawRequest } from './helpers/payloads.js';
import { createBeaconLimits } from '../src/domain/beacon-limits.js';

let tmp: ReturnType<typeof tempDir>;
let run: Running;
let f: Fixture;

async function start(options: Partial<Parameters<typeof startCollector>[0]> = {}): Promise<void> {
  run = await startCollector({ dbFile: join(tmp.dir, 'pruuv.db'), ...options });
  f = await seedClient(run.store);
}

beforeEach(() => {
  tmp = tempDir();
});
afterEach(async () => {
  await run.close();
  tmp.cleanup();
});

describe('POST /e', () => {
  describe('with a valid beacon from an allowed origin', () => {
    beforeEach(() => start({ app: { trustProxy: 'loopback' } }));

    it('answers 200 with the event id and CORS headers for the origin', async () => {
      const body = beacon(f.client.site_key);
      const res = await postBeacon(run, body);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ received: true, event_id: body.event_id });
      expect(res.headers.get('access-control-allow-origin')).toBe(PAGE_ORIGIN);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('vary')).toMatch(/Origin/);
    });

    it('stores the beacon under its event_id with client IP and User-Agent', async () => {
      const body = beacon(f.client.site_key, {
        reference: 'lead-7',
        clicks: { gclid: { value: 'EAIaIQobCh...', ts: '2026-03-01T10:00:00.000Z' } },
        utm: { utm_source: 'google', utm_medium: 'cpc' },
        fbc: 'fb.2.1772445600000.IwAR1',
        fbp: 'fb.2.1772445600000.123456789',
        email_sha256: 'a'.repeat(64),
        consent: 'granted',
        referrer: 'https://www.google.com/',
        first_touch: { params: { gclid: 'EAIaIQobCh...' }, url: 'https://www.shop.example/?gclid=EAIaIQobCh...', ts: '2026-03-01T10:00:00.000Z' },
        revenue_value: 19.99,
        currency: 'usd',
      });
      const res = await postBeacon(run, body, { headers: { 'user-agent': 'Mozilla/5.0 Test', 'x-forwarded-for': '203.0.113.9' } });
      expect(res.status).toBe(200);
      expect(await run.store.events.get(body.event_id)).toMatchObject({
        id: body.event_id,
        source: 'pixel',
        stage_key: 'lead',
        reference: 'lead-7',
        client_ip: '203.0.113.9',
        user_agent: 'Mozilla/5.0 Test',
        visitor_id: body.visitor_id,
        page_url: body.url,
        referrer: 'https://www.google.com/',
        client_time: body.client_time,
        consent: 'granted',
        clicks: { gclid: { value: 'EAIaIQobCh...', ts: '2026-03-01T10:00:00.000Z' } },
        utm: { utm_source: 'google', utm_medium: 'cpc' },
        fbc: body.fbc,
        fbp: body.fbp,
        email_sha256: 'a'.repeat(64),
        first_touch: body.first_touch,
        revenue_value: 19.99,
        currency: 'USD',
      });
      expect(await run.store.outbox.forEvent(body.event_id)).toHaveLength(PLATFORM_IDS.length);
    });

    it('accepts application/json too', async () => {
      const res = await postBeacon(run, beacon(f.client.site_key), { headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(200);
      expect(eventCount(run.db)).toBe(1);
    });
  });

  describe('with an origin the client does not list', () => {
    beforeEach(() => start());

    const origins: { name: string; origin: string | null }[] = [
      { name: 'another site', origin: 'https://evil.example' },
      { name: 'the http twin of an https origin', origin: 'http://www.shop.example' },
      { name: 'a subdomain of the origin', origin: 'https://shop.example' },
      { name: 'localhost', origin: 'http://localhost:3000' },
      { name: 'an opaque origin', origin: 'null' },
      { name: 'no Origin header', origin: null },
    ];
    for (const { name, origin } of origins) {
      it(`answers like an accepted event and stores nothing for ${name}`, async () => {
        const body = beacon(f.client.site_key);
        const res = await postBeacon(run, body, { origin });
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ received: true, event_id: body.event_id });
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
        expect(eventCount(run.db)).toBe(0);
      });
    }

    it('answers like an accepted event for an unknown site key', async () => {
      const body = beacon('site_unknown');
      const res = await postBeacon(run, body);
      expect(await res.json()).toEqual({ received: true, event_id: body.event_id });
      expect(eventCount(run.db)).toBe(0);
    });

    it('answers an invalid beacon the same way', async () => {
      const res = await postBeacon(run, { site: f.client.site_key, nonsense: true }, { origin: 'https://evil.example' });
      expect(res.status).toBe(200);
      expect(eventCount(run.db)).toBe(0);
    });
  });

  describe('with a client that lists no origins', () => {
    beforeEach(() => start());

    it('accepts no origin, not even localhost', async () => {
      const bare = await run.store.clients.create({ name: 'Bare' });
      await run.store.stages.create({ client_id: bare.id, key: 'lead', name: 'Lead' });
      for (const origin of ['http://localhost', 'http://127.0.0.1', 'https://www.shop.example']) {
        await postBeacon(run, beacon(bare.site_key), { origin });
      }
      expect(eventCount(run.db)).toBe(0);
    });

    it('accepts localhost once it is listed', async () => {
      const dev = await run.store.clients.create({ name: 'Dev', origins: ['http://localhost:5173'] });
      await run.store.stages.create({ client_id: dev.id, key: 'lead', name: 'Lead' });
      const res = await postBeacon(run, beacon(dev.site_key), { origin: 'http://localhost:5173' });
      expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(eventCount(run.db)).toBe(1);
    });
  });

  describe('with a resent event_id', () => {
    beforeEach(() => start());

    it('answers duplicate with the event id and stores nothing more', async () => {
      const body = beacon(f.client.site_key);
      await postBeacon(run, body);
      run.clock.advance(3_600_000);
      const res = await postBeacon(run, body);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ received: true, event_id: body.event_id, duplicate: true });
      expect(eventCount(run.db)).toBe(1);
    });
  });

  describe('with the same reference within 60 s', () => {
    beforeEach(() => start());

    it('answers duplicate at 59 s and stores at 61 s', async () => {
      await postBeacon(run, beacon(f.client.site_key, { reference: 'r' }));
      run.clock.advance(59_000);
      expect(await (await postBeacon(run, beacon(f.client.site_key, { reference: 'r' }))).json()).toEqual({ received: true, duplicate: true });
      run.clock.advance(2_000);
      expect((await (await postBeacon(run, beacon(f.client.site_key, { reference: 'r' }))).json()) as object).toHaveProperty('event_id');
      expect(eventCount(run.db)).toBe(2);
    });
  });

  describe('when the stage took 1,000 webhook events in the hour', () => {
    beforeEach(() => start());

    it('still stores beacons: the hourly quota is the webhook\'s', async () => {
      seedEvents(run, f.lead.stage, 1000);
      const res = await postBeacon(run, beacon(f.client.site_key));
      expect(res.status).toBe(200);
      expect(eventCount(run.db)).toBe(1001);
    });
  });

  describe('past the per-address token bucket', () => {
    beforeEach(() => start({ app: { beaconLimits: createBeaconLimits({ burst: 2, perMinute: 1, sitePerHour: 1000 }) } }));

    it('answers 429 with Retry-After and CORS headers, so the pixel keeps the event', async () => {
      for (let i = 0; i < 2; i++) expect((await postBeacon(run, beacon(f.client.site_key, { reference: `v-${i}` }))).status).toBe(200);
      const res = await postBeacon(run, beacon(f.client.site_key, { reference: 'v-2' }));
      expect(res.status).toBe(429);
      expect(await res.json()).toEqual({ error: 'Rate limit exceeded' });
      expect(res.headers.get('retry-after')).toBe('60');
      expect(res.headers.get('access-control-allow-origin')).toBe(PAGE_ORIGIN);
      expect(eventCount(run.db)).toBe(2);
      run.clock.advance(60_000);
      expect((await postBeacon(run, beacon(f.client.site_key, { reference: 'v-2' }))).status).toBe(200);
    });
  });

  describe('with an unknown stage key', () => {
    beforeEach(() => start());

    it('answers 404 Stage not found', async () => {
      const res = await postBeacon(run, beacon(f.client.site_key, { stage: 'signup' }));
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'Stage not found' });
    });
  });

  describe('with an invalid beacon', () => {
    beforeEach(() => start());

    const cases: { name: string; patch: Record<string, unknown>; field: string }[] = [
      { name: 'a version 2 payload', patch: { v: 2 }, field: 'v' },
      { name: 'an event_id that is not a UUID', patch: { event_id: 'abc' }, field: 'event_id' },
      { name: 'a click ledger entry without time', patch: { clicks: { gclid: { value: 'x' } } }, field: 'clicks.gclid.ts' },
      { name: 'an unknown click ID', patch: { clicks: { yclid: { value: 'x', ts: '2026-03-01T10:00:00.000Z' } } }, field: 'clicks.yclid' },
      { name: 'a javascript: URL', patch: { url: 'javascript:alert(1)' }, field: 'url' },
      { name: 'a denied consent (the pixel sends nothing then)', patch: { consent: 'denied' }, field: 'consent' },
      { name: 'a lone surrogate', patch: { reference: 'a\ud800' }, field: 'reference' },
      { name: 'an unknown field', patch: { extra: 1 }, field: 'extra' },
      { name: 'a bad fbp', patch: { fbp: 'fb.1' }, field: 'fbp' },
    ];
    for (const { name, patch, field } of cases) {
      it(`answers 400 naming ${field} for ${name}`, async () => {
        const res = await postBeacon(run, { ...beacon(f.client.site_key), ...patch });
        expect(res.status).toBe(400);
        const json = (await res.json()) as { error: string; details: Record<string, string[]> };
        expect(json.error).toBe('Validation failed');
        expect(Object.keys(json.details)).toContain(field);
        expect(res.headers.get('access-control-allow-origin')).toBe(PAGE_ORIGIN);
        expect(eventCount(run.db)).toBe(0);
      });
    }

    it('answers 400 for a __proto__ key and pollutes nothing', async () => {
      const json = JSON.stringify(beacon(f.client.site_key)).replace(/^\{/, '{"__proto__":{"polluted":1},');
      const res = await postBeacon(run, undefined, { raw: json });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { details: object }).details).toHaveProperty('__proto__');
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('answers 400 JSON for malformed JSON, with CORS headers', async () => {
      const res = await postBeacon(run, undefined, { raw: '{"v":1,' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('Validation failed');
      expect(res.headers.get('access-control-allow-origin')).toBe(PAGE_ORIGIN);
    });

    it('answers 413 JSON over 64 KB', async () => {
      const res = await postBeacon(run, beacon(f.client.site_key, { referrer: 'x'.repeat(70_000) }));
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: 'Payload too large' });
    });

    it('answers 415 JSON for a form post', async () => {
      const res = await postBeacon(run, beacon(f.client.site_key), { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.status).toBe(415);
      expect(await res.json()).toEqual({ error: 'Unsupported Media Type' });
    });
  });

  describe('without helmet', () => {
    beforeEach(() => start());

    it('sends no Cross-Origin-Resource-Policy and no CSP', async () => {
      const res = await postBeacon(run, beacon(f.client.site_key));
      expect(res.headers.get('cross-origin-resource-policy')).toBeNull();
      expect(res.headers.get('cross-origin-embedder-policy')).toBeNull();
      expect(res.headers.get('content-security-policy')).toBeNull();
    });
  });

  describe('at a custom ingest path', () => {
    beforeEach(() => start({ app: { ingestPath: '/x9' } }));

    it('answers there and not at /e', async () => {
      expect((await postBeacon(run, beacon(f.client.site_key), { path: '/x9' })).status).toBe(200);
      expect((await postBeacon(run, beacon(f.client.site_key), { path: '/e' })).status).toBe(404);
    });
  });
});

describe('OPTIONS /e', () => {
  beforeEach(() => start());

  it('answers a preflight from a listed origin', async () => {
    const res = await fetch(`${run.url}/e`, {
      method: 'OPTIONS',
      headers: { origin: PAGE_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(PAGE_ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toBe('POST');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/content-type/i);
  });

  it('grants nothing to an unknown origin', async () => {
    const res = await fetch(`${run.url}/e`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('cookie re-issue on POST /e', () => {
  const cookie = '_fbc=fb.1.1772445600000.IwAR1; _fbp=fb.1.1772445600000.987654321; _pruuv_vid=3b241101-e2bb-4255-8caf-4136c566a962; _pruuv=%7B%22c%22%3A1%7D; other=1';

  describe('when the collector is same-site with the page', () => {
    beforeEach(() => start({ app: { trustProxy: 'loopback' } }));

    it('re-issues the pixel cookies on the shared domain for 90 days', async () => {
      const res = await postBeacon(run, beacon(f.client.site_key), {
        headers: { cookie, 'x-forwarded-host': 'collect.shop.example' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie()).toEqual([
        '_fbc=fb.1.1772445600000.IwAR1; Domain=shop.example; Path=/; Max-Age=7776000; SameSite=Lax; Secure',
        '_fbp=fb.1.1772445600000.987654321; Domain=shop.example; Path=/; Max-Age=7776000; SameSite=Lax; Secure',
        '_pruuv_vid=3b241101-e2bb-4255-8caf-4136c566a962; Domain=shop.example; Path=/; Max-Age=7776000; SameSite=Lax; Secure',
        '_pruuv=%7B%22c%22%3A1%7D; Domain=shop.example; Path=/; Max-Age=7776000; SameSite=Lax; Secure',
      ]);
    });

    it('uses the Host header without a proxy', async () => {
      await run.close();
      run = await startCollector({ dbFile: join(tmp.dir, 'pruuv.db') });
      const res = await rawRequest(`${run.url}/e`, {
        method: 'POST',
        headers: { host: 'collect.shop.example', origin: PAGE_ORIGIN, cookie: '_fbp=fb.1.1.2', 'content-type': 'text/plain' },
        body: JSON.stringify(beacon(f.client.site_key)),
      });
      expect(res.status).toBe(200);
      expect(res.headers['set-cookie']).toEqual(['_fbp=fb.1.1.2; Domain=shop.example; Path=/; Max-Age=7776000; SameSite=Lax; Secure']);
    });
  });

  describe('when the collector is cross-site', () => {
    beforeEach(() => start({ app: { trustProxy: 'loopback' } }));

    it('sets no cookie', async () => {
      const res = await postBeacon(run, beacon(f.client.site_key), {
        headers: { cookie, 'x-forwarded-host': 'pruuv.agency.example' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie()).toEqual([]);
    });
  });

  describe('when the origin is not allowed', () => {
    beforeEach(() => start({ app: { trustProxy: 'loopback' } }));

    it('sets no cookie', async () => {
      const res = await postBeacon(run, beacon(f.client.site_key), {
        origin: 'https://evil.shop.example',
        headers: { cookie, 'x-forwarded-host': 'collect.shop.example' },
      });
      expect(res.headers.getSetCookie()).toEqual([]);
    });
  });
});
