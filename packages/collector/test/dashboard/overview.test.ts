/**
 * The overview over real HTTP on a real SQLite file: the figures it shows for
 * known events and sends (table, chart data, per platform, match quality), what
 * needs action, the send schedule, and scoping (a client user sees its own
 * client's figures and nothing of another's).
 */
import { randomUUID } from 'node:crypto';
import type { OutcomeStatus, Platform, SendRecord } from '@pruuv/sender';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client, NewEvent, Stage } from '../../src/store/types.js';
import { seedEvents, startCollector, tempDir, testClock, type Running } from '../helpers/harness.js';
import { addUser, browser, type Browser } from './helpers.js';

let dir: ReturnType<typeof tempDir>;
let run: Running;
let acme: Client;
let beta: Client;
let acmeLead: Stage;
let betaLead: Stage;
let signup: Stage;

const at = (iso: string): Date => new Date(iso);

function event(stage: Stage, fields: Partial<NewEvent> = {}): NewEvent {
  return {
    id: randomUUID(),
    client_id: stage.client_id,
    stage_id: stage.id,
    stage_key: stage.key,
    source: 'webhook',
    reference: randomUUID(),
    consent: 'granted',
    clicks: {},
    utm: {},
    demographics: {},
    ...fields,
  };
}

function admit(e: NewEvent, when: string): string {
  const admission = run.store.events.admitNow(e, at(when));
  if (admission.status !== 'stored') throw new Error(`not stored: ${admission.status}`);
  return e.id;
}

/** Sends: the outcome of each (event, platform), attempted at `when`, committed as a pass does. */
async function send(outcomes: Array<{ event: string; platform: Platform; status: OutcomeStatus }>, when: string): Promise<void> {
  const now = at(when);
  const claimed = await run.store.outbox.claim({ owner: 'test', now, cutoff: at('2100-01-01'), leaseUntil: at('2100-01-02'), limit: 10_000, retriesOnly: false });
  const records: SendRecord[] = [];
  const updates = [];
  for (const o of outcomes) {
    const row = claimed.find((c) => c.event_id === o.event && c.platform === o.platform)!;
    updates.push({ id: row.id, status: o.status, attempts: 1 });
    records.push({
      outbox_id: row.id,
      event_id: row.event_id,
      client_id: row.client_id,
      platform: row.platform,
      status: o.status,
      dedup_key: row.event_id,
      batch_size: outcomes.length,
      retry_count: 0,
      attempted_at: now.toISOString(),
      dry_run: false,
      pass_id: 'pass-test',
    });
  }
  await run.store.outbox.commit({ owner: 'test', now, updates, records });
  await run.store.outbox.release({ owner: 'test', ids: claimed.map((c) => c.id), now });
}

/** The text of each cell of each body row of the table with this id. */
function table(html: string, id: string, part: 'tbody' | 'tfoot' = 'tbody'): string[][] {
  const t = new RegExp(`<table id="${id}">([\\s\\S]*?)</table>`).exec(html);
  if (!t) throw new Error(`no table #${id}`);
  const body = new RegExp(`<${part}>([\\s\\S]*?)</${part}>`).exec(t[1]!)![1]!;
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) => cell[1]!.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim()),
  );
}

/** The chart's data, as dashboard.js reads it. */
function chartData(html: string): { utc: boolean; x: number[]; series: Array<{ label: string; values: number[] }> } {
  const block = /<script type="application\/json" id="overview-chart">([\s\S]*?)<\/script>/.exec(html)![1]!;
  return JSON.parse(block.replace(/&quot;/g, '"'));
}

async function signedIn(email: string): Promise<Browser> {
  const b = browser(run.url);
  expect((await b.signIn(email)).status).toBe(303);
  return b;
}

