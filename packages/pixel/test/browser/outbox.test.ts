/**
 * The offline outbox (pixel contract, "Ingest request" and "Outbox"): events
 * the collector could not take wait in localStorage `_pruuv_outbox` and are
 * delivered once, with the same event_id, on the next page load or when the
 * browser comes back online.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { SHOP } from './chromium.js';
import { settle, track, useSuite, type PruuvWindow } from './harness.js';
import type { Beacon, IngestMode } from './server.js';

const suite = useSuite();
const OUTBOX = '_pruuv_outbox';

const byEvent = (id: string) => (b: Beacon): boolean => b.body.event_id === id;
const outbox = (page: Page): Promise<string> => page.evaluate((key) => localStorage.getItem(key) ?? '', OUTBOX);
const waitInOutbox = (page: Page, id: string): Promise<unknown> =>
  page.waitForFunction(([key, eventId]) => (localStorage.getItem(key) ?? '').includes(eventId), [OUTBOX, id] as const);

/** Reloads until delivery, then once more, and checks the event arrived exactly once. */
async function expectDeliveredOnce(page: Page, id: string): Promise<void> {
  await suite.server.waitForDelivered(1, byEvent(id));
  await page.reload();
  await settle();
  expect(suite.server.delivered.filter(byEvent(id))).toHaveLength(1);
  expect(await outbox(page)).not.toContain(id);
}

describe('collector unavailable', () => {
  // Statuses worth a resend (pixel contract): the server may take it later.
  const cases: { name: string; mode: IngestMode }[] = [
    { name: 'keeps the event on 503 and delivers it on the next page load', mode: { kind: 'status', status: 503 } },
    { name: 'keeps the event on 500 and delivers it on the next page load', mode: { kind: 'status', status: 500 } },
    { name: 'keeps the event on 429 and delivers it on the next page load', mode: { kind: 'status', status: 429 } },
    { name: 'keeps the event on 408 and delivers it on the next page load', mode: { kind: 'status', status: 408 } },
    { name: 'keeps the event on a network error and delivers it on the next page load', mode: { kind: 'refuse' } },
  ];

  for (const { name, mode } of cases) {
    it(name, async () => {
      const { page } = await suite.open();
      await page.goto(suite.server.origin(SHOP) + '/?gclid=G-out');
      suite.server.setIngest(mode);
      const { event_id } = await track(page, 'lead', { reference: 'R-out' });
      await suite.server.waitForAttempts(1, byEvent(event_id));
      await waitInOutbox(page, event_id);
      expect(suite.server.delivered).toHaveLength(0);

      suite.server.setIngest({ kind: 'ok' });
      await page.reload();
      await expectDeliveredOnce(page, event_id);
      const [beacon] = suite.server.delivered.filter(byEvent(event_id));
      expect(beacon?.body).toMatchObject({ stage: 'lead', reference: 'R-out', clicks: { gclid: { value: 'G-out' } } });
    });
  }

  it('drops an event the collector rejects with 400', async () => {
    const { page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/');
    suite.server.setIngest({ kind: 'status', status: 400 });
    const { event_id } = await track(page, 'lead');
    await suite.server.waitForAttempts(1, byEvent(event_id));
    await settle();
    expect(await outbox(page)).not.toContain(event_id);

    suite.server.setIngest({ kind: 'ok' });
    await page.reload();
    await settle();
    expect(suite.server.attempts.filter(byEvent(event_id))).toHaveLength(1);
  });

  it('sends later events while an earlier request hangs', async () => {
    const { page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/');
    suite.server.setIngest({ kind: 'hang' });
    // Not awaited: the pixel's track() resolves only when the attempt is over.
    await page.evaluate(() => void (window as unknown as PruuvWindow).Pruuv.track('stuck'));
    await suite.server.waitForAttempts(1, (b) => b.body.stage === 'stuck');

    suite.server.setIngest({ kind: 'ok' });
    const { event_id } = await track(page, 'lead');
    await suite.server.waitForDelivered(1, byEvent(event_id));
  });

  it('keeps at most 50 events', async () => {
    const { page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/');
    suite.server.setIngest({ kind: 'status', status: 503 });
    const ids = await page.evaluate(async () => {
      const { Pruuv } = window as unknown as PruuvWindow;
      const sent = await Promise.all(Array.from({ length: 55 }, () => Pruuv.track('view')));
      return sent.map((r) => r.event_id);
    });
    await page.waitForFunction(
      ([key, all]) => all.filter((id) => (localStorage.getItem(key) ?? '').includes(id)).length >= 50,
      [OUTBOX, ids] as const,
    );
    await settle();

    const stored = await outbox(page);
    expect(ids.filter((id) => stored.includes(id)).length).toBe(50);
  });

  it('drops events older than 7 days', async () => {
    const { page } = await suite.open();
    await page.clock.setFixedTime(Date.now() - 8 * 86_400_000);
    await page.goto(suite.server.origin(SHOP) + '/');
    suite.server.setIngest({ kind: 'status', status: 503 });
    const { event_id } = await track(page, 'lead');
    await waitInOutbox(page, event_id);

    await page.clock.setFixedTime(Date.now());
    suite.server.setIngest({ kind: 'ok' });
    await page.reload();
    await settle();
    expect(suite.server.delivered.filter(byEvent(event_id))).toHaveLength(0);
    expect(await outbox(page)).not.toContain(event_id);
  });
});

describe('browser offline', () => {
  it('keeps the event and delivers it once when the browser is back online', async () => {
    const { context, page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + '/?gclid=G-offline');
    await context.setOffline(true);
    const { event_id } = await track(page, 'lead');
    await waitInOutbox(page, event_id);
    expect(suite.server.attempts).toHaveLength(0);

    await context.setOffline(false); // fires the window `online` event: no reload needed
    await expectDeliveredOnce(page, event_id);
  });
});
