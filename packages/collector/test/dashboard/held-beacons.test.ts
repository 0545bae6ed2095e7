/**
 * Held and throttled beacons on the dashboard: the overview's "needs action" shows them per
 * client in scope, the held events page lists them with their reason, and an admin or staff
 * member releases them (the next pass sends them); a client user sees them but cannot release.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PLATFORM_IDS } from '@pruuv/sender';
import { createApp } from '../../src/http/app.js';
import type { StoredEvent } from '../../src/store/types.js';
import { receipts, sendEnv, type SendEnv } from '../send-helpers.js';
import { addUser, browser, type Browser } from './helpers.js';

let env: SendEnv | undefined;
let server: Server | undefined;
afterEach(async () => {
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
  }
  server = undefined;
  await env?.close();
  env = undefined;
});

async function site(): Promise<{ env: SendEnv; admin: Browser; carl: Browser; bolt: Browser; held: StoredEvent[]; otherClient: string }> {
  env = await sendEnv({ connect: ['meta'] });
  const e = env;
  const app = createApp({ store: e.store, now: e.clock.now });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const other = await e.store.clients.create({ name: 'Bolt' });
  const held = [
    e.addEvent({ source: 'pixel', held_reason: 'bot_user_agent', user_agent: 'curl/8.5.0' }),
    e.addEvent({ source: 'pixel', held_reason: 'no_fetch_metadata', user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_3 like Mac OS X)' }),
  ];
  e.addEvent({ source: 'pixel' });
  await e.store.throttles.record(
    [
      { client_id: e.client.id, scope: 'address', count: 1040 },
      { client_id: other.id, scope: 'site', count: 7 },
    ],
    new Date(e.clock.now().getTime() - 3_600_000),
  );
  await addUser(e.store, 'ada@agency.example', 'admin');
  await addUser(e.store, 'carl@acme.example', 'client', e.client.id);
  await addUser(e.store, 'bea@bolt.example', 'client', other.id);
  const admin = browser(url);
  const carl = browser(url);
  const bolt = browser(url);
  await admin.signIn('ada@agency.example');
  await carl.signIn('carl@acme.example');
  await bolt.signIn('bea@bolt.example');
  return { env: e, admin, carl, bolt, held, otherClient: other.id };
}

const text = async (b: Browser, path: string): Promise<string> => {
  const res = await b.get(path);
  expect(res.status, path).toBe(200);
  return (await res.text()).replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
};

describe('held and throttled beacons on the dashboard', () => {
  it('shows them in the overview\'s needs action, per client in scope', async () => {
    const s = await site();
    const overview = await text(s.admin, '/dashboard');
    expect(overview).toMatch(/Acme: 2 pixel events are held since .* UTC: the beacons lacked a browser's signals/);
    expect(overview).toMatch(/Acme: 1,040 beacons were answered 429 since .* \(1,040 by the per-address limit, 0 by the site's budget\)/);
    expect(overview).toMatch(/Bolt: 7 beacons were answered 429/);
    expect(await (await s.admin.get('/dashboard')).text()).toContain(`href="/dashboard/events/held?client=${s.env.client.id}"`);
    const carls = await text(s.carl, '/dashboard');
    expect(carls).toMatch(/2 pixel events are held/);
    expect(carls).not.toContain('Bolt');
    const beas = await text(s.bolt, '/dashboard');
    expect(beas).not.toMatch(/held since/);
    expect(beas).toMatch(/7 beacons were answered 429/);
  });

  it('lists the held events with their reason and user agent; an admin releases them and the next pass sends them', async () => {
    const s = await site();
    const first = await s.env.pass();
    expect(first.claimed).toBe(PLATFORM_IDS.length); // the one event that passed: a row per platform
    for (const e of s.held) expect(receipts(s.env.fakes, 'meta', e.id)).toEqual([]);

    const list = await text(s.admin, `/dashboard/events/held?client=${s.env.client.id}`);
    expect(list).toContain('bot_user_agent');
    expect(list).toContain('curl/8.5.0');
    expect(list).toContain('no_fetch_metadata');
    expect(list).toContain('Release all 2 held events of this client');
    const detail = await text(s.admin, `/dashboard/events/${s.held[0]!.id}`);
    expect(detail).toContain('held: bot_user_agent');
    expect(detail).toContain('Release this event');

    await s.admin.get(`/dashboard/events/held?client=${s.env.client.id}`);
    const res = await s.admin.post('/dashboard/events/release', { client: s.env.client.id, back: `/dashboard/events/held?client=${s.env.client.id}` });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/dashboard/events/held?client=${s.env.client.id}&released=2`);
    expect(await text(s.admin, res.headers.get('location')!)).toContain('Released 2: their conversions go with the next send pass.');
    expect(await s.env.store.events.heldCounts()).toEqual([]);
    expect((await s.env.pass()).claimed).toBe(2 * PLATFORM_IDS.length);
    for (const e of s.held) expect(receipts(s.env.fakes, 'meta', e.id)).toEqual([1]);
    expect(await text(s.admin, '/dashboard')).not.toMatch(/pixel events? (is|are) held/);
  });

  it('lets a client user see its held events but not release them, and keeps other clients\' out of reach', async () => {
    const s = await site();
    const list = await text(s.carl, `/dashboard/events/held?client=${s.env.client.id}`);
    expect(list).toContain('bot_user_agent');
    expect(list).not.toContain('Release all');
    await s.carl.get(`/dashboard/events/${s.held[0]!.id}`);
    expect((await s.carl.post('/dashboard/events/release', { event_id: s.held[0]!.id })).status).toBe(403);
    expect((await s.bolt.get(`/dashboard/events/held?client=${s.env.client.id}`)).status).toBe(404);
    expect(await s.env.store.events.heldCounts()).toEqual([{ client_id: s.env.client.id, held: 2, oldest: s.held[0]!.received_at }]);
  });
});