beforeEach(async () => {
  dir = tempDir();
  const clock = testClock('2026-02-20T08:00:00.000Z');
  run = await startCollector({ dbFile: `${dir.dir}/pruuv.db`, clock });
  const s = run.store;
  acme = await s.clients.create({ name: 'Acme' });
  // Created 10 days ago and never received an event: quiet.
  signup = (await s.stages.create({ client_id: acme.id, key: 'signup', name: 'Signup' })).stage;
  clock.set('2026-03-02T10:00:00.000Z');
  beta = await s.clients.create({ name: 'Beta' });
  acmeLead = (await s.stages.create({ client_id: acme.id, key: 'lead', name: 'Lead' })).stage;
  await s.stages.create({ client_id: acme.id, key: 'sale', name: 'Sale' }); // new, no events yet: not quiet
  betaLead = (await s.stages.create({ client_id: beta.id, key: 'lead', name: 'Beta lead' })).stage;

  // Acme: one event before the window, two on 2026-02-28, three today.
  const old = admit(event(acmeLead, { clicks: { gclid: { value: 'g0' } } }), '2026-01-15T10:00:00.000Z');
  const g1 = admit(event(acmeLead, { clicks: { gclid: { value: 'g1' } }, email_sha256: 'a'.repeat(64) }), '2026-02-28T10:00:00.000Z');
  const g2 = admit(event(acmeLead, { clicks: { gclid: { value: 'g2' } }, email_sha256: 'b'.repeat(64) }), '2026-02-28T11:00:00.000Z');
  const m = admit(event(acmeLead, { clicks: { fbclid: { value: 'f' } }, fbc: 'fb.1.1772000000000.f', fbp: 'fb.1.1772000000000.42', phone_sha256: 'c'.repeat(64) }), '2026-03-02T09:00:00.000Z');
  const t = admit(event(acmeLead, { clicks: { ttclid: { value: 't' } }, ttp: 'ttp-1' }), '2026-03-02T09:01:00.000Z');
  const none = admit(event(acmeLead), '2026-03-02T09:02:00.000Z');
  await send(['meta', 'google', 'tiktok'].map((platform) => ({ event: old, platform: platform as Platform, status: 'sent' as const })), '2026-01-15T12:00:00.000Z');
  await send(
    [
      { event: g1, platform: 'google', status: 'sent' },
      { event: g2, platform: 'google', status: 'sent' },
      { event: g1, platform: 'meta', status: 'skipped' },
      { event: g2, platform: 'meta', status: 'skipped' },
      { event: g1, platform: 'tiktok', status: 'skipped' },
      { event: g2, platform: 'tiktok', status: 'skipped' },
    ],
    '2026-02-28T12:00:00.000Z',
  );
  await send(
    [
      { event: m, platform: 'meta', status: 'sent' },
      { event: t, platform: 'meta', status: 'failed' },
      { event: none, platform: 'meta', status: 'dead' },
      { event: m, platform: 'google', status: 'skipped' },
      { event: t, platform: 'google', status: 'skipped' },
      { event: none, platform: 'google', status: 'skipped' },
      { event: t, platform: 'tiktok', status: 'sent' },
      { event: m, platform: 'tiktok', status: 'skipped' },
      { event: none, platform: 'tiktok', status: 'skipped' },
    ],
    '2026-03-02T09:30:00.000Z',
  );

  // Beta: 800 events in the last hour (80 % of its quota), two dead sends, and a paused Meta connection.
  clock.set('2026-03-02T09:20:00.000Z');
  seedEvents(run, betaLead, 800, 1000, 'beta');
  const betaEvents = await s.events.list({ client_id: beta.id, limit: 2 });
  await send(betaEvents.map((e) => ({ event: e.id, platform: 'meta' as const, status: 'dead' as const })), '2026-03-02T09:40:00.000Z');
  await s.connections.save({ id: 'con_beta_meta', client_id: beta.id, platform: 'meta', settings: {}, secrets: null, secret_names: [] }, at('2026-03-01T00:00:00.000Z'));
  await s.connections.pause('con_beta_meta', 'auth: 190 the access token has expired', at('2026-03-02T09:40:00.000Z'));
  await s.connections.save({ id: 'con_acme_meta', client_id: acme.id, platform: 'meta', settings: {}, secrets: null, secret_names: [] }, at('2026-03-01T00:00:00.000Z'));

  // The last scheduled pass.
  const slot = at('2026-03-02T03:00:00.000Z');
  await s.runs.claimSlot({ slot, owner: 'p1', trigger: 'schedule', now: slot });
  await s.runs.finishSlot({ slot, now: at('2026-03-02T03:00:07.000Z'), summary: { pass_id: 'p', claimed: 23, sent: 4, failed: 1, skipped: 9, retrying: 0, dead: 3, duration_ms: 7000 } });

  clock.set('2026-03-02T10:00:00.000Z');
  await addUser(s, 'ada@agency.example', 'admin');
  await addUser(s, 'cleo@acme.example', 'client', acme.id);
});
afterEach(async () => {
  await run.close();
  dir.cleanup();
});

