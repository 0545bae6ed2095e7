/**
 * What a page load costs the page, counted on the built script (issue 19): cookie
 * reads and writes, localStorage calls and random draws. A regression changes a count
 * and fails here; what they cost in time is measured by bench/pixel-load, never by a test.
 */
import { describe, expect, it } from 'vitest';
import { SHOP } from './chromium.js';
import { track, useSuite } from './harness.js';
import { installOpCounter, readOps } from './op-counts.js';

const suite = useSuite();
const LANDING = '/?fbclid=IwAR-cost&gclid=Cj0-cost&ttclid=E.C.P.cost&utm_source=facebook&utm_medium=paid';

describe('a first visit with click IDs, then track()', () => {
  it('reads the cookies once for the load (the probe\'s last read) and once for the event, writes each cookie once and the mirror once', async () => {
    const { context, page } = await suite.open();
    await installOpCounter(context);
    await page.goto(suite.server.origin(SHOP) + LANDING);
    await track(page, 'lead', { email: 'jo@example.com', phone: '+44 7700 900123' });
    await suite.server.waitForDelivered(1);
    const ops = await readOps(page);

    // Load: the probe on co.uk (refused) and on example.co.uk, whose read is the load's; track: the jar.
    expect(ops.cookieReads).toBe(3);
    // The probe (co.uk refused, example.co.uk accepted and removed), then each cookie once.
    expect(ops.cookiesWritten).toEqual(['_pruuv_t', '_pruuv_t', '_pruuv_t', '_pruuv_vid', '_fbp', '_fbc', '_pruuv']);
    // The mirror record, once for the whole load.
    expect(ops.storageWrites).toBe(1);
    // The outbox, read and cleared on every load.
    expect(ops.storageRemoves).toBe(1);
    // The mirror record (once per page) and the outbox.
    expect(ops.storageReads).toBe(2);
    // One fill per UUID (visitor id, event id), one draw for _fbp.
    expect([ops.getRandomValues, ops.randomUUID, ops.mathRandom]).toEqual([2, 0, 1]);
  });
});

describe('a return visit without parameters', () => {
  it('reads the cookies once, probes nothing and writes no cookie', async () => {
    const { context, page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + LANDING);
    await installOpCounter(context);
    await page.goto(suite.server.origin(SHOP) + '/');
    await page.waitForFunction(() => 'Pruuv' in window && typeof (window as unknown as { Pruuv: { v?: number } }).Pruuv.v === 'number');
    const ops = await readOps(page);

    expect(ops.cookieReads).toBe(1);
    expect(ops.storageReads).toBe(2);
    expect(ops.cookiesWritten).toEqual([]);
    expect(ops.storageWrites).toBe(0);
    expect(ops.storageRemoves).toBe(1);
    expect([ops.getRandomValues, ops.randomUUID, ops.mathRandom]).toEqual([0, 0, 0]);
  });
});

describe('a return visit with a new fbclid', () => {
  it('removes the old _fbc on every level of the host before writing the new one', async () => {
    const { context, page } = await suite.open();
    await page.goto(suite.server.origin(SHOP) + LANDING);
    await installOpCounter(context);
    await page.goto(suite.server.origin(SHOP) + '/?fbclid=IwAR-next');
    await page.waitForFunction(() => 'Pruuv' in window && typeof (window as unknown as { Pruuv: { v?: number } }).Pruuv.v === 'number');
    const ops = await readOps(page);

    expect(ops.cookieReads).toBe(1);
    // Host-only, then www.shop.example.co.uk, shop.example.co.uk, example.co.uk, co.uk, uk
    // (issue 13: a stale _fbc there would be read before ours); then the new _fbc and the state.
    expect(ops.cookiesWritten).toEqual([...Array<string>(6).fill('_fbc'), '_fbc', '_pruuv']);
    // The mirror record (read once, written once with the new _fbc and state) and the outbox.
    expect([ops.storageReads, ops.storageWrites, ops.storageRemoves]).toEqual([2, 1, 1]);
    expect([ops.getRandomValues, ops.randomUUID, ops.mathRandom]).toEqual([0, 0, 0]);
  });
});
