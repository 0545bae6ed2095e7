/**
 * The dashboard's Events pages over real HTTP on a real SQLite file: the list's filters and its
 * keyset pages, an event's detail (attribution, the join's source, hashes, consent, sends per
 * platform), hostile content in every field rendered as text, and a client user kept to its
 * own client.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PLATFORM_IDS } from '@pruuv/sender';
import type { NewEvent, Stage, StoredEvent } from '../../src/store/types.js';
import { startCollector, tempDir, testClock, type Running } from '../helpers/harness.js';
import { addUser, browser, type Browser } from './helpers.js';

let dir: ReturnType<typeof tempDir>;
let run: Running;
let a: { id: string; lead: Stage; sale: Stage };
let b: { id: string; lead: Stage };
beforeEach(async () => {
  dir = tempDir();
  run = await startCollector({ dbFile: `${dir.dir}/pruuv.db`, clock: testClock('2026-11-20T10:00:00.000Z') });
  const clientA = await run.store.clients.create({ name: 'Acme' });
  const clientB = await run.store.clients.create({ name: 'Bolt' });
  a = {
    id: clientA.id,
    lead: (await run.store.stages.create({ client_id: clientA.id, key: 'lead', name: 'Lead' })).stage,
    sale: (await run.store.stages.create({ client_id: clientA.id, key: 'sale', name: 'Sale' })).stage,
  };
  b = { id: clientB.id, lead: (await run.store.stages.create({ client_id: clientB.id, key: 'lead', name: 'Lead' })).stage };
  await addUser(run.store, 'ada@agency.example', 'admin');
  await addUser(run.store, 'carl@acme.example', 'client', a.id);
});
afterEach(async () => {
  await run.close();
  dir.cleanup();
});

let seq = 0;
/** Admits an event at the clock's time, then moves the clock on by `stepMs`. */
function admit(stage: Stage, overrides: Partial<NewEvent> = {}, stepMs = 60_000): StoredEvent {
  seq += 1;
  const result = run.store.events.admitNow(
    {
      id: randomUUID(),
      client_id: stage.client_id,
      stage_id: stage.id,
      stage_key: stage.key,
      source: 'webhook',
      reference: `crm-${seq}`,
      consent: 'granted',
      clicks: {},
      utm: {},
      demographics: {},
      ...overrides,
    },
    run.clock.now(),
  );
  run.clock.advance(stepMs);
  if (result.status !== 'stored') throw new Error(result.status);
  return result.event;
}

async function signedIn(email: string): Promise<Browser> {
  const b = browser(run.url);
  expect((await b.signIn(email)).status).toBe(303);
  return b;
}

/** The event ids of a list page, in row order (each row links its event twice). */
function eventIds(html: string): string[] {
  const ids: string[] = [];
  for (const m of html.matchAll(/<a href="\/dashboard\/events\/([0-9a-f-]{36})"/g)) if (ids.at(-1) !== m[1]) ids.push(m[1]!);
  return ids;
}

/** The href of the pager's link with this rel, unescaped. */
function pagerLink(html: string, rel: 'next' | 'prev'): string | undefined {
  const m = new RegExp(`<a href="([^"]+)" rel="${rel}"`).exec(html);
  return m?.[1]?.replace(/&amp;/g, '&');
}

async function page(b: Browser, path: string): Promise<{ status: number; html: string }> {
  const res = await b.get(path);
  return { status: res.status, html: await res.text() };
}

