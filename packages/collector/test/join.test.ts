import { join } from 'node:path';
import { hashIdentity } from '@pruuv/pixel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inheritAttribution, type Attribution } from '../src/domain/join.js';
import { postWebhook, seedClient, startCollector, tempDir, type Fixture, type Running } from './helpers/harness.js';
import { beacon, postBeacon } from './helpers/payloads.js';

const TS = '2026-03-01T10:00:00.000Z';
const empty: Attribution = { clicks: {}, utm: {} };
const source = {
  id: 'ev-1',
  clicks: { gclid: { value: 'G1', ts: TS }, ttclid: { value: 'T1', ts: TS } },
  utm: { utm_source: 'google', utm_campaign: 'brand' },
  fbc: 'fb.1.1.F1',
  fbp: 'fb.1.1.P1',
  ttp: 'ttp-1',
} satisfies Attribution & { id: string };

describe('inheritAttribution', () => {
  const cases: { name: string; target: Attribution; src: typeof source | undefined; expected: Attribution; fields?: string[] }[] = [
    {
      name: 'copies everything into an event without attribution',
      target: empty,
      src: source,
      expected: { clicks: source.clicks, utm: source.utm, fbc: 'fb.1.1.F1', fbp: 'fb.1.1.P1', ttp: 'ttp-1' },
      fields: ['gclid', 'ttclid', 'fbc', 'fbp', 'ttp', 'utm_source', 'utm_campaign'],
    },
    {
      name: 'keeps an event with its own click ID untouched',
      target: { clicks: { msclkid: { value: 'M' } }, utm: {} },
      src: source,
      expected: { clicks: { msclkid: { value: 'M' } }, utm: {} },
    },
    {
      name: 'keeps an event with its own fbc untouched',
      target: { clicks: {}, utm: {}, fbc: 'fb.1.2.OWN' },
      src: source,
      expected: { clicks: {}, utm: {}, fbc: 'fb.1.2.OWN' },
    },
    {
      name: 'keeps its own UTMs and fbp, inheriting the rest',
      target: { clicks: {}, utm: { utm_source: 'crm' }, fbp: 'fb.1.2.OWNP' },
      src: source,
      expected: { clicks: source.clicks, utm: { utm_source: 'crm' }, fbc: 'fb.1.1.F1', fbp: 'fb.1.2.OWNP', ttp: 'ttp-1' },
      fields: ['gclid', 'ttclid', 'fbc', 'ttp'],
    },
    {
      name: 'changes nothing without a source',
      target: empty,
      src: undefined,
      expected: empty,
    },
    {
      name: 'records nothing when the source has nothing to give',
      target: { clicks: {}, utm: { utm_source: 'x' } },
      src: { ...source, clicks: {}, fbc: undefined, fbp: undefined, ttp: undefined } as unknown as typeof source,
      expected: { clicks: {}, utm: { utm_source: 'x' } },
    },
  ];
  for (const { name, target, src, expected, fields } of cases) {
    it(name, () => {
      const result = inheritAttribution(target, src);
      expect(result.attribution).toEqual(expected);
      expect(result.inherited).toEqual(fields ? { from_event_id: 'ev-1', fields } : undefined);
    });
  }

  it('copies click entries rather than sharing them', () => {
    const result = inheritAttribution(empty, source);
    expect(result.attribution.clicks.gclid).not.toBe(source.clicks.gclid);
  });
});

