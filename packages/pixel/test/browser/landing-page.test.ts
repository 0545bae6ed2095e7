/**
 * The examples/landing-page demo, served as the collector serves it (`/demo/`,
 * site key injected, `/s.js` from the same origin), used like a visitor would.
 */
import { describe, expect, it } from 'vitest';
import { SHOP } from './chromium.js';
import { sha256, UUID_V4, useSuite } from './harness.js';
import { DEMO_SITE } from './server.js';

const suite = useSuite();

describe('examples/landing-page', () => {
  it('sends the lead when the form is submitted', async () => {
    const { page } = await suite.open();
    const origin = suite.server.origin(SHOP);
    await page.goto(`${origin}/demo/`);
    await page.click('#ad-click');
    await page.waitForURL(/gclid=/);
    await page.fill('#email', ' Jane.Doe+offer@Gmail.com ');
    await page.fill('#phone', '+44 7700 900123');
    await page.click('button[type="submit"]');
    const eventId = await page.waitForSelector('#result[data-event-id]').then((el) => el.getAttribute('data-event-id'));
    const [beacon] = await suite.server.waitForDelivered(1);
    const hidden = await page.evaluate(() =>
      Object.fromEntries(
        Array.from(document.querySelectorAll<HTMLInputElement>('#lead-form input[type="hidden"]'), (i) => [i.name, i.value]),
      ),
    );

    expect(eventId).toMatch(UUID_V4);
    expect(beacon?.host).toBe(`${SHOP}:${suite.server.port}`);
    expect(beacon?.body).toMatchObject({
      site: DEMO_SITE,
      stage: 'lead',
      event_id: eventId,
      clicks: { fbclid: { value: 'IwAR-demo_Click1' }, gclid: { value: 'Cj0KCQ-demo' } },
      utm: { utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'spring' },
      email_sha256: sha256('jane.doe+offer@gmail.com'),
      email_sha256_google: sha256('janedoe@gmail.com'),
      phone_sha256: sha256('+447700900123'),
      phone_sha256_meta: sha256('447700900123'),
    });
    expect(beacon?.body.reference).toMatch(/^demo-/);
    expect(beacon?.raw.toLowerCase()).not.toContain('jane');
    expect(hidden).toMatchObject({ gclid: 'Cj0KCQ-demo', fbclid: 'IwAR-demo_Click1', utm_campaign: 'spring', fbc: beacon?.body.fbc });
    expect(await page.textContent('#result')).toContain(eventId ?? 'missing');
  });
});
