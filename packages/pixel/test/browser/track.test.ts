/**
 * `Pruuv.track()` end to end: the beacon that reaches the collector, the
 * pre-load stub, a double include, and a page that is not a secure context.
 */
import { describe, expect, it } from 'vitest';
import type { TrackPayload, TrackResult } from '../../src/types.js';
import { COLLECT, OTHER, SHOP } from './chromium.js';
import { ISO_TIME, UUID_V4, cookieJar, parseFb, settle, sha256, track, useSuite, type PruuvWindow } from './harness.js';
import type { Beacon } from './server.js';

const suite = useSuite();

const LANDING = '/?fbclid=AbC-123_xyZ&gclid=Cj0KCQ-TeSt&utm_source=google';
const LEAD = { email: ' John_Smith@gmail.com ', phone: '(650)555-1212', reference: 'CRM-1' };
/** Published vectors (platforms.md §2.5; Meta's phone example `16505551212`). */
const EMAIL_SHA256 = '62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f';
const PHONE_SHA256_META = 'e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176';
const HASH_FIELDS = ['email_sha256', 'email_sha256_google', 'phone_sha256', 'phone_sha256_meta'] as const;

/** Fragments of the raw lead that must never leave the page. */
function expectNoRawPii(beacon: Beacon): void {
  const raw = beacon.raw.toLowerCase();
  for (const fragment of ['john_smith', 'johnsmith', 'gmail.com', '6505551212', '555-1212', '(650)']) {
    expect(raw, `body contains "${fragment}"`).not.toContain(fragment);
  }
  expect(beacon.body).not.toHaveProperty('email');
  expect(beacon.body).not.toHaveProperty('phone');
}

const byEvent = (id: string) => (b: Beacon): boolean => b.body.event_id === id;

