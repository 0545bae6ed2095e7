/**
 * Click-ID capture on a real landing: cookies, their domain and format
 * (platforms.md §1.8, §2.1), persistence, and SPA navigation.
 */
import { describe, expect, it } from 'vitest';
import type { Cookie } from 'playwright-core';
import type { Attribution } from '../../src/types.js';
import { SHOP, SHOP_APEX, SHOP_COOKIE_DOMAIN } from './chromium.js';
import { ISO_TIME, UUID_V4, attribution, cookieJar, localStore, mirrorRecord, parseFb, settle, track, useSuite, type PruuvWindow } from './harness.js';

const suite = useSuite();
const shop = (path: string): string => suite.server.origin(SHOP) + path;

const LANDING = '/?fbclid=AbC-123_xyZ&gclid=Cj0KCQ-TeSt&utm_source=google';
const NINETY_DAYS_S = 90 * 86_400;
const PIXEL_COOKIES = ['_fbc', '_fbp', '_pruuv_vid', '_pruuv'] as const;

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is missing`);
  return value;
}

/** `_pruuv` is compact JSON, URI-encoded (pixel contract). */
function decodeState(cookie: Cookie): unknown {
  return JSON.parse(decodeURIComponent(cookie.value));
}

describe('landing with click IDs', () => {
  it('writes _fbc on the registrable domain with the fbclid as it arrived', async () => {
    const { context, page } = await suite.open();
    const before = Date.now();
    await page.goto(shop(LANDING));
    const fbc = must((await cookieJar(context))._fbc, '_fbc cookie');

    expect(fbc.domain).toBe(SHOP_COOKIE_DOMAIN);
    const parsed = parseFb(fbc.value);
    // example.co.uk has three labels: subdomainIndex 2 (platforms.md §2.1).
    expect(parsed.index).toBe(2);
    expect(parsed.value).toBe('AbC-123_xyZ');
    expect(parsed.ms).toBeGreaterThanOrEqual(before);
    expect(parsed.ms).toBeLessThanOrEqual(Date.now());
  });

  it('writes _fbp and its own cookies on the registrable domain for 90 days', async () => {
    const { context, page } = await suite.open();
    await page.goto(shop(LANDING));
    const jar = await cookieJar(context);
    const now = Date.now() / 1000;

    for (const name of PIXEL_COOKIES) {
      const c = must(jar[name], `${name} cookie`);
      expect(c.domain, name).toBe(SHOP_COOKIE_DOMAIN);
      expect(Math.abs(c.expires - (now + NINETY_DAYS_S)), `${name} expiry`).toBeLessThan(86_400);
    }
    expect(jar._fbp?.value).toMatch(/^fb\.2\.\d{13}\.\d+$/);
    expect(jar._pruuv_vid?.value).toMatch(UUID_V4);

    const state = must(jar._pruuv, '_pruuv cookie');
    expect(() => decodeState(state)).not.toThrow();
    expect(decodeURIComponent(state.value)).toContain('AbC-123_xyZ');
    expect(decodeURIComponent(state.value)).toContain('Cj0KCQ-TeSt');
  });

  it('mirrors its cookies in one localStorage record', async () => {
    const { context, page } = await suite.open();
    await page.goto(shop(LANDING));
    await expect.poll(async () => Object.keys(await mirrorRecord(page)).sort()).toEqual([...PIXEL_COOKIES].sort());
    const jar = await cookieJar(context);
    const store = await mirrorRecord(page);

    expect(Object.keys(await localStore(page))).toEqual(['_pruuv_mirror']);
    // The cookie holds the value URI-encoded.
    for (const name of PIXEL_COOKIES) expect(store[name], name).toBe(decodeURIComponent(must(jar[name], `${name} cookie`).value));
  });

  it('records the click ledger and the touch', async () => {
    const { context, page } = await suite.open();
    await page.goto(shop(LANDING));
    const a = await attribution(page);
    const jar = await cookieJar(context);

    expect(a.clicks.fbclid?.value).toBe('AbC-123_xyZ');
    expect(a.clicks.gclid?.value).toBe('Cj0KCQ-TeSt');
    expect(a.clicks.fbclid?.ts).toMatch(ISO_TIME);
    expect(a.first_touch?.params).toEqual({ fbclid: 'AbC-123_xyZ', gclid: 'Cj0KCQ-TeSt', utm_source: 'google' });
    expect(a.first_touch?.url).toBe(page.url());
    expect(a.last_touch?.params).toEqual(a.first_touch?.params);
    expect(a.fbc).toBe(jar._fbc?.value);
    expect(a.fbp).toBe(jar._fbp?.value);
  });

  it('captures every supported click ID and UTM', async () => {
    const { page } = await suite.open();
    const ids = { fbclid: 'F-1', gclid: 'G-1', wbraid: 'W-1', gbraid: 'GB-1', ttclid: 'T-1', msclkid: 'M-1' };
    const utm = { utm_source: 's', utm_medium: 'm', utm_campaign: 'c', utm_content: 'co', utm_term: 't' };
    await page.goto(shop('/?' + new URLSearchParams({ ...ids, ...utm, other: 'ignored' }).toString()));
    const a = await attribution(page);

    for (const [name, value] of Object.entries(ids)) {
      expect(a.clicks[name as keyof typeof ids]?.value, name).toBe(value);
    }
    expect(a.last_touch?.params).toEqual({ ...ids, ...utm });
  });

  it('writes no _fbc without an fbclid', async () => {
    const { context, page } = await suite.open();
    await page.goto(shop('/?gclid=Only-G'));
    const jar = await cookieJar(context);

    expect(jar._fbc).toBeUndefined();
    expect(jar._fbp?.value).toMatch(/^fb\.2\.\d{13}\.\d+$/);
    expect((await attribution(page)).clicks.gclid?.value).toBe('Only-G');
  });
});

describe("other vendors' cookies", () => {
  it('reads _ttp and leaves the TikTok and Google cookies untouched', async () => {
    const { context, page } = await suite.open();
    const theirs = { _ttp: '2Xb7VQkQyUoUvPcCnWqmLzIvNAb', _gcl_aw: 'GCL.1700000000.CjwKCAiA-gcl', _gcl_gb: 'GCL.1700000000.GB-braid' };
    await context.addCookies(
      Object.entries(theirs).map(([name, value]) => ({ name, value, domain: SHOP_COOKIE_DOMAIN, path: '/' })),
    );
    await page.goto(shop(LANDING));
    const jar = await cookieJar(context);

    expect((await attribution(page)).ttp).toBe(theirs._ttp);
    for (const [name, value] of Object.entries(theirs)) expect(jar[name]?.value, name).toBe(value);
  });
});

describe('return visit without parameters', () => {
  it('keeps the cookies and the ledger first-seen times', async () => {
    const { context, page } = await suite.open();
    await page.goto(shop(LANDING));
    const jar1 = await cookieJar(context);
    const a1 = await attribution(page);

    await page.goto(shop('/'));
    const jar2 = await cookieJar(context);
    const a2 = await attribution(page);

    for (const name of ['_fbc', '_fbp', '_pruuv_vid'] as const) {
      expect(jar2[name]?.value, name).toBe(must(jar1[name], `${name} cookie`).value);
    }
    expect(a2.clicks).toEqual(a1.clicks);
    expect(a2.first_touch).toEqual(a1.first_touch);
    expect(a2.last_touch).toEqual(a1.last_touch);
  });
});

describe('second landing with a new fbclid', () => {
  it('replaces _fbc with a new time and keeps the first touch', async () => {
    const { context, page } = await suite.open();
    await page.goto(shop(LANDING));
    const fbc1 = parseFb(must((await cookieJar(context))._fbc, '_fbc cookie').value);
    const a1 = await attribution(page);
    await settle(20); // a later landing gets a later millisecond

    await page.goto(shop('/?fbclid=NewClick-2'));
    const jar2 = await cookieJar(context);
    const fbc2 = parseFb(must(jar2._fbc, '_fbc cookie').value);
    const a2 = await attribution(page);

    expect(fbc2.value).toBe('NewClick-2');
    expect(fbc2.index).toBe(2);
    expect(fbc2.ms).toBeGreaterThan(fbc1.ms);
    expect(a2.clicks.fbclid?.value).toBe('NewClick-2');
    expect(Date.parse(must(a2.clicks.fbclid, 'fbclid entry').ts)).toBeGreaterThan(
      Date.parse(must(a1.clicks.fbclid, 'fbclid entry').ts),
    );
    // The gclid did not change: its entry, first-seen time included, stays.
    expect(a2.clicks.gclid).toEqual(a1.clicks.gclid);
    expect(a2.first_touch).toEqual(a1.first_touch);
    expect(a2.last_touch?.params.fbclid).toBe('NewClick-2');
    expect(a2.fbp).toBe(a1.fbp);
  });
});

describe('existing _fbc cookie', () => {
  // platforms.md §2.1 rules 1-4, 6: keep a valid value whose segment 3 equals the
  // fbclid (case-sensitive), otherwise write a new 4-segment value.
  const FRESH = /^fb\.2\.\d{13}\.(.+)$/;
  const cases: { name: string; existing: string; fbclid: string; kept: boolean }[] = [
    { name: 'keeps a 5-segment value with the same fbclid verbatim', existing: 'fb.1.1700000000000.OldClick.AQQCAQIB', fbclid: 'OldClick', kept: true },
    { name: 'keeps a 4-segment value with the same fbclid', existing: 'fb.1.1700000000000.OldClick', fbclid: 'OldClick', kept: true },
    { name: 'replaces a value whose fbclid differs', existing: 'fb.1.1700000000000.OldClick.AQQCAQIB', fbclid: 'NewClick', kept: false },
    { name: 'compares the fbclid case-sensitively', existing: 'fb.1.1700000000000.oldclick', fbclid: 'OldClick', kept: false },
    // Segment 3, never "after the last dot" (platforms.md §1.8 DISAGREE).
    { name: 'compares segment 3, not the appendix', existing: 'fb.1.1700000000000.Other.AQQCAQIB', fbclid: 'AQQCAQIB', kept: false },
    { name: 'replaces an invalid value', existing: 'fb.x.1700000000000.OldClick', fbclid: 'OldClick', kept: false },
  ];

  for (const { name, existing, fbclid, kept } of cases) {
    it(name, async () => {
      const { context, page } = await suite.open();
      await context.addCookies([{ name: '_fbc', value: existing, domain: SHOP_COOKIE_DOMAIN, path: '/' }]);
      await page.goto(shop(`/?fbclid=${fbclid}`));
      const value = must((await cookieJar(context))._fbc, '_fbc cookie').value;

      if (kept) {
        expect(value).toBe(existing);
      } else {
        expect(value).toMatch(FRESH);
        expect(parseFb(value).value).toBe(fbclid);
      }
      expect((await attribution(page)).fbc).toBe(value);
    });
  }

  it('keeps an existing _fbp verbatim', async () => {
    const { context, page } = await suite.open();
    const existing = 'fb.1.1596403881668.1116446470';
    await context.addCookies([{ name: '_fbp', value: existing, domain: SHOP_COOKIE_DOMAIN, path: '/' }]);
    await page.goto(shop(LANDING));

    expect((await cookieJar(context))._fbp?.value).toBe(existing);
    expect((await attribution(page)).fbp).toBe(existing);
  });
});

describe('a stale _fbc on another domain level', () => {
  // Issue 13, item 1: an older _fbc written on another level of the host (host-only on www.,
  // on the host as a domain, on a parent) is listed before ours in document.cookie (same
  // path, created earlier), so reading the first _fbc brought the stale click back. A fresh
  // fbclid must leave one _fbc, the fresh one, for getAttribution, hidden fields and ingest.
  const STALE = 'fb.3.1700000000000.Stale-Click';
  const levels: { name: string; cookie: { domain?: string; url?: string } }[] = [
    { name: 'host-only on www.', cookie: { url: `https://${SHOP}/` } },
    { name: 'on www. as a domain cookie', cookie: { domain: `.${SHOP}` } },
    { name: 'on a parent domain', cookie: { domain: `.${SHOP_APEX}` } },
  ];

  for (const { name, cookie } of levels) {
    it(`a fresh fbclid replaces a stale _fbc ${name} everywhere it is reported`, async () => {
      const { context, page } = await suite.open();
      await context.addCookies([{ name: '_fbc', value: STALE, ...(cookie.url ? {} : { path: '/' }), ...cookie }]);
      await page.goto(shop('/form.html?fbclid=Fresh-Click'));
      await page.waitForFunction(() => (document.querySelector('[data-pruuv=fbc]') as HTMLInputElement | null)?.value);

      const visible = (await context.cookies(shop('/'))).filter((c) => c.name === '_fbc');
      expect(visible.map((c) => [c.domain, parseFb(c.value).value])).toEqual([[SHOP_COOKIE_DOMAIN, 'Fresh-Click']]);
      const fresh = must(visible[0], '_fbc cookie').value;
      expect((await attribution(page)).fbc).toBe(fresh);
      expect(await page.inputValue('[data-pruuv=fbc]')).toBe(fresh);

      // The next page reads the cookies again: the stale value must not come back.
      await page.goto(shop('/form.html'));
      await page.waitForFunction(() => (document.querySelector('[data-pruuv=fbc]') as HTMLInputElement | null)?.value);
      expect((await attribution(page)).fbc).toBe(fresh);
      expect(await page.inputValue('[data-pruuv=fbc]')).toBe(fresh);
      await track(page, 'lead');
      const [beacon] = await suite.server.waitForDelivered(1);
      expect(beacon?.body.fbc).toBe(fresh);
    });
  }
});