describe('GET /dashboard/events', () => {
  it('lists every client’s events newest first, page by page by keyset, with no duplicate and no gap either way', async () => {
    const stored: StoredEvent[] = [];
    for (let i = 0; i < 130; i++) stored.push(admit(i % 3 === 0 ? b.lead : a.lead, {}, i % 10 === 0 ? 0 : 1000));
    const expected = [...stored].reverse().map((e) => e.id);
    const admin = await signedIn('ada@agency.example');
    const seen: string[] = [];
    let path: string | undefined = '/dashboard/events?limit=40';
    let last = '';
    while (path !== undefined) {
      const { status, html } = await page(admin, path);
      expect(status).toBe(200);
      seen.push(...eventIds(html));
      last = path;
      path = pagerLink(html, 'next');
      if (path !== undefined) expect(path).toMatch(/^\/dashboard\/events\?limit=40&after=\d+\.\d+$/);
    }
    expect(seen).toEqual(expected);
    // And back from the last page to the first.
    const back: string[] = [];
    let prev: string | undefined = last;
    while (prev !== undefined) {
      const { html } = await page(admin, prev);
      back.unshift(...eventIds(html));
      prev = pagerLink(html, 'prev');
    }
    expect(back).toEqual(expected);
  });

  it('filters by client, stage, source, received days, exact reference and click ID', async () => {
    const leadClick = admit(a.lead, { source: 'pixel', clicks: { gclid: { value: 'G-1', ts: '2026-11-20T09:00:00.000Z' } } });
    const saleNoClick = admit(a.sale, { reference: 'order-7' }, 86_400_000);
    const nextDay = admit(a.lead, { fbc: 'fb.1.1763632800000.IwAR-x' });
    const other = admit(b.lead, { reference: 'order-7' });
    const admin = await signedIn('ada@agency.example');
    const ids = async (query: string) => {
      const { status, html } = await page(admin, `/dashboard/events${query}`);
      expect(status, query).toBe(200);
      return eventIds(html);
    };
    expect(await ids('')).toEqual([other.id, nextDay.id, saleNoClick.id, leadClick.id]);
    expect(await ids(`?client=${a.id}`)).toEqual([nextDay.id, saleNoClick.id, leadClick.id]);
    expect(await ids(`?client=${a.id}&stage=${a.sale.id}`)).toEqual([saleNoClick.id]);
    expect(await ids(`?stage=${a.lead.id}`)).toEqual([nextDay.id, leadClick.id]);
    expect(await ids('?source=pixel')).toEqual([leadClick.id]);
    expect(await ids('?source=webhook&client=' + a.id)).toEqual([nextDay.id, saleNoClick.id]);
    expect(await ids('?from=2026-11-21&to=2026-11-21')).toEqual([other.id, nextDay.id]);
    expect(await ids('?to=2026-11-20')).toEqual([saleNoClick.id, leadClick.id]);
    expect(await ids('?reference=order-7')).toEqual([other.id, saleNoClick.id]);
    expect(await ids(`?reference=order-7&client=${b.id}`)).toEqual([other.id]);
    expect(await ids('?reference=order')).toEqual([]);
    // fbc counts as Meta's click ID.
    expect(await ids('?click=yes')).toEqual([nextDay.id, leadClick.id]);
    expect(await ids('?click=no&client=' + a.id)).toEqual([saleNoClick.id]);
    // The form keeps the filters it was sent with.
    const { html } = await page(admin, `/dashboard/events?client=${a.id}&source=pixel&from=2026-11-20&click=yes&reference=x`);
    expect(html).toContain(`<option value="${a.id}" selected>Acme</option>`);
    expect(html).toContain('<option value="pixel" selected>pixel</option>');
    expect(html).toContain('<input type="date" name="from" value="2026-11-20"/>');
    expect(html).toContain('<option value="yes" selected>With a click ID</option>');
  });

  it('answers 400 for a malformed filter or page link, and 404 for an unknown client or stage', async () => {
    const admin = await signedIn('ada@agency.example');
    for (const query of ['?source=email', '?from=2026-02-30', '?from=20261120', '?from=2026-11-21&to=2026-11-20', '?click=maybe', '?limit=0', '?limit=5000', '?after=abc', '?after=1.2&before=1.2']) {
      const { status, html } = await page(admin, `/dashboard/events${query}`);
      expect(status, query).toBe(400);
      expect(html).toContain('<h1>Something went wrong</h1>');
    }
    expect((await page(admin, '/dashboard/events?client=cli_nope')).status).toBe(404);
    expect((await page(admin, '/dashboard/events?stage=stg_nope')).status).toBe(404);
  });

  it('stops a page with a rare filter after a bounded read and says how far back it looked', async () => {
    admit(a.lead, { source: 'pixel' });
    for (let i = 0; i < 60; i++) admit(a.lead);
    const admin = await signedIn('ada@agency.example');
    // 60 newer webhook events before the one pixel event; a page of 2 reads at most 2,000 rows, so it finds it.
    const { html } = await page(admin, `/dashboard/events?client=${a.id}&source=pixel&limit=2`);
    expect(eventIds(html)).toHaveLength(1);
    expect(pagerLink(html, 'next')).toBeUndefined();
  });
});

