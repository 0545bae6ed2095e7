/**
 * Consent gating (pixel contract, "Consent"): with `requireConsent`, nothing is
 * stored or sent until `Pruuv.consent(true)`; `consent(false)` erases.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { TrackResult } from '../../src/types.js';
import { SHOP, SHOP_COOKIE_DOMAIN } from './chromium.js';
import { attribution, cookieJar, localStore, mirrorRecord, parseFb, settle, useSuite, type PruuvWindow } from './harness.js';

const suite = useSuite();
const PIXEL_COOKIES = ['_fbc', '_fbp', '_pruuv_vid', '_pruuv'];

const consent = (page: Page, granted: boolean): Promise<void> =>
  page.evaluate((g) => (window as unknown as PruuvWindow).Pruuv.consent(g), granted);

/** Starts a track() without awaiting it: with consent pending it may not settle yet. */
const startTrack = (page: Page): Promise<void> =>
  page.evaluate(() => {
    const w = window as unknown as PruuvWindow;
    w.pending = w.Pruuv.track('lead', { reference: 'R-consent' });
  });

describe('requireConsent before consent', () => {
  it('stores nothing and sends nothing', async () => {
    const { context, page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/consent.html?fbclid=C-1&gclid=G-1');
    await startTrack(page);
    await settle();

    expect(await context.cookies()).toEqual([]);
    expect(await localStore(page)).toEqual({});
    expect(suite.server.attempts).toHaveLength(0);
  });
});

describe('consent(true)', () => {
  it('persists the captured values and sends the waiting event', async () => {
    const { context, page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/consent.html?fbclid=C-1&gclid=G-1');
    await startTrack(page);
    await settle();
    expect(suite.server.attempts).toHaveLength(0);

    await consent(page, true);
    const [beacon] = await suite.server.waitForDelivered(1);
    const result = await page.evaluate(() => (window as unknown as PruuvWindow).pending as Promise<TrackResult>);
    const jar = await cookieJar(context);

    expect(beacon?.body).toMatchObject({ event_id: result.event_id, reference: 'R-consent', consent: 'granted' });
    expect(beacon?.body.clicks.fbclid?.value).toBe('C-1');
    expect(beacon?.body.clicks.gclid?.value).toBe('G-1');
    expect(parseFb(beacon?.body.fbc ?? '').value).toBe('C-1');
    for (const name of PIXEL_COOKIES) expect(jar[name]?.domain, name).toBe(SHOP_COOKIE_DOMAIN);
    expect(jar._fbc?.value).toBe(beacon?.body.fbc);
    expect(Object.keys(await mirrorRecord(page))).toEqual(expect.arrayContaining(PIXEL_COOKIES));
    expect((await attribution(page)).clicks.gclid?.value).toBe('G-1');
  });
});

describe('consent(false)', () => {
  it("erases the pixel's cookies and localStorage and keeps the site's", async () => {
    const { context, page } = await suite.open();
    await context.addCookies([{ name: 'site_pref', value: 'dark', domain: SHOP, path: '/' }]);
    await page.goto(suite.server.origin(SHOP) + '/consent.html?fbclid=C-2');
    await page.evaluate(() => localStorage.setItem('site_cart', '3'));
    await consent(page, true);
    expect(Object.keys(await cookieJar(context))).toEqual(expect.arrayContaining(PIXEL_COOKIES));

    await consent(page, false);
    const jar = await cookieJar(context);

    expect(Object.keys(jar).sort()).toEqual(['site_pref']);
    expect(await localStore(page)).toEqual({ site_cart: '3' });
  });

  it('discards the events waiting for consent', async () => {
    const { page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/consent.html?fbclid=C-3');
    await startTrack(page);
    await consent(page, false);
    await consent(page, true);
    await settle();

    expect(suite.server.attempts).toHaveLength(0);
  });
});