const ACME_DAYS = {
  today: ['2026-03-02', '3', '2', '1', '5', '1'],
  feb28: ['2026-02-28', '2', '2', '0', '4', '0'],
  total: ['Total', '5', '4', '1', '9', '1'],
};

describe('overview', () => {
  describe('figures', () => {
    it('shows the last 30 UTC days of the first client: events received and conversions by outcome, in a table and in the chart data', async () => {
      const html = await (await (await signedIn('ada@agency.example')).get('/dashboard')).text();
      expect(html).toContain('Acme: the last 30 days');
      const rows = table(html, 'daily');
      expect(rows).toHaveLength(30);
      expect(rows[0]).toEqual(ACME_DAYS.today);
      expect(rows[1]).toEqual(['2026-03-01', '0', '0', '0', '0', '0']);
      expect(rows[2]).toEqual(ACME_DAYS.feb28);
      expect(rows[29]![0]).toBe('2026-02-01');
      expect(table(html, 'daily', 'tfoot')).toEqual([ACME_DAYS.total]);
      // The chart holds the same figures, oldest first, days as UTC midnights.
      const chart = chartData(html);
      expect(chart.utc).toBe(true);
      expect(chart.x).toHaveLength(30);
      expect(chart.x[29]).toBe(Date.parse('2026-03-02T00:00:00.000Z') / 1000);
      expect(chart.series.map((s) => [s.label, s.values.at(-1), s.values.at(-3)])).toEqual([
        ['Events received', 3, 2],
        ['Sent', 2, 2],
        ['Failed', 1, 0],
        ['Skipped', 5, 4],
        ['Dead', 1, 0],
      ]);
      expect(html).toMatch(/<div class="chart" data-chart="overview-chart" role="img" aria-label="[^"]+"><\/div>/);
      expect(html).toContain('/dashboard/assets/uplot-');
      // Nothing inline the CSP would refuse: the chart's data is a block browsers never run.
      expect(html).not.toMatch(/<script(?![^>]*\b(?:src=|type="application\/json"))[^>]*>/);
      expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/);
    });

    it('shows one platform on asking, and per platform with its connection', async () => {
      const b = await signedIn('ada@agency.example');
      const meta = await (await b.get(`/dashboard?client=${acme.id}&platform=meta`)).text();
      expect(table(meta, 'daily')[0]).toEqual(['2026-03-02', '3', '1', '1', '0', '1']);
      expect(table(meta, 'daily')[2]).toEqual(['2026-02-28', '2', '0', '0', '2', '0']);
      expect(table(meta, 'platforms')).toEqual([
        ['Meta', 'active', '1', '1', '2', '1', '0'],
        ['Google', 'none', '2', '0', '3', '0', '0'],
        ['TikTok', 'none', '1', '0', '4', '0', '0'],
        ['Microsoft', 'none', '0', '0', '0', '0', '0'],
      ]);
      expect((await b.get('/dashboard?platform=myspace')).status).toBe(400);
    });

    it("shows each platform's match-quality signals: its click IDs, its cookies, hashed email and phone", async () => {
      const html = await (await (await signedIn('ada@agency.example')).get('/dashboard')).text();
      expect(html).toContain('Share of the 5 events received in these days');
      expect(table(html, 'match-quality')).toEqual([
        ['Meta', '20 % (fbclid: 1)', '_fbc 20 % (1), _fbp 20 % (1)', '40 % (2)', '20 % (1)'],
        ['Google', '40 % (gclid, wbraid, gbraid: 2)', 'not used', '40 % (2)', '20 % (1)'],
        ['TikTok', '20 % (ttclid: 1)', '_ttp 20 % (1)', '40 % (2)', '20 % (1)'],
        ['Microsoft', '0 % (msclkid: 0)', 'not used', '40 % (2)', '20 % (1)'],
      ]);
    });

    it('shows the next scheduled pass and the last one with its counts', async () => {
      const html = await (await (await signedIn('ada@agency.example')).get('/dashboard')).text();
      expect(html).toContain('2026-03-03 03:00 UTC (in 17 h); schedule <code>0 3 * * *</code>');
      expect(html).toMatch(/slot 2026-03-02 03:00 UTC \(on schedule\): .*finished.* 2026-03-02 03:00:07 UTC; every client: 23 taken, 4 sent, 1 failed, 9 skipped, 0 to retry, 3 dead/);
    });
  });

  describe('needs action', () => {
    it('lists a paused connection, a stage near its hourly limit, a quiet stage and dead sends, across clients, with links', async () => {
      const html = await (await (await signedIn('ada@agency.example')).get('/dashboard')).text();
      const section = html.slice(html.indexOf('Needs action'), html.indexOf('id="figures"'));
      expect(section).toContain('<strong>Beta: Meta</strong> is paused: auth: 190 the access token has expired. 798 conversions wait for new credentials.');
      expect(section).toContain(`href="/dashboard/connections?client=${beta.id}"`);
      expect(section).toContain('<strong>Beta: Beta lead</strong> took 800 of its 1,000 events in the last hour');
      expect(section).toContain('<strong>Acme: Signup</strong> has had no event since it was created on 2026-02-20 08:00 UTC.');
      expect(section).toContain(`href="/dashboard/events?client=${acme.id}&amp;stage=${signup.id}"`);
      expect(section).toMatch(/<strong>Acme<\/strong>: 1 conversion send is dead since 2026-02-01/);
      expect(section).toContain(`href="/dashboard/sends?status=dead&amp;client=${acme.id}"`);
      expect(section).toMatch(/<strong>Beta<\/strong>: 2 conversion sends are dead since 2026-02-01/);
      expect(section).toContain(`href="/dashboard/sends?status=dead&amp;client=${beta.id}"`);
      // Neither a stage with recent events nor a stage created today.
      expect(section).not.toContain('Acme: Lead');
      expect(section).not.toContain('Acme: Sale');
      // No token item is made up while connections have no expiry to read.
      expect(section).not.toContain('token expires');
    });

    it('says so when nothing needs action', async () => {
      await run.close();
      dir.cleanup();
      dir = tempDir();
      // The demo sends at a fixed interval instead of a schedule.
      run = await startCollector({ dbFile: `${dir.dir}/empty.db`, app: { dashboard: { sendSchedule: { everyMs: 15_000 } } } });
      await addUser(run.store, 'ada@agency.example', 'admin');
      const html = await (await (await signedIn('ada@agency.example')).get('/dashboard')).text();
      expect(html).toContain('Nothing needs action.');
      expect(html).toContain('No clients yet. <a href="/dashboard/clients">Add the first one</a>');
      expect(html).toContain("every 15 s (the demo's interval; not a schedule)");
      expect(html).toContain('none has run yet');
    });
  });

  describe('scoping', () => {
    it("shows a client user its own client's figures and needs, and nothing of another client's", async () => {
      const b = await signedIn('cleo@acme.example');
      const res = await b.get('/dashboard');
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('Acme: the last 30 days');
      expect(table(html, 'daily')[0]).toEqual(ACME_DAYS.today);
      expect(table(html, 'daily', 'tfoot')).toEqual([ACME_DAYS.total]);
      // No client selector, no other client's name, needs or figures.
      expect(html).not.toContain('name="client"');
      expect(html).not.toContain('Beta');
      expect(html).not.toContain(beta.id);
      expect(html).toContain('<strong>Acme: Signup</strong>');
      expect(html).toContain(`href="/dashboard/sends?status=dead&amp;client=${acme.id}"`);
      // The last pass's counts cover every client: not shown to a client user.
      expect(html).not.toContain('every client:');
      expect(html).toContain('2026-03-02 03:00:07 UTC');
    });

    it("answers 404 for another client's figures, by query parameter", async () => {
      const b = await signedIn('cleo@acme.example');
      const other = await b.get(`/dashboard?client=${beta.id}`);
      expect(other.status).toBe(404);
      const html = await other.text();
      expect(html).toContain('There is no such client.');
      expect(html).not.toContain('Beta');
      expect((await b.get(`/dashboard?client=${beta.id}&platform=meta`)).status).toBe(404);
      expect((await b.get(`/dashboard?client=${acme.id}`)).status).toBe(200);
      // Staff may look at any client.
      const staff = await signedIn('ada@agency.example');
      const beta800 = await (await staff.get(`/dashboard?client=${beta.id}`)).text();
      expect(table(beta800, 'daily')[0]).toEqual(['2026-03-02', '800', '0', '0', '0', '2']);
      expect(beta800).toContain(`<option value="${beta.id}" selected>Beta</option>`);
    });
  });
});