describe('state cookie size', () => {
  it('keeps _pruuv under 3,500 bytes with long landing URLs', async () => {
    const { context, page } = await suite.open();
    const pad = 'x'.repeat(5_000);
    const written = async () => decodeURIComponent((await cookieJar(context))._pruuv?.value ?? '');
    await page.goto(shop(`/?fbclid=Long-1&utm_campaign=${'c'.repeat(200)}&pad=${pad}`));
    // `goto` can resolve before the pixel (an async script of the collector's origin) has written its cookie.
    await expect.poll(written).toContain('Long-1');
    await page.goto(shop(`/?fbclid=Long-2&gclid=G-long&utm_source=${'s'.repeat(200)}&pad=${pad}`));
    await expect.poll(written).toContain('G-long');
    const state = must((await cookieJar(context))._pruuv, '_pruuv cookie');

    expect(state.name.length + state.value.length).toBeLessThanOrEqual(3_500);
    const decoded = decodeURIComponent(state.value);
    expect(decoded).toContain('Long-1'); // first touch
    expect(decoded).toContain('Long-2'); // ledger and last touch
    expect(decoded).toContain('G-long');
  });
});

describe('SPA navigation', () => {
  it('adds a click ID arriving with history.pushState to the ledger', async () => {
    const { page } = await suite.open();
    await page.goto(shop('/?gclid=G-spa'));
    await page.evaluate(() => history.pushState({}, '', '/?ttclid=TT1'));
    await page.waitForFunction(() => (window as unknown as PruuvWindow).Pruuv.getAttribution().clicks.ttclid?.value === 'TT1');
    const a: Attribution = await attribution(page);
    expect(a.clicks.gclid?.value).toBe('G-spa');

    await page.goto(shop('/'));
    expect((await attribution(page)).clicks.ttclid?.value).toBe('TT1');
  });
});