describe('track on a secure page', () => {
  it('sends the lead with hashed identity and the attribution', async () => {
    const { context, page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + LANDING);
    const result = await track(page, 'lead', LEAD);
    const [beacon] = await suite.server.waitForDelivered(1, byEvent(result.event_id));
    if (!beacon) throw new Error('no beacon');
    const body: TrackPayload = beacon.body;
    const jar = await cookieJar(context);

    expect(result.event_id).toMatch(UUID_V4);
    expect(body).toMatchObject({
      v: 1,
      site: 'site_test', // the queued init wins over data-site
      stage: 'lead',
      event_id: result.event_id,
      reference: 'CRM-1',
      visitor_id: jar._pruuv_vid?.value,
      fbc: jar._fbc?.value,
      fbp: jar._fbp?.value,
      url: page.url(),
      consent: 'unspecified',
      utm: { utm_source: 'google' },
    });
    expect(body.clicks.fbclid?.value).toBe('AbC-123_xyZ');
    expect(body.clicks.gclid?.value).toBe('Cj0KCQ-TeSt');
    expect(body.clicks.gclid?.ts).toMatch(ISO_TIME);
    expect(body.first_touch?.params.fbclid).toBe('AbC-123_xyZ');
    expect(body.client_time).toMatch(ISO_TIME);
    expect(parseFb(body.fbc ?? '').value).toBe('AbC-123_xyZ');

    expect(body.email_sha256).toBe(EMAIL_SHA256);
    expect(body.email_sha256).toBe(sha256('john_smith@gmail.com'));
    // Gmail canonical form drops dots and +tags only: john_smith@ is unchanged, so no Google-only hash.
    expect(body).not.toHaveProperty('email_sha256_google');
    expect(body.phone_sha256_meta).toBe(PHONE_SHA256_META);
    expect(body.phone_sha256).toBe(sha256('+16505551212'));
    expectNoRawPii(beacon);
  });

  it('posts text/plain with credentials to the script origin, without a preflight', async () => {
    const { page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + LANDING);
    const { event_id } = await track(page, 'view');
    const [beacon] = await suite.server.waitForDelivered(1, byEvent(event_id));

    expect(beacon?.host).toBe(`${COLLECT}:${suite.server.port}`);
    expect(beacon?.origin).toBe(suite.server.origin(SHOP));
    expect(beacon?.contentType).toBe('text/plain;charset=UTF-8');
    // credentials: 'include' sends the same-site cookies to the collector.
    expect(beacon?.cookie).toContain('_pruuv_vid=');
    expect(suite.server.preflights).toBe(0);
  });

  it('uses the visitor id as reference when none is given', async () => {
    const { context, page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/');
    const { event_id } = await track(page, 'view');
    const [beacon] = await suite.server.waitForDelivered(1, byEvent(event_id));
    const vid = (await cookieJar(context))._pruuv_vid?.value;

    expect(vid).toMatch(UUID_V4);
    expect(beacon?.body.reference).toBe(vid);
    expect(beacon?.body.visitor_id).toBe(vid);
    for (const field of HASH_FIELDS) expect(beacon?.body, field).not.toHaveProperty(field);
  });
});

describe('script tag attributes', () => {
  it('initialises from data-site and sends to data-endpoint', async () => {
    const { page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/endpoint.html?gclid=G-attr');
    const { event_id } = await track(page, 'view');
    const [beacon] = await suite.server.waitForDelivered(1, byEvent(event_id));

    expect(beacon?.host).toBe(`${COLLECT}:${suite.server.port}`);
    expect(beacon?.body).toMatchObject({ site: 'site_attr', clicks: { gclid: { value: 'G-attr' } } });
  });
});

describe('without fetch', () => {
  it('sends the event with navigator.sendBeacon', async () => {
    const { page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/no-fetch.html?fbclid=F-beacon');
    const { event_id } = await track(page, 'lead', LEAD);
    const [beacon] = await suite.server.waitForDelivered(1, byEvent(event_id));

    expect(beacon?.contentType).toBe('text/plain;charset=UTF-8');
    expect(beacon?.body).toMatchObject({ stage: 'lead', email_sha256: EMAIL_SHA256, clicks: { fbclid: { value: 'F-beacon' } } });
    expectNoRawPii(beacon as Beacon);
  });
});

describe('pre-load stub', () => {
  it('replays queued calls in order and resolves their promises', async () => {
    const { page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/stub.html?gclid=G-stub');
    const beacons = await suite.server.waitForDelivered(4);
    const state = await page.evaluate(async () => {
      const w = window as unknown as PruuvWindow;
      return {
        queuedBeforeLoad: w.queuedBeforeLoad,
        results: await Promise.all(w.results as Promise<TrackResult>[]),
        attribution: await (w.attributionResult as Promise<unknown>),
        sentStages: w.sentStages,
      };
    });

    expect(state.queuedBeforeLoad).toBe(6); // init, 4 × track, getAttribution
    expect(state.sentStages).toEqual(['a', 'b', 'c', 'lead']);
    const stages = ['a', 'b', 'c', 'lead'];
    state.results.forEach((r, i) => {
      expect(r.event_id).toMatch(UUID_V4);
      expect(beacons.find(byEvent(r.event_id))?.body.stage).toBe(stages[i]);
    });
    expect(beacons.map((b) => b.body.site)).toEqual(['site_queued', 'site_queued', 'site_queued', 'site_queued']);
    // The queued init ran first: its defaultCountryCode reached the lead's phone hash.
    expect(beacons.find((b) => b.body.stage === 'lead')?.body.phone_sha256_meta).toBe(PHONE_SHA256_META);
    expect(state.attribution).toMatchObject({ clicks: { gclid: { value: 'G-stub' } } });
  });
});

describe('function-style queue stub', () => {
  // Issue 13 item 5: the stub analytics snippets use, window.Pruuv = window.Pruuv ||
  // function () { (Pruuv.q = Pruuv.q || []).push(arguments) }, works as well as ours.
  it('replays the queued calls in order and runs later calls at once', async () => {
    const { page } = await suite.open();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(suite.server.origin(SHOP) + '/stub-function.html?gclid=G-fn');
    const queued = await suite.server.waitForDelivered(2);
    expect(await page.evaluate(() => (window as unknown as PruuvWindow).queuedBeforeLoad)).toBe(4);
    expect(queued.map((b) => [b.body.stage, b.body.site, b.body.reference === 'R-b'])).toEqual([
      ['a', 'site_fn', false],
      ['b', 'site_fn', true],
    ]);
    expect(queued[0]?.body.clicks.gclid?.value).toBe('G-fn');
    // The misuse was loud, not silent: its rejection reached the page's error console.
    expect(errors.some((m) => m.includes('[pruuv] track() before init()'))).toBe(true);

    await page.evaluate(() => (window as unknown as { Pruuv: (...a: unknown[]) => void }).Pruuv('track', 'c'));
    const all = await suite.server.waitForDelivered(3);
    expect(all.map((b) => b.body.stage)).toEqual(['a', 'b', 'c']);
    expect((await page.evaluate(() => (window as unknown as PruuvWindow).Pruuv.getAttribution())).clicks.gclid?.value).toBe('G-fn');
  });
});

describe('script loaded twice', () => {
  it('sends one beacon per track call', async () => {
    const { page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/twice.html');
    const loads = await page.evaluate(
      () => performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname === '/s.js').length,
    );
    const view = await page.evaluate(() => (window as unknown as PruuvWindow).viewResult as Promise<TrackResult>);
    const lead1 = await track(page, 'lead');
    const lead2 = await track(page, 'lead');
    await suite.server.waitForDelivered(3);
    await settle();

    expect(loads).toBe(2);
    const ids = suite.server.attempts.map((b) => b.body.event_id).sort();
    expect(ids).toEqual([view.event_id, lead1.event_id, lead2.event_id].sort());
    expect(new Set(ids).size).toBe(3);
  });
});

describe('track on a plain-http page', () => {
  it('captures click IDs and sends the event without hashes', async () => {
    const { page } = await suite.open();
    await page.goto(suite.server.origin(OTHER) + '/?fbclid=Plain-1&gclid=G-plain');
    const env = await page.evaluate(() => ({
      secure: isSecureContext,
      randomUUID: typeof crypto.randomUUID,
      subtle: typeof crypto.subtle,
    }));
    // The scenario is only meaningful when the browser really withholds them.
    expect(env).toEqual({ secure: false, randomUUID: 'undefined', subtle: 'undefined' });

    const result = await track(page, 'lead', LEAD);
    const [beacon] = await suite.server.waitForDelivered(1, byEvent(result.event_id));

    expect(result.event_id).toMatch(UUID_V4);
    expect(beacon?.body.clicks.fbclid?.value).toBe('Plain-1');
    expect(beacon?.body.clicks.gclid?.value).toBe('G-plain');
    // other.example has two labels: subdomainIndex 1 (platforms.md §2.1).
    expect(parseFb(beacon?.body.fbc ?? '')).toMatchObject({ index: 1, value: 'Plain-1' });
    expect(beacon?.body.visitor_id).toMatch(UUID_V4);
    expect(beacon?.body.reference).toBe('CRM-1');
    for (const field of HASH_FIELDS) expect(beacon?.body, field).not.toHaveProperty(field);
    if (beacon) expectNoRawPii(beacon);
  });
});