describe('the attribution join over HTTP', () => {
  let tmp: ReturnType<typeof tempDir>;
  let run: Running;
  let f: Fixture;

  beforeEach(async () => {
    tmp = tempDir();
    run = await startCollector({ dbFile: join(tmp.dir, 'pruuv.db') });
    f = await seedClient(run.store);
  });
  afterEach(async () => {
    await run.close();
    tmp.cleanup();
  });

  const pixelLead = async (overrides: Parameters<typeof beacon>[1]) => {
    const body = beacon(f.client.site_key, overrides);
    expect((await postBeacon(run, body)).status).toBe(200);
    return body.event_id;
  };
  const webhookSale = async (body: object) => {
    const res = await postWebhook(run, f.sale.stage.id, f.sale.token, body);
    expect(res.status).toBe(200);
    return (await run.store.events.get(((await res.json()) as { event_id: string }).event_id))!;
  };

  describe('a sale by webhook with the reference of a pixel lead', () => {
    it('inherits the click IDs, cookies and UTMs and records where from', async () => {
      const leadId = await pixelLead({
        reference: 'CRM-77',
        clicks: { gclid: { value: 'EAIaIQobCh...', ts: TS } },
        fbc: 'fb.1.1772359200000.IwAR1',
        fbp: 'fb.1.1772359200000.42',
        utm: { utm_source: 'google', utm_medium: 'cpc' },
      });
      run.clock.advance(86_400_000);
      const sale = await webhookSale({ reference: 'CRM-77', revenue_value: 900, currency: 'GBP' });
      expect(sale).toMatchObject({
        clicks: { gclid: { value: 'EAIaIQobCh...', ts: TS } },
        fbc: 'fb.1.1772359200000.IwAR1',
        fbp: 'fb.1.1772359200000.42',
        utm: { utm_source: 'google', utm_medium: 'cpc' },
        inherited: { from_event_id: leadId, fields: ['gclid', 'fbc', 'fbp', 'utm_source', 'utm_medium'] },
      });
      // The lead itself is unchanged and inherited nothing.
      expect((await run.store.events.get(leadId))?.inherited).toBeUndefined();
    });

    it('inherits from the most recent attributed event', async () => {
      await pixelLead({ reference: 'CRM-1', clicks: { gclid: { value: 'OLD', ts: TS } } });
      run.clock.advance(120_000);
      const latest = await pixelLead({ reference: 'CRM-1', clicks: { gclid: { value: 'NEW', ts: TS } } });
      run.clock.advance(120_000);
      const sale = await webhookSale({ reference: 'CRM-1' });
      expect(sale.clicks.gclid?.value).toBe('NEW');
      expect(sale.inherited?.from_event_id).toBe(latest);
    });
  });

  describe('a sale by webhook with only the email of a pixel lead', () => {
    it('inherits through the email hash', async () => {
      const { email_sha256 } = await hashIdentity('jo@example.com', undefined);
      const leadId = await pixelLead({ reference: 'visitor-9', email_sha256, clicks: { ttclid: { value: 'TT1', ts: TS } } });
      const sale = await webhookSale({ reference: 'ORDER-5', email: ' Jo@Example.com' });
      expect(sale.clicks).toEqual({ ttclid: { value: 'TT1', ts: TS } });
      expect(sale.inherited).toEqual({ from_event_id: leadId, fields: ['ttclid'] });
    });

    it('prefers the reference match', async () => {
      const { email_sha256 } = await hashIdentity('jo@example.com', undefined);
      await pixelLead({ reference: 'other', email_sha256, clicks: { gclid: { value: 'BY-EMAIL', ts: TS } } });
      run.clock.advance(1000);
      const byRef = await pixelLead({ reference: 'ORDER-6', clicks: { gclid: { value: 'BY-REF', ts: TS } } });
      run.clock.advance(1000);
      const sale = await webhookSale({ reference: 'ORDER-6', email_sha256 });
      expect(sale.clicks.gclid?.value).toBe('BY-REF');
      expect(sale.inherited?.from_event_id).toBe(byRef);
    });
  });

  describe('a sale with click IDs of its own', () => {
    it('inherits nothing', async () => {
      await pixelLead({ reference: 'CRM-2', clicks: { gclid: { value: 'G', ts: TS } }, fbp: 'fb.1.1.2' });
      const sale = await webhookSale({ reference: 'CRM-2', ttclid: 'TT' });
      expect(sale.clicks).toEqual({ ttclid: { value: 'TT' } });
      expect(sale.fbp).toBeUndefined();
      expect(sale.inherited).toBeUndefined();
    });
  });

  describe('a sale of another client with the same reference', () => {
    it('inherits nothing', async () => {
      await pixelLead({ reference: 'CRM-3', clicks: { gclid: { value: 'G', ts: TS } } });
      const other = await run.store.clients.create({ name: 'Other' });
      const { stage, token } = await run.store.stages.create({ client_id: other.id, key: 'sale', name: 'Sale' });
      const res = await postWebhook(run, stage.id, token, { reference: 'CRM-3' });
      const sale = (await run.store.events.get(((await res.json()) as { event_id: string }).event_id))!;
      expect(sale.clicks).toEqual({});
      expect(sale.inherited).toBeUndefined();
    });
  });
});