describe('GET /dashboard/events/:id', () => {
  it('shows the attribution with click times, what the join inherited and from which event, the hashes, consent and the sends per platform', async () => {
    const lead = admit(a.lead, {
      reference: 'jo-1',
      source: 'pixel',
      clicks: { gclid: { value: 'Cj0-gclid', ts: '2026-11-20T09:30:00.000Z' }, fbclid: { value: 'IwAR-fb', ts: '2026-11-20T09:31:00.000Z' } },
      fbc: 'fb.1.1763631060000.IwAR-fb',
      fbp: 'fb.1.1763631000000.123456',
      utm: { utm_source: 'facebook', utm_campaign: 'black-friday' },
      email_sha256: 'a'.repeat(64),
      phone_sha256: 'b'.repeat(64),
      client_ip: '203.0.113.7',
      user_agent: 'Mozilla/5.0 test',
      page_url: 'https://www.acme.example/offer?gclid=Cj0-gclid',
      first_touch: { params: { gclid: 'Cj0-gclid' }, url: 'https://www.acme.example/offer?gclid=Cj0-gclid', ts: '2026-11-20T09:30:00.000Z' } as never,
      consent: 'granted',
    });
    const sale = admit(a.sale, { reference: 'jo-1', revenue_value: 990, currency: 'EUR', consent: 'unspecified' });
    expect(sale.inherited?.from_event_id).toBe(lead.id);
    const admin = await signedIn('ada@agency.example');

    const { status, html } = await page(admin, `/dashboard/events/${sale.id}`);
    expect(status).toBe(200);
    expect(html).toContain(`<code>${sale.id}</code>`);
    expect(html).toContain('990 EUR');
    expect(html).toContain('Sale (sale)');
    // Inherited click IDs with their click times, and a link to the event they came from.
    expect(html).toMatch(/the attribution join copied fbclid, gclid, fbc, fbp, utm_source, utm_campaign from the client’s earlier event <a href="\/dashboard\/events\/[0-9a-f-]{36}">/);
    expect(html).toContain(`<a href="/dashboard/events/${lead.id}">${lead.id}</a>`);
    expect(html).toContain('<code>Cj0-gclid</code>');
    expect(html).toContain('<time datetime="2026-11-20T09:30:00.000Z">2026-11-20 09:30:00 UTC</time>');
    expect(html).toContain('<code>black-friday</code>');
    expect(html).toContain('>unspecified</span>');
    // Its sends: one row per platform, each linking to its attempts.
    for (const platform of PLATFORM_IDS) {
      expect(html).toContain(`<a href="/dashboard/sends?event=${sale.id}&amp;platform=${platform}">`);
    }
    expect(html.match(/<span class="badge pending">pending<\/span>/g)).toHaveLength(PLATFORM_IDS.length);

    // The source event: its own click IDs, the hashes (never anything raw), IP and agent, the landing.
    const leadPage = (await page(admin, `/dashboard/events/${lead.id}`)).html;
    expect(leadPage).toContain(`<code>${'a'.repeat(64)}</code>`);
    expect(leadPage).toContain(`<code>${'b'.repeat(64)}</code>`);
    expect(leadPage).toContain('<code>203.0.113.7</code>');
    expect(leadPage).toContain('First landing');
    expect(leadPage).toContain('gclid=Cj0-gclid');
    expect(leadPage).not.toContain('the attribution join copied');
  });

  it('answers 404 for an unknown event', async () => {
    const admin = await signedIn('ada@agency.example');
    expect((await page(admin, `/dashboard/events/${randomUUID()}`)).status).toBe(404);
    expect((await page(admin, `/dashboard/events/${'x'.repeat(300)}`)).status).toBe(404);
  });
});

