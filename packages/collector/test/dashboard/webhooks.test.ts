/**
 * The funnel webhooks page over real HTTP on a real SQLite file: adding a
 * stage, its token shown once and usable for a real webhook POST, rotation,
 * event-name overrides, the hourly count, escaping, and that it is admin and
 * staff only.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { postWebhook, seedClient, seedEvents, startCollector, tempDir, type Fixture, type Running } from '../helpers/harness.js';
import { addUser, browser, type Browser } from './helpers.js';
import { pageText, preText } from './page-text.js';

let dir: ReturnType<typeof tempDir>;
let run: Running;
let fx: Fixture;
/** Every log line of the app, at every level. */
let logs: string[];
beforeEach(async () => {
  dir = tempDir();
  logs = [];
  const logger = createLogger({ level: 'trace', pretty: false, destination: { write: (line: string) => void logs.push(line) } });
  run = await startCollector({ dbFile: `${dir.dir}/pruuv.db`, app: { publicUrl: 'https://collect.agency.example', logger } });
  fx = await seedClient(run.store);
});
afterEach(async () => {
  await run.close();
  dir.cleanup();
});

async function signedIn(role: 'admin' | 'staff' | 'client' = 'staff', clientId?: string): Promise<Browser> {
  const email = `${role}-${randomUUID()}@agency.example`;
  await addUser(run.store, email, role, clientId);
  const b = browser(run.url);
  await b.signIn(email);
  await b.get('/dashboard');
  return b;
}

const pagePath = () => `/dashboard/webhooks?client=${fx.client.id}`;
const TOKEN = /pwh_[0-9A-Za-z]{40}/g;

describe('funnel webhooks page', () => {
  it('lists the stages with their id and webhook URL, and never a token', async () => {
    const b = await signedIn();
    const res = await b.get(pagePath());
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const { stage } of [fx.lead, fx.sale]) {
      expect(preText(html, `stage-id-${stage.id}`)).toBe(stage.id);
      expect(preText(html, `stage-url-${stage.id}`)).toBe(`https://collect.agency.example/api/webhooks/funnel/${stage.id}`);
      expect(html).toContain(`data-copy="#stage-url-${stage.id}"`);
      expect(html).toMatch(new RegExp(`<form method="post" action="/dashboard/webhooks/${fx.client.id}/stages/${stage.id}/rotate"[^>]* data-confirm="Replace the webhook token of stage ${stage.key}\\?`));
    }
    expect(html).not.toMatch(TOKEN);
    expect(html).not.toContain(fx.lead.token);
    // Without a client in the URL: the first client.
    expect(await (await b.get('/dashboard/webhooks')).text()).toContain(fx.lead.stage.id);
  });

  it('adds a stage and shows its token once, in the POST answer, with a curl line; the token works for a real webhook POST', async () => {
    const b = await signedIn();
    const res = await b.post(`/dashboard/webhooks/${fx.client.id}/stages`, { key: 'demo-booked', name: 'Demo booked' });
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    const token = preText(html, 'new-token');
    expect(token).toMatch(/^pwh_[0-9A-Za-z]{40}$/);
    expect(html).toContain('data-copy="#new-token"');
    expect(pageText(html)).toContain('it is shown only this once');
    const stage = (await run.store.stages.byKey(fx.client.id, 'demo-booked'))!;
    const curl = preText(html, 'new-curl');
    expect(curl).toContain(`curl -X POST https://collect.agency.example/api/webhooks/funnel/${stage.id} -H "Authorization: Bearer ${token}"`);

    // The curl line's request, sent for real.
    const body = JSON.parse(/-d '(.*)'$/.exec(curl)![1]!) as Record<string, unknown>;
    const sent = await postWebhook(run, stage.id, token, body);
    expect(sent.status).toBe(200);
    expect(await sent.json()).toMatchObject({ received: true, event_id: expect.any(String) });

    // Never again: not on the next page, not in the stored row, not in a log line.
    expect(logs.join('')).toContain('dashboard: stage created');
    expect(logs.join('')).not.toContain(token);
    const later = await (await b.get(pagePath())).text();
    expect(later).not.toContain(token);
    expect(later).not.toMatch(TOKEN);
    expect(JSON.stringify(run.db.prepare('SELECT * FROM stages').all())).not.toContain(token);
    // The count of the last hour shows the event.
    expect(pageText(later)).toMatch(/Demo booked demo-booked .*1 of 1,000 events in the last hour/);
  });

  it('refuses a bad or taken key, keeping what was typed', async () => {
    const b = await signedIn();
    const bad = await b.post(`/dashboard/webhooks/${fx.client.id}/stages`, { key: 'Demo Booked', name: 'Demo' });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(pageText(html)).toContain('Stage key must be 1-64 characters');
    expect(html).toContain('value="Demo Booked"');
    const taken = await b.post(`/dashboard/webhooks/${fx.client.id}/stages`, { key: 'lead', name: 'Lead again' });
    expect(taken.status).toBe(400);
    expect(pageText(await taken.text())).toContain("already has a stage with key 'lead'");
    expect(await run.store.stages.list(fx.client.id)).toHaveLength(2);
  });

  it('rotates a token: the new one is shown once and works, the old one is refused', async () => {
    const b = await signedIn();
    const res = await b.post(`/dashboard/webhooks/${fx.client.id}/stages/${fx.lead.stage.id}/rotate`, {});
    expect(res.status).toBe(200);
    const html = await res.text();
    const token = preText(html, 'new-token');
    expect(token).not.toBe(fx.lead.token);
    expect(pageText(html)).toContain('The previous token no longer works.');
    expect((await postWebhook(run, fx.lead.stage.id, fx.lead.token, { reference: 'old-token' })).status).toBe(401);
    expect((await postWebhook(run, fx.lead.stage.id, token, { reference: 'new-token' })).status).toBe(200);
    expect(await (await b.get(pagePath())).text()).not.toContain(token);
    expect(logs.join('')).toContain('dashboard: webhook token rotated');
    expect(logs.join('')).not.toContain(token);
    // A stage of another client cannot be rotated through this client's path.
    const other = await seedClient(run.store);
    expect((await b.post(`/dashboard/webhooks/${fx.client.id}/stages/${other.lead.stage.id}/rotate`, {})).status).toBe(404);
    expect(await run.store.stages.verifyToken(other.lead.stage.id, other.lead.token)).toBe(true);
  });

  it("saves a stage's event-name overrides, refuses a bad one naming the field, and clears them when emptied", async () => {
    const b = await signedIn();
    const path = `/dashboard/webhooks/${fx.client.id}/stages/${fx.lead.stage.id}/events`;
    const html = pageText(await (await b.get(pagePath())).text());
    expect(html).toContain('Default: Lead (from the stage key)');
    expect(html).toContain('Default: Purchase (from the stage key)');
    const bad = await b.post(path, { meta: 'SubmitApplication', tiktok: '', google_conversion_action_id: 'AW-555' });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(pageText(badHtml)).toContain('Google conversion action id: must be the numeric conversion action id');
    expect(badHtml).toContain('value="AW-555"');
    expect((await run.store.stages.get(fx.lead.stage.id))?.event_names).toEqual({});

    const ok = await b.post(path, { meta: ' SubmitApplication ', tiktok: 'Contact', google_conversion_action_id: '555' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(`/dashboard/webhooks?client=${fx.client.id}&saved=1#stage-${fx.lead.stage.id}`);
    expect((await run.store.stages.get(fx.lead.stage.id))?.event_names).toEqual({ meta: 'SubmitApplication', tiktok: 'Contact', google_conversion_action_id: '555' });
    const page = await (await b.get(`${pagePath()}&saved=1`)).text();
    expect(page).toContain('value="SubmitApplication"');
    expect(pageText(page)).toContain('Event names saved.');

    expect((await b.post(path, { meta: '', tiktok: 'Contact', google_conversion_action_id: '' })).status).toBe(303);
    expect((await run.store.stages.get(fx.lead.stage.id))?.event_names).toEqual({ tiktok: 'Contact' });
  });

  it("counts each stage's events of the last hour against the 1,000 limit", async () => {
    const b = await signedIn();
    seedEvents(run, fx.lead.stage, 3, 0, 'old');
    run.clock.advance(61 * 60_000);
    seedEvents(run, fx.lead.stage, 5, 0, 'new');
    seedEvents(run, fx.sale.stage, 850, 0, 'sale');
    const html = await (await b.get(pagePath())).text();
    const text = pageText(html);
    expect(text).toMatch(/Lead lead .*5 of 1,000 events in the last hour Event names/);
    expect(text).toMatch(/Sale sale .*850 of 1,000 events in the last hour near the limit/);
    expect(html).toMatch(new RegExp(`<meter id="usage-${fx.sale.stage.id}" min="0" max="1000" high="800" optimum="0" value="850"`));
  });

  it('renders hostile stage and client names as text', async () => {
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    await run.store.clients.rename(fx.client.id, hostile);
    const b = await signedIn();
    const res = await b.post(`/dashboard/webhooks/${fx.client.id}/stages`, { key: 'evil', name: hostile });
    expect(res.status).toBe(200);
    for (const html of [await res.text(), await (await b.get(pagePath())).text()]) {
      expect(html).toContain('&lt;script>alert(1)&lt;/script>&lt;img src=x onerror=alert(2)>');
      expect(html).not.toContain('<script>alert(1)');
      expect(html).not.toMatch(/<img src=x/);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/\sstyle=/);
    }
  });
});

