import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { PruuvError } from '../src/errors.js';
import { createPixel, type PixelDeps } from '../src/pixel.js';
import { OUTBOX } from '../src/transport.js';
import { MIRROR } from '../src/storage.js';
import type { InitOptions, TrackProps } from '../src/types.js';
import {
  blockCookies,
  blockLocalStorage,
  clearStorage,
  cookieJar,
  fakeFetch,
  isolatePixels,
  setReferrer,
  setUrl,
  settle,
} from './helpers.js';

const T0 = Date.UTC(2026, 2, 1, 12);
const ISO0 = '2026-03-01T12:00:00.000Z';
const HOUR = 3_600_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ENDPOINT = 'https://collect.example.com';

let clock = T0;
/** A pixel with a fake clock and fetch, initialised like a site would. */
function start(options: Partial<InitOptions> = {}, answers: (number | Error)[] = [], deps: PixelDeps = {}) {
  const { fetch, sent } = fakeFetch(answers);
  const pixel = createPixel({ now: () => clock, fetch, ...deps });
  pixel.init({ site: 'site_1', endpoint: ENDPOINT, ...options });
  return { pixel, sent };
}
/** Node's SHA-256, independent of the pixel's WebCrypto code. */
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const saved = () => JSON.parse(cookieJar()._pruuv ?? 'null') as Record<string, unknown> | null;