describe('hostile content', () => {
  const XSS = '<script>alert(1)</script>';
  it('renders every stored field of an event as text, in the list and on its page', async () => {
    const hostileStage = (await run.store.stages.create({ client_id: a.id, key: 'evil', name: `<img src=x onerror=alert(1)>` })).stage;
    const event = admit(hostileStage, {
      reference: `</td>${XSS}`,
      item_reference: `"><svg onload=alert(1)>`,
      currency: XSS,
      revenue_value: 1,
      data_timestamp: XSS,
      client_time: XSS,
      source: 'pixel',
      clicks: { gclid: { value: XSS, ts: XSS }, ttclid: { value: `javascript:alert(1)` } },
      utm: { utm_source: XSS, utm_medium: `'><script>alert(2)</script>` },
      fbc: XSS,
      fbp: XSS,
      ttp: XSS,
      email_sha256: XSS,
      email_sha256_google: XSS,
      phone_sha256: XSS,
      phone_sha256_meta: XSS,
      client_ip: XSS,
      user_agent: XSS,
      page_url: `javascript:alert(document.cookie)//${XSS}`,
      referrer: XSS,
      visitor_id: XSS,
      first_touch: { params: { gclid: XSS }, url: XSS, ts: XSS } as never,
      last_touch: { params: { [XSS]: XSS }, url: XSS, ts: XSS } as never,
      demographics: { [XSS]: XSS },
    });
    const admin = await signedIn('ada@agency.example');
    for (const path of ['/dashboard/events', `/dashboard/events?client=${a.id}`, `/dashboard/events/${event.id}`]) {
      const { status, html } = await page(admin, path);
      expect(status, path).toBe(200);
      // Escaped, a `<` can never open a tag: no hostile element exists in the page.
      expect(html, path).not.toMatch(/<script>alert|<svg|<img|<\/td><script/);
      expect(html, path).not.toMatch(/href="javascript:/);
      expect(html, path).toContain('&lt;script>alert(1)&lt;/script>');
    }
    const detail = (await page(admin, `/dashboard/events/${event.id}`)).html;
    expect(detail).toContain('&lt;img src=x onerror=alert(1)>');
    expect(detail).toContain('javascript:alert(document.cookie)');
  });
});

describe('a client user', () => {
  it('sees its own client’s events only, and gets 404 for another client’s by id, by client or by stage', async () => {
    const own = admit(a.lead);
    const theirs = admit(b.lead, { reference: 'shared-ref' });
    admit(a.sale, { reference: 'shared-ref' });
    const carl = await signedIn('carl@acme.example');
    const list = await page(carl, '/dashboard/events');
    expect(list.status).toBe(200);
    expect(eventIds(list.html)).not.toContain(theirs.id);
    expect(eventIds(list.html)).toContain(own.id);
    expect(list.html).not.toContain('name="client"');
    expect(list.html).not.toContain('Bolt');
    // The reference is shared with client B: only A's event comes back.
    expect(eventIds((await page(carl, '/dashboard/events?reference=shared-ref')).html)).toHaveLength(1);
    expect(eventIds((await page(carl, '/dashboard/events?reference=shared-ref')).html)).not.toContain(theirs.id);
    for (const path of [`/dashboard/events/${theirs.id}`, `/dashboard/events?client=${b.id}`, `/dashboard/events?stage=${b.lead.id}`, `/dashboard/events?client=${b.id}&stage=${b.lead.id}`]) {
      const { status, html } = await page(carl, path);
      expect(status, path).toBe(404);
      expect(html).not.toContain(theirs.id);
      expect(html).not.toContain('Bolt');
    }
    // Its own client by id is fine.
    expect((await page(carl, `/dashboard/events?client=${a.id}`)).status).toBe(200);
    expect((await page(carl, `/dashboard/events/${own.id}`)).status).toBe(200);
  });
});