describe('funnel webhooks page for a client user', () => {
  it('is 404 (its own client included), every write 403, and nothing changes', async () => {
    const other = await seedClient(run.store);
    const b = await signedIn('client', fx.client.id);
    for (const path of ['/dashboard/webhooks', pagePath(), `/dashboard/webhooks?client=${other.client.id}`]) {
      const res = await b.get(path);
      expect(res.status, path).toBe(404);
      const html = await res.text();
      expect(html).not.toContain(fx.lead.stage.id);
      expect(html).not.toContain(other.lead.stage.id);
    }
    for (const client of [fx, other]) {
      const base = `/dashboard/webhooks/${client.client.id}/stages`;
      expect((await b.post(base, { key: 'mine', name: 'Mine' })).status).toBe(403);
      const rotated = await b.post(`${base}/${client.lead.stage.id}/rotate`, {});
      expect(rotated.status).toBe(403);
      expect(await rotated.text()).not.toMatch(TOKEN);
      expect((await b.post(`${base}/${client.lead.stage.id}/events`, { meta: 'X', tiktok: '', google_conversion_action_id: '' })).status).toBe(403);
    }
    expect(await run.store.stages.list()).toHaveLength(4);
    expect(await run.store.stages.verifyToken(fx.lead.stage.id, fx.lead.token)).toBe(true);
    expect(await run.store.stages.verifyToken(other.lead.stage.id, other.lead.token)).toBe(true);
    expect((await run.store.stages.get(fx.lead.stage.id))?.event_names).toEqual({});
    expect(await (await b.get('/dashboard/clients')).text()).not.toContain('href="/dashboard/webhooks"');
  });
});
