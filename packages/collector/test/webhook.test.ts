import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { hashIdentity } from '@pruuv/pixel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PLATFORM_IDS } from '@pruuv/sender';
import type { StoredEvent } from '../src/store/types.js';
import {
  eventCount,
  postWebhook,
  seedEvents,
  seedClient,
  startCollector,
  tempDir,
  type Fixture,
  type Running,
} from './helpers/harness.js';
import { CURL_EXAMPLE_BODY } from './helpers/payloads.js';

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

const lead = (body: unknown, init?: Parameters<typeof postWebhook>[4]) => postWebhook(run, f.lead.stage.id, f.lead.token, body, init);

async function onlyEvent(): Promise<StoredEvent> {
  const events = await run.store.events.list({ stage_id: f.lead.stage.id });
  expect(events).toHaveLength(1);
  return events[0]!;
}

describe('POST /api/webhooks/funnel/:stageId', () => {
  describe('with a valid token and payload', () => {
    beforeEach(() => start());

    it('answers 200 with the event id and stores the event with its outbox rows', async () => {
      const res = await lead({ reference: 'CRM-1', gclid: 'Cj0KCQ', click_timestamp: '2026-03-01T08:00:00+01:00' });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { received: boolean; event_id: string };
      expect(body).toEqual({ received: true, event_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      const event = await onlyEvent();
      expect(event).toMatchObject({
        id: body.event_id,
        source: 'webhook',
        reference: 'CRM-1',
        stage_key: 'lead',
        client_id: f.client.id,
        consent: 'unspecified',
        clicks: { gclid: { value: 'Cj0KCQ', ts: '2026-03-01T07:00:00.000Z' } },
        received_at: '2026-03-02T10:00:00.000Z',
        data_timestamp: '2026-03-02T10:00:00.000Z',
      });
      expect((await run.store.outbox.forEvent(body.event_id)).map((r) => [r.platform, r.status, r.due_at])).toEqual(
        PLATFORM_IDS.map((p) => [p, 'pending', '2026-03-02T10:00:00.000Z']),
      );
    });

    it('answers JSON with its length and no ETag', async () => {
      const res = await lead({ reference: 'CRM-1' });
      const text = await res.text();
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
      expect(res.headers.get('etag')).toBeNull();
      expect(JSON.parse(text)).toMatchObject({ received: true });
    });

    it('sends helmet security headers', async () => {
      const res = await lead({ reference: 'CRM-1' });
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-powered-by')).toBeNull();
    });
  });

  describe("with the spec's curl example body, pasted as written", () => {
    beforeEach(() => start());

    it('answers 200 and stores every field, the gclid with its dots', async () => {
      const res = await lead(undefined, { raw: CURL_EXAMPLE_BODY });
      expect(res.status).toBe(200);
      expect(await onlyEvent()).toMatchObject({
        reference: 'CRM-REF-001',
        utm: { utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'brand-search' },
        clicks: { gclid: { value: 'EAIaIQobCh...' } },
        revenue_value: 250,
        currency: 'GBP',
      });
    });
  });

  describe('with every optional field', () => {
    beforeEach(() => start());

    it('stores them all, hashes email and phone and keeps pre-hashed values', async () => {
      const res = await lead({
        reference: ' CRM-2 ',
        item_reference: 'DEAL-9',
        utm_source: 'meta',
        utm_medium: 'paid',
        utm_campaign: 'spring',
        utm_content: 'ad-7',
        utm_term: 'shoes',
        fbclid: 'IwAR1abc',
        wbraid: 'wb-1',
        ttclid: 'E.C.P.tt',
        msclkid: 'ms-1',
        fbc: 'fb.1.1554763741205.IwAR1abc',
        fbp: 'fb.1.1596403881668.1116446470.AQQCAQIB',
        ttp: 'ttp-1',
        click_timestamp: '2026-03-01T10:00:00Z',
        revenue_value: 0.5,
        currency: 'eur',
        data_timestamp: '2026-03-02T09:00:00.123Z',
        gender: 'f',
        age_range: '25-34',
        location_country: 'GB',
        location_region: 'London',
        job_title: 'CTO',
        company_size: '11-50',
        industry: 'Retail',
        email: ' Jane.Doe@Gmail.com ',
        phone: '020 7946 0958',
        phone_country_code: '+44',
        consent: 'granted',
      });
      expect(res.status).toBe(200);
      const expected = await hashIdentity('jane.doe@gmail.com', '+442079460958');
      expect(await onlyEvent()).toMatchObject({
        reference: 'CRM-2',
        item_reference: 'DEAL-9',
        currency: 'EUR',
        revenue_value: 0.5,
        data_timestamp: '2026-03-02T09:00:00.123Z',
        consent: 'granted',
        fbc: 'fb.1.1554763741205.IwAR1abc',
        fbp: 'fb.1.1596403881668.1116446470.AQQCAQIB',
        ttp: 'ttp-1',
        clicks: {
          fbclid: { value: 'IwAR1abc', ts: '2026-03-01T10:00:00.000Z' },
          wbraid: { value: 'wb-1', ts: '2026-03-01T10:00:00.000Z' },
          ttclid: { value: 'E.C.P.tt', ts: '2026-03-01T10:00:00.000Z' },
          msclkid: { value: 'ms-1', ts: '2026-03-01T10:00:00.000Z' },
        },
        utm: { utm_source: 'meta', utm_medium: 'paid', utm_campaign: 'spring', utm_content: 'ad-7', utm_term: 'shoes' },
        demographics: {
          gender: 'f',
          age_range: '25-34',
          location_country: 'GB',
          location_region: 'London',
          job_title: 'CTO',
          company_size: '11-50',
          industry: 'Retail',
        },
        ...expected,
      });
      expect(expected.email_sha256_google).toBeDefined();
    });

    it('treats null and empty strings as absent', async () => {
      const res = await lead({ reference: 'CRM-3', gclid: '', fbc: null, currency: '  ', email: null });
      expect(res.status).toBe(200);
      const event = await onlyEvent();
      expect(event.clicks).toEqual({});
      expect(event.fbc).toBeUndefined();
      expect(event.currency).toBeUndefined();
    });

    it('lower-cases pre-hashed values', async () => {
      const hash = 'A665A45920422F9D417E4867EFDC4FB8A04A1F3FFF1FA07E998E86F7F7A27AE3';
      expect((await lead({ reference: 'CRM-4', email_sha256: hash })).status).toBe(200);
      expect((await onlyEvent()).email_sha256).toBe(hash.toLowerCase());
    });
  });

  describe('with an invalid payload', () => {
    beforeEach(() => start());

    const cases: { name: string; body: string; field: string }[] = [
      { name: 'no reference', body: '{"gclid":"x"}', field: 'reference' },
      { name: 'a blank reference', body: '{"reference":"   "}', field: 'reference' },
      { name: 'a reference over 256 characters', body: JSON.stringify({ reference: 'r'.repeat(257) }), field: 'reference' },
      { name: 'a numeric reference', body: '{"reference":42}', field: 'reference' },
      { name: 'a negative revenue', body: '{"reference":"a","revenue_value":-1}', field: 'revenue_value' },
      { name: 'revenue as a string', body: '{"reference":"a","revenue_value":"250"}', field: 'revenue_value' },
      { name: 'an infinite revenue', body: '{"reference":"a","revenue_value":1e400}', field: 'revenue_value' },
      { name: 'an unknown currency', body: '{"reference":"a","currency":"ZZZ"}', field: 'currency' },
      { name: 'a date without time', body: '{"reference":"a","click_timestamp":"2026-03-01"}', field: 'click_timestamp' },
      { name: 'a date-time without offset', body: '{"reference":"a","data_timestamp":"2026-03-01T10:00:00"}', field: 'data_timestamp' },
      { name: 'an impossible date', body: '{"reference":"a","data_timestamp":"2026-02-30T10:00:00Z"}', field: 'data_timestamp' },
      { name: 'a click ID with a space', body: '{"reference":"a","gclid":"ab cd"}', field: 'gclid' },
      { name: 'an fbc with 3 segments', body: '{"reference":"a","fbc":"fb.1.123"}', field: 'fbc' },
      { name: 'an fbc with a non-numeric time', body: '{"reference":"a","fbc":"fb.1.xxx.abcd"}', field: 'fbc' },
      { name: 'an fbp with a bad appendix', body: '{"reference":"a","fbp":"fb.1.123.456.ABC"}', field: 'fbp' },
      { name: 'an fbc whose appendix is not base64url', body: '{"reference":"a","fbc":"fb.1.123.abc.AQQC+QIB"}', field: 'fbc' },
      { name: 'an fbc with 6 segments', body: '{"reference":"a","fbc":"fb.1.1.a.AQQCAQIB.x"}', field: 'fbc' },
      { name: 'a bad country code', body: '{"reference":"a","phone":"07700","phone_country_code":"0044"}', field: 'phone_country_code' },
      { name: 'a short hash', body: '{"reference":"a","email_sha256":"abc"}', field: 'email_sha256' },
      { name: 'email and its hash', body: `{"reference":"a","email":"a@b.co","email_sha256":"${'a'.repeat(64)}"}`, field: 'email_sha256' },
      { name: 'both wbraid and gbraid', body: '{"reference":"a","wbraid":"w","gbraid":"g"}', field: 'gbraid' },
      { name: 'an unknown consent', body: '{"reference":"a","consent":"yes"}', field: 'consent' },
      { name: 'a misspelt field', body: '{"reference":"a","gclld":"x"}', field: 'gclld' },
      { name: 'a __proto__ key', body: '{"reference":"a","__proto__":{"polluted":true}}', field: '__proto__' },
      { name: 'a constructor key', body: '{"reference":"a","constructor":{"prototype":{"polluted":true}}}', field: 'constructor' },
      { name: 'a lone high surrogate in the reference', body: '{"reference":"a\\ud800b"}', field: 'reference' },
      { name: 'a lone low surrogate in a UTM', body: '{"reference":"a","utm_source":"\\udc00"}', field: 'utm_source' },
      { name: 'an array body', body: '[{"reference":"a"}]', field: 'body' },
      { name: 'a string body', body: '"reference"', field: 'body' },
      { name: 'a null body', body: 'null', field: 'body' },
      { name: 'malformed JSON', body: '{"reference": "a",', field: 'body' },
      { name: 'an empty body', body: '', field: 'body' },
    ];
    for (const { name, body, field } of cases) {
      it(`answers 400 naming ${field} for ${name}`, async () => {
        const res = await lead(undefined, { raw: body });
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        const json = (await res.json()) as { error: string; details: Record<string, string[]> };
        expect(json.error).toBe('Validation failed');
        expect(Object.keys(json.details)).toContain(field);
        expect(json.details[field]!.every((m) => typeof m === 'string' && m.length > 0)).toBe(true);
        expect(eventCount(run.db)).toBe(0);
      });
    }

    it('pollutes no prototype', async () => {
      await lead(undefined, { raw: '{"reference":"a","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}' });
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('answers 400 for a body that is not UTF-8', async () => {
      const res = await lead(undefined, { raw: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { details: object }).details).toHaveProperty('body');
    });

    it('never echoes the submitted values', async () => {
      const res = await lead({ reference: 'a', email: 'secret-address' });
      expect(await res.text()).not.toContain('secret-address');
    });
  });

  describe('with the wrong content type', () => {
    beforeEach(() => start());

    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data']) {
      it(`answers 415 for ${contentType}`, async () => {
        const res = await lead({ reference: 'a' }, { contentType });
        expect(res.status).toBe(415);
        expect(await res.json()).toEqual({ error: 'Unsupported Media Type' });
      });
    }

    it('accepts application/json with charset=utf-8', async () => {
      expect((await lead({ reference: 'a' }, { contentType: 'application/json; charset=UTF-8' })).status).toBe(200);
    });
  });

  describe('with a body over 64 KB', () => {
    beforeEach(() => start());

    it('answers 413 JSON and stores nothing', async () => {
      const res = await lead({ reference: 'a', utm_source: 'x'.repeat(70_000) });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: 'Payload too large' });
      expect(eventCount(run.db)).toBe(0);
    });
  });

  describe('with an unknown stage id', () => {
    beforeEach(() => start());

    it('answers 404 Stage not found', async () => {
      const res = await postWebhook(run, 'stg_0000000000000000000000', f.lead.token, { reference: 'a' });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'Stage not found' });
    });
  });

  describe('with a missing or wrong token', () => {
    beforeEach(() => start());

    const cases: { name: string; headers: () => Record<string, string> }[] = [
      { name: 'no Authorization header', headers: () => ({}) },
      { name: 'a wrong token', headers: () => ({ authorization: 'Bearer pwh_wrong' }) },
      { name: "another stage's token", headers: () => ({ authorization: `Bearer ${f.sale.token}` }) },
      { name: 'the Basic scheme', headers: () => ({ authorization: `Basic ${f.lead.token}` }) },
      { name: 'an empty bearer', headers: () => ({ authorization: 'Bearer ' }) },
    ];
    for (const { name, headers } of cases) {
      it(`answers 401 for ${name}`, async () => {
        const res = await postWebhook(run, f.lead.stage.id, undefined, { reference: 'a' }, { headers: headers() });
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({ error: 'Unauthorized' });
        expect(eventCount(run.db)).toBe(0);
      });
    }

    it('checks the token before the body', async () => {
      const res = await postWebhook(run, f.lead.stage.id, 'pwh_wrong', undefined, { raw: '{bad', contentType: 'text/plain' });
      expect(res.status).toBe(401);
    });

    it('accepts a lower-case bearer scheme', async () => {
      const res = await postWebhook(run, f.lead.stage.id, undefined, { reference: 'a' }, { headers: { authorization: `bearer ${f.lead.token}` } });
      expect(res.status).toBe(200);
    });
  });

  describe('after 20 wrong tokens from one address for a stage in 10 minutes', () => {
    beforeEach(() => start({ app: { trustProxy: 'loopback' } }));

    const from = (ip: string, token: string, stageId = f.lead.stage.id) =>
      postWebhook(run, stageId, token, { reference: `r-${Math.random()}` }, { headers: { 'x-forwarded-for': ip } });

    it('answers wrong tokens 429 with Retry-After until the window passes, and still lets the right token in from that address', async () => {
      for (let i = 0; i < 20; i++) {
        expect((await from('203.0.113.7', 'pwh_guess')).status).toBe(401);
        run.clock.advance(1000);
      }
      const blocked = await from('203.0.113.7', 'pwh_guess');
      expect(blocked.status).toBe(429);
      expect(await blocked.json()).toEqual({ error: 'Rate limit exceeded' });
      // The first failure was 20 s ago; it leaves the 10-minute window in 580 s.
      expect(blocked.headers.get('retry-after')).toBe('580');
      // A CRM behind the same egress address is not locked out by a stranger's guesses.
      expect((await from('203.0.113.7', f.lead.token)).status).toBe(200);
      expect((await from('198.51.100.1', 'pwh_guess')).status).toBe(401);
      // Another stage from that address counts its own failures.
      expect((await from('203.0.113.7', 'pwh_guess', f.sale.stage.id)).status).toBe(401);
      run.clock.advance(580_000);
      expect((await from('203.0.113.7', 'pwh_guess')).status).toBe(401);
    });

    it('throttles an address after 100 wrong tokens over all stages, right tokens still pass', async () => {
      const stages = [];
      for (let n = 0; n < 5; n++) stages.push((await run.store.stages.create({ client_id: f.client.id, key: `s${n}`, name: `S${n}` })).stage.id);
      for (const stageId of stages) {
        for (let i = 0; i < 20; i++) expect((await from('203.0.113.9', 'pwh_guess', stageId)).status).toBe(401);
      }
      // 100 failures from this address: a stage it never tried is throttled too.
      expect((await from('203.0.113.9', 'pwh_guess', f.sale.stage.id)).status).toBe(429);
      expect((await from('203.0.113.9', f.sale.token, f.sale.stage.id)).status).toBe(200);
      expect((await from('203.0.113.10', 'pwh_guess', f.sale.stage.id)).status).toBe(401);
    });

    it('counts guessed stage ids like wrong tokens: 100 unknown ids throttle the address, its right tokens still pass', async () => {
      for (let i = 0; i < 100; i++) expect((await from('203.0.113.11', 'pwh_guess', `stg_guess${i}`)).status).toBe(404);
      expect((await from('203.0.113.11', 'pwh_guess', 'stg_guess100')).status).toBe(429);
      expect((await from('203.0.113.11', 'pwh_guess', f.lead.stage.id)).status).toBe(429);
      expect((await from('203.0.113.11', f.lead.token)).status).toBe(200);
      expect((await from('203.0.113.12', 'pwh_guess', 'stg_guess100')).status).toBe(404);
    });
  });

  describe('with the same reference at the same stage', () => {
    beforeEach(() => start());

    it('answers duplicate 59 s later and stores nothing', async () => {
      const first = (await (await lead({ reference: 'CRM-1' })).json()) as { event_id: string };
      run.clock.advance(59_000);
      const res = await lead({ reference: 'CRM-1', revenue_value: 10 });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ received: true, duplicate: true });
      expect((await onlyEvent()).id).toBe(first.event_id);
    });

    it('stores a new event 61 s later', async () => {
      await lead({ reference: 'CRM-1' });
      run.clock.advance(61_000);
      const res = await lead({ reference: 'CRM-1' });
      expect(((await res.json()) as { event_id?: string }).event_id).toBeDefined();
      expect(eventCount(run.db)).toBe(2);
    });

    it('treats the NFC and NFD forms of a reference as one', async () => {
      const nfc = 'Caf\u00e9-42';
      const nfd = 'Cafe\u0301-42';
      expect(nfc).not.toBe(nfd);
      await lead({ reference: nfc });
      const res = await lead({ reference: nfd });
      expect(await res.json()).toEqual({ received: true, duplicate: true });
      expect((await onlyEvent()).reference).toBe(nfc);
    });

    it('stores it again at another stage', async () => {
      await lead({ reference: 'CRM-1' });
      const res = await postWebhook(run, f.sale.stage.id, f.sale.token, { reference: 'CRM-1' });
      expect(((await res.json()) as { event_id?: string }).event_id).toBeDefined();
      expect(eventCount(run.db)).toBe(2);
    });
  });

  describe('beyond 1,000 events in an hour', () => {
    beforeEach(() => start());

    it('answers the 1,001st with 429 and Retry-After, and accepts again an hour after the first', async () => {
      seedEvents(run, f.lead.stage, 999, 1000);
      expect((await lead({ reference: 'R-999' })).status).toBe(200);
      run.clock.advance(1000);
      // 1,000 s after the first event: its slot frees in 2,600 s.
      const limited = await lead({ reference: 'R-1000' });
      expect(limited.status).toBe(429);
      expect(await limited.json()).toEqual({ error: 'Rate limit exceeded' });
      expect(limited.headers.get('retry-after')).toBe('2600');
      expect(eventCount(run.db)).toBe(1000);
      // The quota is per stage.
      expect((await postWebhook(run, f.sale.stage.id, f.sale.token, { reference: 'R-1000' })).status).toBe(200);
      run.clock.advance(2_599_000);
      expect((await lead({ reference: 'R-1000' })).status).toBe(429);
      run.clock.advance(1000);
      expect((await lead({ reference: 'R-1000' })).status).toBe(200);
    });

    it('answers a duplicate as a duplicate, not 429', async () => {
      seedEvents(run, f.lead.stage, 1000, 0, 'R');
      expect(await (await lead({ reference: 'R-999' })).json()).toEqual({ received: true, duplicate: true });
      expect((await lead({ reference: 'R-new' })).status).toBe(429);
    });
  });

  describe('after a restart', () => {
    beforeEach(() => start());

    it('keeps the hourly count', async () => {
      const clock = run.clock;
      seedEvents(run, f.lead.stage, 1000);
      await run.close();
      clock.advance(120_000);
      run = await startCollector({ dbFile: run.dbFile, clock });
      const res = await lead({ reference: 'after-restart' });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe(String(3600 - 120));
    });
  });

  describe('with the database locked by another writer', () => {
    beforeEach(() => start({ db: { busyTimeoutMs: 50 } }));

    it('answers 503 with Retry-After and stores nothing, then accepts the retry', async () => {
      const other = new Database(run.dbFile);
      try {
        other.exec('BEGIN IMMEDIATE');
        const res = await lead({ reference: 'CRM-busy' });
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({ error: 'Service unavailable' });
        expect(res.headers.get('retry-after')).toBe('1');
        other.exec('ROLLBACK');
      } finally {
        other.close();
      }
      expect(eventCount(run.db)).toBe(0);
      expect((await lead({ reference: 'CRM-busy' })).status).toBe(200);
      expect(eventCount(run.db)).toBe(1);
    });
  });

  describe('with the disk full', () => {
    beforeEach(() => start());

    it('answers 503 with Retry-After and stores every accepted event whole', async () => {
      // SQLite answers SQLITE_FULL once the file would outgrow max_page_count.
      const pages = run.db.pragma('page_count', { simple: true }) as number;
      run.db.pragma(`max_page_count = ${pages}`);
      let accepted = 0;
      let full: Response | undefined;
      for (let i = 0; i < 200 && !full; i++) {
        const res = await lead({ reference: `CRM-full-${i}`, utm_content: 'x'.repeat(500), utm_term: 'y'.repeat(500) });
        if (res.status === 200) accepted++;
        else full = res;
      }
      expect(full?.status).toBe(503);
      expect(await full?.json()).toEqual({ error: 'Service unavailable' });
      expect(full?.headers.get('retry-after')).toBe('60');
      expect(eventCount(run.db)).toBe(accepted);
      expect((run.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n).toBe(PLATFORM_IDS.length * accepted);
    });
  });

  describe('when the store fails unexpectedly', () => {
    beforeEach(() =>
      start({
        wrapStore: (store) => ({
          ...store,
          events: {
            ...store.events,
            admit: () => Promise.reject(new Error('boom in /srv/secret/path.ts')),
          },
        }),
      }),
    );

    it('answers 500 Internal error without internals', async () => {
      const res = await lead({ reference: 'a' });
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: 'Internal error' });
      expect(text).not.toContain('boom');
    });
  });

  describe('with email and phone', () => {
    beforeEach(() => start());

    it('never stores the raw values', async () => {
      const email = 'Unique.Person+ads@Example-Mail.com';
      const phone = '+44 7700 900987';
      expect((await lead({ reference: 'CRM-pii', email, phone })).status).toBe(200);
      expect((await onlyEvent()).email_sha256).toMatch(/^[0-9a-f]{64}$/);
      run.db.pragma('wal_checkpoint(TRUNCATE)');
      for (const file of readdirSync(tmp.dir)) {
        const bytes = readFileSync(join(tmp.dir, file)).toString('latin1').toLowerCase();
        expect(bytes).not.toContain('unique.person');
        expect(bytes).not.toContain('example-mail');
        expect(bytes).not.toContain('7700900987');
        expect(bytes).not.toContain('7700 900987');
      }
    });
  });
});
