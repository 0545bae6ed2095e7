/**
 * Hidden form fields (pixel contract, "Hidden fields"): `data-pruuv="<name>"`
 * inputs are filled on init and when added later, so a CRM receives the click
 * IDs with the lead.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { SHOP } from './chromium.js';
import { attribution, cookieJar, useSuite } from './harness.js';

const suite = useSuite();

const fields = (page: Page, selector: string): Promise<Record<string, string>> =>
  page.evaluate((sel) => {
    const out: Record<string, string> = {};
    document.querySelectorAll<HTMLInputElement>(`${sel} input[data-pruuv]`).forEach((input) => {
      out[input.dataset.pruuv ?? ''] = input.value;
    });
    return out;
  }, selector);

describe('hidden fields', () => {
  it('fills captured values on load', async () => {
    const { context, page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/form.html?gclid=Cj0KCQ-TeSt&fbclid=F-form&utm_source=google');
    const jar = await cookieJar(context);
    const a = await attribution(page);
    const values = await fields(page, '#lead');

    expect(values).toMatchObject({
      gclid: 'Cj0KCQ-TeSt',
      fbclid: 'F-form',
      fbc: jar._fbc?.value,
      fbp: jar._fbp?.value,
      utm_source: 'google',
      ttclid: '', // not captured: left empty
    });
    expect(values.fbc).toMatch(/^fb\.2\.\d{13}\.F-form$/);
    // `<clickid>_timestamp` is the ledger's first-seen time of that click ID.
    const stamp = values.gclid_timestamp ?? '';
    expect(stamp).not.toBe('');
    const ledgerMs = Date.parse(a.clicks.gclid?.ts ?? '');
    const stampMs = /^\d+$/.test(stamp) ? Number(stamp) : Date.parse(stamp);
    expect(Math.abs(stampMs - ledgerMs)).toBeLessThan(1_000);
  });

  it('fills a form inserted after load', async () => {
    const { page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/form.html?gclid=G-late&fbclid=F-late');
    await page.evaluate(() => {
      const form = document.createElement('form');
      form.id = 'late';
      form.innerHTML = '<input type="hidden" data-pruuv="gclid"><input type="hidden" data-pruuv="fbc">';
      document.body.appendChild(form);
    });
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll<HTMLInputElement>('#late input')).every((i) => i.value !== ''),
    );

    const values = await fields(page, '#late');
    expect(values.gclid).toBe('G-late');
    expect(values.fbc).toMatch(/^fb\.2\.\d{13}\.F-late$/);
  });

  it('fills fields again after a new capture', async () => {
    const { page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/form.html?gclid=G-first');
    await page.evaluate(() => history.pushState({}, '', '/form.html?gclid=G-second'));
    await page.waitForFunction(
      () => document.querySelector<HTMLInputElement>('#lead input[data-pruuv="gclid"]')?.value === 'G-second',
    );
  });
});