describe('createPixel', () => {
  isolatePixels('https://www.example.com/');
  // Each test starts at T0.
  const reset = () => (clock = T0);

  describe('capture on load', () => {
    it('captures click IDs and UTMs with their first-seen time', () => {
      reset();
      setUrl('https://www.example.com/landing?gclid=G1&utm_source=google&utm_medium=cpc');
      const { pixel } = start();
      const a = pixel.getAttribution();
      expect(a.clicks).toEqual({ gclid: { value: 'G1', ts: ISO0 } });
      const touch = {
        params: { gclid: 'G1', utm_source: 'google', utm_medium: 'cpc' },
        url: 'https://www.example.com/landing?gclid=G1&utm_source=google&utm_medium=cpc',
        ts: ISO0,
      };
      expect(a.first_touch).toEqual(touch);
      expect(a.last_touch).toEqual(touch);
    });

    it('falls back to the referrer when the URL has none', () => {
      reset();
      setUrl('https://www.example.com/welcome');
      setReferrer('https://www.example.com/landing?fbclid=IwAR_Ref');
      const { pixel } = start();
      expect(pixel.getAttribution().clicks.fbclid?.value).toBe('IwAR_Ref');
    });

    it('stores the state, a visitor id and _fbp in cookies and one localStorage record', async () => {
      reset();
      setUrl('https://www.example.com/?ttclid=T1');
      start();
      await settle();
      const jar = cookieJar();
      expect(jar._pruuv_vid).toMatch(UUID);
      expect(saved()).toMatchObject({ clicks: { ttclid: { value: 'T1', ts: ISO0 } } });
      expect(localStorage.length).toBe(1);
      expect(JSON.parse(localStorage.getItem(MIRROR) ?? '{}')).toEqual({ _pruuv_vid: jar._pruuv_vid, _fbp: jar._fbp, _pruuv: jar._pruuv });
      expect(jar._fbp).toMatch(new RegExp(`^fb\\.1\\.${T0}\\.\\d+$`));
    });

    it('keeps the first-seen time across page loads and resets it for a new value', () => {
      reset();
      setUrl('https://www.example.com/?gclid=G1');
      start();
      clock = T0 + HOUR;
      const second = start().pixel;
      expect(second.getAttribution().clicks.gclid).toEqual({ value: 'G1', ts: ISO0 });
      clock = T0 + 2 * HOUR;
      setUrl('https://www.example.com/?gclid=G2');
      const third = start().pixel.getAttribution();
      expect(third.clicks.gclid).toEqual({ value: 'G2', ts: new Date(T0 + 2 * HOUR).toISOString() });
      expect(third.first_touch?.params).toEqual({ gclid: 'G1' });
      expect(third.last_touch?.params).toEqual({ gclid: 'G2' });
    });

    it('keeps the visitor id across page loads', () => {
      reset();
      start();
      const vid = cookieJar()._pruuv_vid;
      start();
      expect(cookieJar()._pruuv_vid).toBe(vid);
    });

    it('restores the state from localStorage when the cookies are gone', async () => {
      reset();
      setUrl('https://www.example.com/?gclid=G1');
      start();
      await settle();
      const vid = cookieJar()._pruuv_vid;
      for (const name of Object.keys(cookieJar())) document.cookie = `${name}=; path=/; domain=example.com; expires=Thu, 01 Jan 1970 00:00:00 GMT`;
      expect(cookieJar()).toEqual({});
      setUrl('https://www.example.com/next');
      const { pixel } = start();
      expect(pixel.getAttribution().clicks.gclid).toEqual({ value: 'G1', ts: ISO0 });
      expect(cookieJar()._pruuv_vid).toBe(vid);
    });
  });

  describe('Meta cookies', () => {
    const cases = [
      { name: 'writes _fbc for a new fbclid', before: undefined, fbclid: 'IwAR_New', expected: `fb.1.${T0}.IwAR_New` },
      { name: 'keeps _fbc with the same fbclid', before: 'fb.1.1000.IwAR_Same', fbclid: 'IwAR_Same', expected: 'fb.1.1000.IwAR_Same' },
      { name: 'replaces _fbc with another fbclid', before: 'fb.1.1000.IwAR_Old', fbclid: 'IwAR_New', expected: `fb.1.${T0}.IwAR_New` },
      {
        name: "keeps a 5-segment _fbc from Meta's tools verbatim",
        before: 'fb.1.1000.IwAR_Same.AQQCAQIB',
        fbclid: 'IwAR_Same',
        expected: 'fb.1.1000.IwAR_Same.AQQCAQIB',
      },
      { name: 'replaces an invalid _fbc', before: 'garbage', fbclid: 'IwAR_New', expected: `fb.1.${T0}.IwAR_New` },
      { name: 'keeps the fbclid case', before: 'fb.1.1000.iwar_abc', fbclid: 'IwAR_AbC', expected: `fb.1.${T0}.IwAR_AbC` },
    ];
    for (const { name, before, fbclid, expected } of cases) {
      it(name, () => {
        reset();
        if (before) document.cookie = `_fbc=${before}; path=/; domain=example.com`;
        setUrl(`https://www.example.com/?fbclid=${fbclid}`);
        const { pixel } = start();
        expect(cookieJar()._fbc).toBe(expected);
        expect(pixel.getAttribution().fbc).toBe(expected);
      });
    }

    it('writes no _fbc without an fbclid', () => {
      reset();
      setUrl('https://www.example.com/?gclid=G1');
      start();
      expect(cookieJar()._fbc).toBeUndefined();
    });

    it('keeps a valid _fbp, including a 5-segment one', () => {
      reset();
      document.cookie = '_fbp=fb.1.1596403881668.1116446470.Bg; path=/';
      start();
      expect(cookieJar()._fbp).toBe('fb.1.1596403881668.1116446470.Bg');
    });

    // These two were nextFb's _fbp cases; the _fbp rule (keep a valid one, else draw) is the pixel's.
    it('replaces an invalid _fbp', () => {
      reset();
      document.cookie = '_fbp=fb.1.1596403881668; path=/; domain=example.com';
      start();
      expect(cookieJar()._fbp).toMatch(new RegExp(`^fb\\.1\\.${T0}\\.\\d+$`));
    });

    it('keeps a valid 4-segment _fbp', () => {
      reset();
      document.cookie = '_fbp=fb.1.1596403881668.1116446470; path=/';
      start();
      expect(cookieJar()._fbp).toBe('fb.1.1596403881668.1116446470');
    });

    it('draws the last segment of a new _fbp as a random 31-bit integer', () => {
      reset();
      const values = Array.from({ length: 20 }, () => {
        clearStorage();
        start();
        return cookieJar()._fbp?.split('.')[3];
      });
      for (const v of values) {
        expect(v).toMatch(/^\d+$/);
        expect(Number(v)).toBeLessThan(2 ** 31);
      }
      expect(new Set(values).size).toBeGreaterThan(1);
    });

    it('writes _fbp once', () => {
      reset();
      start();
      const first = cookieJar()._fbp;
      clock = T0 + HOUR;
      start();
      expect(cookieJar()._fbp).toBe(first);
    });

    const domains = [
      { url: 'https://www.shop.example.co.uk/?fbclid=F', index: 2, sibling: 'https://other.example.co.uk/' },
      { url: 'https://www.example.com/?fbclid=F', index: 1, sibling: 'https://example.com/' },
      { url: 'http://localhost:3000/?fbclid=F', index: 0, sibling: undefined },
      { url: 'http://127.0.0.1:8080/?fbclid=F', index: 0, sibling: undefined },
    ];
    for (const { url, index, sibling } of domains) {
      it(`uses subdomainIndex ${index} on ${new URL(url).hostname}${sibling ? ', readable site-wide' : ''}`, () => {
        reset();
        setUrl(url);
        start();
        expect(cookieJar()._fbc).toBe(`fb.${index}.${T0}.F`);
        expect(cookieJar()._fbp).toMatch(new RegExp(`^fb\\.${index}\\.`));
        if (sibling) {
          setUrl(sibling);
          expect(cookieJar()._fbc).toBe(`fb.${index}.${T0}.F`);
        }
      });
    }

    it('uses the cookieDomain option', () => {
      reset();
      setUrl('https://a.b.example.com/?fbclid=F');
      const probe = vi.fn(() => true);
      start({ cookieDomain: 'b.example.com' }, [], { probe });
      expect(probe).not.toHaveBeenCalled();
      expect(cookieJar()._fbc).toBe(`fb.2.${T0}.F`);
      setUrl('https://c.example.com/');
      expect(cookieJar()._fbc).toBeUndefined();
    });

    it('uses the cookieDays option', () => {
      reset();
      let owner: object = document;
      while (!Object.getOwnPropertyDescriptor(owner, 'cookie')) owner = Object.getPrototypeOf(owner) as object;
      const set = vi.spyOn(owner as Document, 'cookie', 'set');
      start({ cookieDays: 30 });
      const vid = set.mock.calls.map((c) => String(c[0])).find((c) => c.startsWith('_pruuv_vid=')) ?? '';
      expect(vid).toContain('; max-age=2592000;');
    });
  });

  describe('Google and TikTok cookies', () => {
    it('reads _gcl_aw and _gcl_gb when the ledger has no entry', () => {
      reset();
      document.cookie = '_gcl_aw=GCL.1700000000.EAIaIQ; path=/';
      document.cookie = '_gcl_gb=GCL.1700000100.0AAAAB; path=/';
      const { pixel } = start();
      expect(pixel.getAttribution().clicks).toEqual({
        gclid: { value: 'EAIaIQ', ts: '2023-11-14T22:13:20.000Z' },
        gbraid: { value: '0AAAAB', ts: '2023-11-14T22:15:00.000Z' },
      });
    });

    it('prefers the URL gclid over _gcl_aw', () => {
      reset();
      document.cookie = '_gcl_aw=GCL.1700000000.OLD; path=/';
      setUrl('https://www.example.com/?gclid=NEW');
      expect(start().pixel.getAttribution().clicks.gclid).toEqual({ value: 'NEW', ts: ISO0 });
    });

    it('reads _ttp as ttp', () => {
      reset();
      document.cookie = '_ttp=2abcTTP; path=/';
      expect(start().pixel.getAttribution().ttp).toBe('2abcTTP');
    });

    it('leaves out a malformed _ttp or _fbc, which the collector would reject', async () => {
      reset();
      document.cookie = `_ttp=${encodeURIComponent('bad value')}; path=/`;
      document.cookie = '_fbc=not-a-meta-cookie; path=/';
      const { pixel, sent } = start();
      await pixel.track('lead');
      expect(sent[0]?.body.ttp).toBeUndefined();
      expect(sent[0]?.body.fbc).toBeUndefined();
    });
  });

  describe('SPA navigation', () => {
    it('captures on pushState', () => {
      reset();
      const { pixel } = start();
      clock = T0 + HOUR;
      history.pushState({}, '', '/offer?msclkid=M1&utm_source=bing');
      expect(pixel.getAttribution().clicks.msclkid).toEqual({ value: 'M1', ts: new Date(T0 + HOUR).toISOString() });
      expect(saved()).toMatchObject({ clicks: { msclkid: { value: 'M1' } } });
    });

    it('captures on replaceState', () => {
      reset();
      const { pixel } = start();
      history.replaceState({}, '', '/?ttclid=T9');
      expect(pixel.getAttribution().clicks.ttclid?.value).toBe('T9');
    });

    it('captures on popstate', () => {
      reset();
      const { pixel } = start();
      setUrl('https://www.example.com/back?wbraid=W1');
      dispatchEvent(new PopStateEvent('popstate'));
      expect(pixel.getAttribution().clicks.wbraid?.value).toBe('W1');
    });

    it('ignores a same-URL change', () => {
      reset();
      setUrl('https://www.example.com/?gclid=G1');
      start();
      localStorage.clear();
      document.cookie = '_pruuv=; path=/; domain=example.com; expires=Thu, 01 Jan 1970 00:00:00 GMT';
      history.replaceState({ step: 2 }, '', location.href);
      expect(cookieJar()._pruuv).toBeUndefined();
      history.replaceState({ step: 3 }, '', '/?gclid=G1&page=2');
      expect(cookieJar()._pruuv).toBeDefined();
    });

    // The load URL had only utm_source=news, so the referrer's gclid was not taken on load
    // either; since issue 13 item 3 the referrer fills each click ID the URL lacks, so the
    // load URL carries its own gclid and a later navigation must not bring the referrer's.
    it('reads the referrer on load only', () => {
      reset();
      setUrl('https://www.example.com/?gclid=FROM_PAGE');
      setReferrer('https://www.example.com/?gclid=FROM_REFERRER');
      const { pixel } = start();
      history.pushState({}, '', '/next?utm_source=news');
      expect(pixel.getAttribution().clicks).toEqual({ gclid: { value: 'FROM_PAGE', ts: ISO0 } });
      expect(pixel.getAttribution().last_touch?.params).toEqual({ utm_source: 'news' });
    });

    it('takes the fbclid from the referrer when the landing URL has UTMs but none', () => {
      reset();
      setUrl('https://www.example.com/offer?utm_source=facebook&utm_campaign=spring');
      setReferrer('https://www.example.com/?fbclid=IwAR_Ref&utm_source=facebook');
      const { pixel } = start();
      const a = pixel.getAttribution();
      expect(a.clicks).toEqual({ fbclid: { value: 'IwAR_Ref', ts: ISO0 } });
      expect(a.fbc).toBe(`fb.1.${T0}.IwAR_Ref`);
      expect(a.last_touch?.params).toEqual({ utm_source: 'facebook', utm_campaign: 'spring', fbclid: 'IwAR_Ref' });
    });

    it('keeps pushState working', () => {
      reset();
      start();
      history.pushState({ a: 1 }, '', '/x');
      expect(location.pathname).toBe('/x');
      expect(history.state).toEqual({ a: 1 });
    });
  });

  describe('track', () => {
    it('resolves once the request is handed off, while the collector has not answered', async () => {
      reset();
      setUrl('https://www.example.com/land?gclid=G1');
      let requests = 0;
      const hanging = (() => {
        requests++;
        return new Promise<Response>(() => {});
      }) as typeof fetch;
      const pixel = createPixel({ now: () => clock, fetch: hanging });
      pixel.init({ site: 'site_1', endpoint: ENDPOINT });
      const result = await Promise.race([
        pixel.track('lead'),
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), 1_000)),
      ]);
      expect(result).toMatchObject({ event_id: expect.stringMatching(UUID) });
      expect(requests).toBe(1);
    });

    it('sends the payload with the attribution and hashed identity only', async () => {
      reset();
      document.cookie = '_ttp=TTP1; path=/';
      setUrl('https://www.example.com/land?fbclid=F1&utm_source=fb&utm_campaign=spring');
      setReferrer('https://m.facebook.com/');
      const { pixel, sent } = start({ defaultCountryCode: '1' });
      clock = T0 + HOUR;
      history.pushState({}, '', '/form');
      const result = await pixel.track('lead', {
        email: ' John.Smith+ads@Gmail.com ',
        phone: '(650)555-1212',
        item_reference: 'deal-9',
        revenue_value: 250,
        currency: 'GBP',
        job_title: 'CTO',
      });
      expect(result.event_id).toMatch(UUID);
      expect(sent).toHaveLength(1);
      expect(sent[0]?.url).toBe(`${ENDPOINT}/e`);
      const body = sent[0]!.body;
      const vid = cookieJar()._pruuv_vid;
      expect(body).toEqual({
        v: 1,
        site: 'site_1',
        stage: 'lead',
        event_id: result.event_id,
        visitor_id: vid,
        reference: vid,
        item_reference: 'deal-9',
        revenue_value: 250,
        currency: 'GBP',
        job_title: 'CTO',
        email_sha256: sha256('john.smith+ads@gmail.com'),
        email_sha256_google: sha256('johnsmith@gmail.com'),
        phone_sha256: sha256('+16505551212'),
        phone_sha256_meta: 'e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176',
        clicks: { fbclid: { value: 'F1', ts: ISO0 } },
        utm: { utm_source: 'fb', utm_campaign: 'spring' },
        first_touch: expect.objectContaining({ params: { fbclid: 'F1', utm_source: 'fb', utm_campaign: 'spring' } }),
        last_touch: expect.objectContaining({ ts: ISO0 }),
        fbc: `fb.1.${T0}.F1`,
        fbp: cookieJar()._fbp,
        ttp: 'TTP1',
        url: 'https://www.example.com/form',
        referrer: 'https://m.facebook.com/',
        client_time: new Date(T0 + HOUR).toISOString(),
        consent: 'unspecified',
      });
      const raw = sent[0]!.init.body as string;
      expect(raw).not.toMatch(/smith|6505551212|\(650\)/i);
    });

    it('sends only the known props, never unknown ones', async () => {
      reset();
      const { pixel, sent } = start();
      const props = { currency: 'GBP', industry: 'Retail', first_name: 'Jo', password: 'hunter2', consent: 'denied' };
      await pixel.track('lead', props as TrackProps);
      const body = sent[0]!.body as unknown as Record<string, unknown>;
      expect(body).toMatchObject({ currency: 'GBP', industry: 'Retail', consent: 'unspecified' });
      expect(body).not.toHaveProperty('first_name');
      expect(body).not.toHaveProperty('password');
      expect(sent[0]!.init.body).not.toMatch(/first_name|password|hunter2|denied/);
    });

    it('hashes the phone with defaultCountryCode (Meta example)', async () => {
      reset();
      const { pixel, sent } = start({ defaultCountryCode: '1' });
      await pixel.track('lead', { phone: '(650)555-1212' });
      expect(sent[0]?.body.phone_sha256_meta).toBe('e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176');
    });

    it('gives every call a new event_id and uses a given reference', async () => {
      reset();
      const { pixel, sent } = start();
      const a = await pixel.track('lead', { reference: 'CRM-1' });
      const b = await pixel.track('lead');
      expect(a.event_id).not.toBe(b.event_id);
      expect(sent.map((s) => s.body.reference)).toEqual(['CRM-1', cookieJar()._pruuv_vid]);
    });

    it('drops email and phone without WebCrypto, never sending them raw', async () => {
      reset();
      vi.stubGlobal('crypto', { getRandomValues: (a: Uint8Array) => a.fill(7) });
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      const { pixel, sent } = start({ debug: true });
      await pixel.track('lead', { email: 'jo@example.com', phone: '+447700900123' });
      const body = sent[0]!.body;
      expect(body.email_sha256).toBeUndefined();
      expect(body.phone_sha256).toBeUndefined();
      expect(sent[0]!.init.body).not.toMatch(/jo@example|7700900123/);
      expect(warn).toHaveBeenCalledWith('[pruuv]', expect.stringContaining('WebCrypto'));
    });

    it('cuts the page URL and referrer at 4,096 characters', async () => {
      reset();
      setUrl(`https://www.example.com/?q=${'x'.repeat(5000)}`);
      setReferrer(`https://ref.example/?q=${'y'.repeat(5000)}`);
      const { pixel, sent } = start();
      await pixel.track('lead');
      expect(sent[0]?.body.url).toHaveLength(4096);
      expect(sent[0]?.body.referrer).toHaveLength(4096);
    });

    it('uses ingestPath and trims a trailing slash from endpoint', async () => {
      reset();
      const { pixel, sent } = start({ endpoint: `${ENDPOINT}/`, ingestPath: '/ingest' });
      await pixel.track('lead');
      expect(sent[0]?.url).toBe(`${ENDPOINT}/ingest`);
    });

    it('resolves and keeps the event when the collector fails', async () => {
      reset();
      const { pixel } = start({}, [503]);
      const { event_id } = await pixel.track('sale');
      expect(JSON.parse(localStorage.getItem(OUTBOX) ?? '[]')).toEqual([expect.objectContaining({ event_id })]);
    });

    it('rejects with a tagged PruuvError before init()', async () => {
      const pixel = createPixel();
      await expect(pixel.track('lead')).rejects.toBeInstanceOf(PruuvError);
      await expect(pixel.track('lead')).rejects.toThrow(/^\[pruuv\] /);
    });

    it('never throws into the page when storage is blocked', async () => {
      reset();
      blockLocalStorage();
      blockCookies();
      setUrl('https://www.example.com/?gclid=G1');
      const { pixel, sent } = start();
      history.pushState({}, '', '/next?gclid=G2');
      const { event_id } = await pixel.track('lead');
      expect(sent[0]?.body).toMatchObject({ event_id, clicks: { gclid: { value: 'G2' } } });
      expect(sent[0]?.body.visitor_id).toMatch(UUID);
      expect(sent[0]?.body.fbp).toMatch(/^fb\.\d\.\d+\.\d+$/);
    });
  });

  describe('init', () => {
    const bad: [string, unknown][] = [
      ['without site', { endpoint: ENDPOINT }],
      ['without endpoint', { site: 'site_1' }],
      ['without options', undefined],
    ];
    for (const [name, options] of bad) {
      it(`throws a PruuvError ${name}`, () => {
        expect(() => createPixel().init(options as InitOptions)).toThrow(PruuvError);
      });
    }

    it('ignores a second call', async () => {
      reset();
      const { fetch, sent } = fakeFetch();
      const pixel = createPixel({ fetch });
      pixel.init({ site: 'first', endpoint: ENDPOINT });
      pixel.init({ site: 'second', endpoint: 'https://elsewhere.example' });
      await pixel.track('lead');
      expect(sent.map((s) => [s.url, s.body.site])).toEqual([[`${ENDPOINT}/e`, 'first']]);
    });
  });

  describe('consent', () => {
    it('persists and sends nothing before consent, and everything after', async () => {
      reset();
      setUrl('https://www.example.com/?fbclid=F1&utm_source=fb');
      const { pixel, sent } = start({ requireConsent: true });
      expect(pixel.getAttribution().clicks.fbclid).toEqual({ value: 'F1', ts: ISO0 });
      const first = await pixel.track('lead');
      const second = await pixel.track('sale');
      expect(sent).toEqual([]);
      expect(cookieJar()).toEqual({});
      expect(localStorage.length).toBe(0);

      clock = T0 + HOUR;
      pixel.consent(true);
      await settle();
      expect(sent.map((s) => s.body.event_id)).toEqual([first.event_id, second.event_id]);
      expect(sent.every((s) => s.body.consent === 'granted')).toBe(true);
      // Captured while waiting: the click keeps its capture time, _fbc too.
      expect(saved()).toMatchObject({ clicks: { fbclid: { value: 'F1', ts: ISO0 } } });
      expect(cookieJar()._fbc).toBe(`fb.1.${T0}.F1`);
      expect(sent[0]?.body.fbc).toBe(`fb.1.${T0}.F1`);
    });

    it('sends at once after consent(true)', async () => {
      reset();
      const { pixel, sent } = start({ requireConsent: true });
      pixel.consent(true);
      await pixel.track('lead');
      expect(sent).toHaveLength(1);
      expect(sent[0]?.body.consent).toBe('granted');
    });

    it('accepts consent before init', async () => {
      reset();
      const { fetch, sent } = fakeFetch();
      const pixel = createPixel({ fetch, now: () => clock });
      pixel.consent(true);
      pixel.init({ site: 'site_1', endpoint: ENDPOINT, requireConsent: true });
      await pixel.track('lead');
      expect(sent).toHaveLength(1);
      expect(cookieJar()._pruuv_vid).toMatch(UUID);
    });

    it("consent(false) erases Pruuv's storage and queued events, but not Meta's own _fbc", async () => {
      reset();
      document.cookie = '_fbc=fb.1.1000.META_OWN.AQQCAQIB; path=/; domain=example.com';
      setUrl('https://www.example.com/?gclid=G1');
      const { pixel, sent } = start({}, [503]);
      await pixel.track('lead');
      expect(localStorage.getItem(OUTBOX)).not.toBeNull();
      pixel.consent(false);
      await settle();
      expect(cookieJar()).toEqual({ _fbc: 'fb.1.1000.META_OWN.AQQCAQIB' });
      expect(localStorage.length).toBe(0);
      const queued = await pixel.track('sale');
      expect(queued.event_id).toMatch(UUID);
      expect(sent).toHaveLength(1);
    });

    it('consent(false) removes the _fbc and _fbp Pruuv wrote', () => {
      reset();
      setUrl('https://www.example.com/?fbclid=F1');
      const { pixel } = start();
      expect(cookieJar()._fbc).toBeDefined();
      pixel.consent(false);
      expect(cookieJar()).toEqual({});
    });

    it('consent(false) erases what an earlier page stored, with nothing read before', async () => {
      reset();
      setUrl('https://www.example.com/?fbclid=F1');
      start();
      await settle();
      expect(localStorage.length).toBe(1);
      setUrl('https://www.example.com/next');
      const { pixel } = start({ requireConsent: true });
      pixel.consent(false);
      await settle();
      expect(cookieJar()).toEqual({});
      expect(localStorage.length).toBe(0);
    });

    it('consent(false) drops events waiting for consent', async () => {
      reset();
      const { pixel, sent } = start({ requireConsent: true });
      await pixel.track('lead');
      pixel.consent(false);
      pixel.consent(true);
      await settle();
      expect(sent).toEqual([]);
    });
  });

  describe('outbox', () => {
    it('resends on the next page load with the same event_id', async () => {
      reset();
      const first = start({}, [503]);
      const { event_id } = await first.pixel.track('lead');
      const second = start();
      await settle();
      expect(second.sent.map((s) => s.body.event_id)).toEqual([event_id]);
      expect(JSON.parse(localStorage.getItem(OUTBOX) ?? '[]')).toEqual([]);
    });

    it('resends when the browser comes back online', async () => {
      reset();
      const { pixel, sent } = start({}, [new TypeError('offline')]);
      const { event_id } = await pixel.track('lead');
      dispatchEvent(new Event('online'));
      await settle();
      expect(sent.map((s) => s.body.event_id)).toEqual([event_id, event_id]);
    });

    it('waits for consent before resending', async () => {
      reset();
      const first = start({}, [503]);
      await first.pixel.track('lead');
      const second = start({ requireConsent: true });
      dispatchEvent(new Event('online'));
      await settle();
      expect(second.sent).toEqual([]);
    });
  });

  describe('hidden fields', () => {
    it('fills fields present at init, added later and after a navigation', async () => {
      reset();
      document.body.innerHTML = '<input type="hidden" data-pruuv="gclid"><input type="hidden" data-pruuv="utm_source">';
      setUrl('https://www.example.com/?gclid=G1&utm_source=google');
      start();
      const field = (name: string) => (document.querySelector(`[data-pruuv="${name}"]`) as HTMLInputElement | null)?.value;
      expect(field('gclid')).toBe('G1');
      expect(field('utm_source')).toBe('google');

      const form = document.createElement('form');
      form.innerHTML = '<input type="hidden" data-pruuv="gclid_timestamp"><input type="hidden" data-pruuv="fbp">';
      document.body.append(form);
      await settle();
      expect(field('gclid_timestamp')).toBe(ISO0);
      expect(field('fbp')).toBe(cookieJar()._fbp);

      history.pushState({}, '', '/?gclid=G2');
      expect(field('gclid')).toBe('G2');
    });

    it('fills from memory while waiting for consent', () => {
      reset();
      document.body.innerHTML = '<input type="hidden" data-pruuv="ttclid">';
      setUrl('https://www.example.com/?ttclid=T1');
      start({ requireConsent: true });
      expect((document.querySelector('input') as HTMLInputElement).value).toBe('T1');
      expect(cookieJar()).toEqual({});
    });
  });
});
