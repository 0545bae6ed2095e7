/**
 * The dashboard's Conversion sends pages over real HTTP, on a real SQLite file, with sends
 * made by real passes against the strict fake platforms: the audit log's columns, filters and
 * keyset pages, "retry now" (allowed, and refused by the dedup window), the preview of the next
 * pass against what that pass then does, the CSV export, and a client user kept to its own.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FAKE_DEFAULTS } from '@pruuv/fakes';
import { afterEach, describe, expect, it } from 'vitest';
import { noRowText } from '../../src/dashboard/pages/events.js';
import { createApp } from '../../src/http/app.js';
import { AUDIT_CLIENT_SQL, AUDIT_EVENT_SQL, AUDIT_PASS_SQL } from '../../src/store/audit-row.js';
import type { AuditRecord, Stage, StoredEvent } from '../../src/store/types.js';
import { auditRows, FAKE_FIELDS, outboxRow, receipts, sendEnv, type SendEnv } from '../send-helpers.js';
import { addUser, browser, type Browser } from './helpers.js';

const HOUR = 3_600_000;

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

interface Site {
  env: SendEnv;
  url: string;
  /** A second client, with a stage and a Meta connection. */
  other: { id: string; lead: Stage };
  otherEvent(): StoredEvent;
  admin: Browser;
  carl: Browser;
}

/** The send environment (client Acme connected to the three fakes), a second client, the dashboard on the same store, an admin and a client user of Acme signed in. */
async function site(options: Parameters<typeof sendEnv>[0] = {}): Promise<Site> {
  env = await sendEnv(options);
  const e = env;
  const app = createApp({ store: e.store, now: e.clock.now });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const otherClient = await e.store.clients.create({ name: 'Bolt' });
  const lead = (await e.store.stages.create({ client_id: otherClient.id, key: 'lead', name: 'Lead' })).stage;
  await e.connections.set({ client_id: otherClient.id, platform: 'meta', fields: FAKE_FIELDS.meta }, e.ring);
  await addUser(e.store, 'ada@agency.example', 'admin');
  await addUser(e.store, 'carl@acme.example', 'client', e.client.id);
  const admin = browser(url);
  expect((await admin.signIn('ada@agency.example')).status).toBe(303);
  const carl = browser(url);
  expect((await carl.signIn('carl@acme.example')).status).toBe(303);
  return {
    env: e,
    url,
    other: { id: otherClient.id, lead },
    otherEvent: () => e.addEvent({ client_id: otherClient.id, stage_id: lead.id, stage_key: lead.key }),
    admin,
    carl,
  };
}

async function page(b: Browser, path: string): Promise<{ status: number; html: string }> {
  const res = await b.get(path);
  return { status: res.status, html: await res.text() };
}

/** The attempt ids of a list page, in row order. */
const attemptIds = (html: string): number[] => [...html.matchAll(/<tr id="send-(\d+)"/g)].map((m) => Number(m[1]));

/** The row of one attempt. */
function attemptRow(html: string, id: number): string {
  const start = html.indexOf(`<tr id="send-${id}"`);
  return html.slice(start, html.indexOf('</tr>', start));
}

function pagerLink(html: string, rel: 'next' | 'prev'): string | undefined {
  return new RegExp(`<a href="([^"]+)" rel="${rel}"`).exec(html)?.[1]?.replace(/&amp;/g, '&');
}

/** Audit record ids, newest first (attempt time, then id), as the list orders them. */
function newestFirst(e: SendEnv, where = '1 = 1', params: unknown[] = []): number[] {
  return (e.db.prepare(`SELECT id FROM send_attempts WHERE ${where} ORDER BY attempted_at DESC, id DESC`).all(...params) as Array<{ id: number }>).map((r) => r.id);
}

function auditId(e: SendEnv, eventId: string, platform: string, status?: string): number {
  const rows = auditRows(e.db, eventId, platform as never).filter((r) => status === undefined || r['status'] === status);
  return Number(rows.at(-1)!['id']);
}

describe('GET /dashboard/sends', () => {
  it('lists every attempt with platform, status, reason, error code and message, HTTP status, request id, retries and next attempt', async () => {
    const s = await site();
    const bad = s.env.addEvent();
    s.env.fakes.script('meta', [{ kind: 'meta-error', code: 100, subcode: 2804050 }]);
    s.env.fakes.script('tiktok', [{ kind: 'status', status: 503 }]);
    await s.env.pass();
    const { status, html } = await page(s.admin, '/dashboard/sends');
    expect(status).toBe(200);
    const meta = attemptRow(html, auditId(s.env, bad.id, 'meta'));
    expect(meta).toContain('<span class="badge failed">failed</span>');
    expect(meta).toContain('<td>invalid_event</td>');
    expect(meta).toContain('<code>100/2804050</code>');
    expect(meta).toContain('<td class="wrap">Invalid parameter</td>');
    expect(meta).toContain('<td class="num">400</td>');
    expect(meta).toMatch(/<td class="wrap"><code>[A-Za-z0-9_-]+<\/code><\/td>/); // fbtrace_id
    expect(meta).toContain(`<a href="/dashboard/events/${bad.id}">`);
    const tiktok = attemptRow(html, auditId(s.env, bad.id, 'tiktok'));
    const due = outboxRow(s.env.db, bad.id, 'tiktok').due_at;
    expect(tiktok).toContain('<span class="badge retrying">retrying</span>');
    expect(tiktok).toContain('<td class="num">503</td>');
    expect(tiktok).toContain(`<time datetime="${due}">`);
    expect(attemptRow(html, auditId(s.env, bad.id, 'google'))).toContain('<span class="badge sent">sent</span>');

    // The retry's attempt counts what came before it.
    s.env.clock.set(due);
    await s.env.pass({ retriesOnly: true });
    const again = await page(s.admin, '/dashboard/sends?platform=tiktok');
    expect(attemptRow(again.html, auditId(s.env, bad.id, 'tiktok', 'sent'))).toMatch(/<td class="num">1<\/td>/);
  });

  it('labels the path of a Microsoft row: the UET Conversions API or offline conversions', async () => {
    const s = await site({
      connect: ['microsoft'],
      fields: { microsoft: { api: 'uet-capi', uet_tag_id: FAKE_DEFAULTS.microsoft.uetTagId, uet_api_token: FAKE_DEFAULTS.microsoft.uetTagToken } },
    });
    const click = { msclkid: { value: 'a'.repeat(32), ts: new Date(s.env.clock.now().getTime() - 2 * HOUR).toISOString() } };
    const viaCapi = s.env.addEvent({ clicks: click });
    await s.env.pass();
    await s.env.connections.set({ client_id: s.env.client.id, platform: 'microsoft', fields: { ...FAKE_FIELDS.microsoft, api: 'offline-conversions' } }, s.env.ring);
    const offline = s.env.addEvent({ clicks: { msclkid: { ...click.msclkid, value: 'b'.repeat(32) } } });
    await s.env.pass();
    const { html } = await page(s.admin, '/dashboard/sends?platform=microsoft');
    expect(attemptRow(html, auditId(s.env, viaCapi.id, 'microsoft'))).toContain('<td>microsoft<span class="muted"> (UET CAPI)</span></td>');
    expect(attemptRow(html, auditId(s.env, viaCapi.id, 'microsoft'))).toContain('UET Conversions API: received by Microsoft');
    expect(attemptRow(html, auditId(s.env, offline.id, 'microsoft'))).toContain('<td>microsoft<span class="muted"> (offline)</span></td>');
  });

  it('filters by client, platform, status, attempt days and event, and pages by keyset with no duplicate and no gap', async () => {
    const s = await site();
    // The second client's TikTok connection validates only: its records are skipped (dry_run).
    await s.env.connections.set({ client_id: s.other.id, platform: 'tiktok', fields: { ...FAKE_FIELDS.tiktok, dry_run: true } }, s.env.ring);
    for (let i = 0; i < 12; i++) s.env.addEvent();
    for (let i = 0; i < 4; i++) s.otherEvent();
    await s.env.pass();
    s.env.clock.advance(24 * HOUR);
    const late = s.env.addEvent({ consent: 'denied' });
    await s.env.pass();
    // A day later the session has been idle too long: sign in again.
    await s.admin.signIn('ada@agency.example');
    const a = s.env.client.id;
    const cases: Array<[string, number[]]> = [
      ['', newestFirst(s.env)],
      [`?client=${a}`, newestFirst(s.env, `${AUDIT_CLIENT_SQL} = ?`, [a])],
      [`?client=${s.other.id}`, newestFirst(s.env, `${AUDIT_CLIENT_SQL} = ?`, [s.other.id])],
      ['?platform=google', newestFirst(s.env, "platform = 'google'")],
      ['?status=skipped', newestFirst(s.env, "status = 'skipped'")],
      [`?client=${s.other.id}&status=skipped&platform=tiktok`, newestFirst(s.env, `${AUDIT_CLIENT_SQL} = ? AND status = 'skipped' AND platform = 'tiktok'`, [s.other.id])],
      [`?event=${late.id}`, newestFirst(s.env, `${AUDIT_EVENT_SQL} = ?`, [late.id])],
      ['?from=2026-11-21&to=2026-11-21', newestFirst(s.env, "attempted_at >= '2026-11-21'")],
      ['?to=2026-11-20', newestFirst(s.env, "attempted_at < '2026-11-21'")],
    ];
    for (const [query, expected] of cases) {
      expect(expected.length, query).toBeGreaterThan(0);
      const seen: number[] = [];
      let path: string | undefined = `/dashboard/sends${query}${query === '' ? '?' : '&'}limit=7`;
      let last = path;
      while (path !== undefined) {
        const { status, html } = await page(s.admin, path);
        expect(status, path).toBe(200);
        seen.push(...attemptIds(html));
        last = path;
        path = pagerLink(html, 'next');
      }
      expect(seen, query).toEqual(expected);
      const back: number[] = [];
      let prev: string | undefined = last;
      while (prev !== undefined) {
        const { html } = await page(s.admin, prev);
        back.unshift(...attemptIds(html));
        prev = pagerLink(html, 'prev');
      }
      expect(back, query).toEqual(expected);
    }
    for (const query of ['?platform=bing', '?status=lost', '?from=2026-13-01', '?after=1.x']) expect((await page(s.admin, `/dashboard/sends${query}`)).status, query).toBe(400);
    expect((await page(s.admin, '/dashboard/sends?client=cli_nope')).status).toBe(404);
  });
});

describe('POST /dashboard/sends/retry', () => {
  it('makes a failed send due now, records who asked and when, and the next pass sends it once', async () => {
    const s = await site({ connect: ['meta'] });
    const event = s.env.addEvent();
    s.env.fakes.script('meta', [{ kind: 'meta-error', code: 100, subcode: 2804050 }]);
    await s.env.pass();
    expect(outboxRow(s.env.db, event.id, 'meta')).toMatchObject({ status: 'failed', attempts: 1 });
    s.env.clock.advance(2 * HOUR);

    const list = await page(s.admin, '/dashboard/sends?status=failed');
    const row = attemptRow(list.html, auditId(s.env, event.id, 'meta'));
    const outboxId = outboxRow(s.env.db, event.id, 'meta').id;
    expect(row).toContain(`<input type="hidden" name="outbox_id" value="${outboxId}"/>`);
    expect(row).toContain('<input type="hidden" name="back" value="/dashboard/sends?status=failed"/>');
    expect(row).toContain('>Retry now</button>');

    const res = await s.admin.post('/dashboard/sends/retry', { outbox_id: String(outboxId), back: '/dashboard/sends?status=failed' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/dashboard/sends?status=failed&retried=${outboxId}`);
    const now = s.env.clock.now().toISOString();
    expect(outboxRow(s.env.db, event.id, 'meta')).toMatchObject({ status: 'retrying', due_at: now, attempts: 1, lease_owner: null });
    const [, request] = auditRows(s.env.db, event.id, 'meta');
    expect(request).toMatchObject({
      status: 'retrying',
      reason: 'retry_requested',
      attempted_at: now,
      next_attempt_at: now,
      retry_count: 1,
      dedup_key: event.id,
      batch_size: null,
      pass_id: null,
    });
    expect(String(request!['message'])).toContain('by ada@agency.example (admin)');
    const after = await page(s.admin, `/dashboard/sends?event=${event.id}&retried=${outboxId}`);
    expect(after.html).toContain('Retry requested: the send is due again now');
    expect(after.html).toContain('>retry requested</span>');
    expect(after.html).not.toContain('>Retry now</button>');

    // A second click changes nothing.
    expect((await s.admin.post('/dashboard/sends/retry', { outbox_id: String(outboxId) })).status).toBe(409);
    expect(auditRows(s.env.db, event.id, 'meta')).toHaveLength(2);
    // The next follow-up pass sends it, once.
    const report = await s.env.pass({ retriesOnly: true });
    expect(report.platforms.meta.sent).toBe(1);
    expect(outboxRow(s.env.db, event.id, 'meta')).toMatchObject({ status: 'sent', attempts: 2 });
    expect(receipts(s.env.fakes, 'meta', event.id)).toEqual([1]);
  });

  it('refuses a retry the platform’s dedup window no longer allows, and shows why instead of the button', async () => {
    const s = await site({ connect: ['meta', 'google'] });
    const event = s.env.addEvent();
    s.env.fakes.script('meta', [{ kind: 'meta-error', code: 100, subcode: 2804050 }]);
    s.env.fakes.script('dataManager', [{ kind: 'google-rpc', httpStatus: 400, status: 'INVALID_ARGUMENT' }]);
    await s.env.pass();
    expect(outboxRow(s.env.db, event.id, 'meta').status).toBe('failed');
    expect(outboxRow(s.env.db, event.id, 'google').status).toBe('failed');
    const metaRow = outboxRow(s.env.db, event.id, 'meta').id;
    const googleRow = outboxRow(s.env.db, event.id, 'google').id;

    // 46 h 59 min after the first attempt: still inside Meta's 48 h window less the 1 h margin.
    s.env.clock.advance(47 * HOUR - 60_000);
    await s.admin.signIn('ada@agency.example');
    let html = (await page(s.admin, '/dashboard/sends?status=failed')).html;
    expect(attemptRow(html, auditId(s.env, event.id, 'meta'))).toContain(`value="${metaRow}"`);

    // 47 h: the pass would mark it dead without sending, so the dashboard offers no retry.
    s.env.clock.advance(60_000);
    html = (await page(s.admin, '/dashboard/sends?status=failed')).html;
    const meta = attemptRow(html, auditId(s.env, event.id, 'meta'));
    expect(meta).not.toContain('Retry now');
    expect(meta).toContain('Not retryable: Not resent: the first attempt was more than 47 h ago, outside the platform\'s deduplication window');
    // Google deduplicates by order id without a window: it can still be sent again.
    expect(attemptRow(html, auditId(s.env, event.id, 'google'))).toContain(`value="${googleRow}"`);

    const refused = await s.admin.post('/dashboard/sends/retry', { outbox_id: String(metaRow) });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('Not retried: Not resent: the first attempt was more than 47 h ago');
    expect(outboxRow(s.env.db, event.id, 'meta').status).toBe('failed');
    expect(auditRows(s.env.db, event.id, 'meta')).toHaveLength(1);
    expect((await s.admin.post('/dashboard/sends/retry', { outbox_id: String(googleRow) })).status).toBe(303);
    expect((await s.admin.post('/dashboard/sends/retry', { outbox_id: '999999' })).status).toBe(404);
    expect((await s.admin.post('/dashboard/sends/retry', { outbox_id: 'x' })).status).toBe(400);
  });

  it('refuses a retry from another site or without the form’s CSRF token', async () => {
    const s = await site({ connect: ['meta'] });
    const event = s.env.addEvent();
    s.env.fakes.script('meta', [{ kind: 'meta-error', code: 100, subcode: 2804050 }]);
    await s.env.pass();
    await page(s.admin, '/dashboard/sends');
    const id = String(outboxRow(s.env.db, event.id, 'meta').id);
    expect((await s.admin.post('/dashboard/sends/retry', { outbox_id: id }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await s.admin.post('/dashboard/sends/retry', { outbox_id: id, _csrf: 'forged' })).status).toBe(403);
    expect(outboxRow(s.env.db, event.id, 'meta').status).toBe('failed');
  });
});

describe('GET /dashboard/events/:id after a pass', () => {
  it('says plainly that the client has no connection for a platform whose row the pass removed', async () => {
    const s = await site({ connect: ['meta'] });
    const event = s.env.addEvent();
    await s.env.pass();
    const { status, html } = await page(s.admin, `/dashboard/events/${event.id}`);
    expect(status).toBe(200);
    expect(html).toContain('<span class="badge sent">sent</span>');
    for (const platform of ['google', 'tiktok', 'microsoft'] as const) {
      expect(html).toContain(`<tr data-platform="${platform}">`);
      expect(html).toContain(noRowText(platform, false));
      expect(html).not.toContain(`/dashboard/sends?event=${event.id}&amp;platform=${platform}`);
    }
    expect(html.match(/<span class="badge skipped">no connection<\/span>/g)).toHaveLength(3);
    expect(noRowText('tiktok', false)).toBe('No connection: this client has no tiktok connection, so nothing is sent to tiktok and nothing is recorded. Connect it in Connections to send later conversions.');
    // Connected since: the page no longer says there is none, but why this conversion was not sent.
    await s.env.connections.set({ client_id: s.env.client.id, platform: 'tiktok', fields: FAKE_FIELDS.tiktok }, s.env.ring);
    const after = (await page(s.admin, `/dashboard/events/${event.id}`)).html;
    expect(after).toContain(noRowText('tiktok', true));
    expect(after).not.toContain(noRowText('tiktok', false));
    expect(noRowText('tiktok', true)).toMatch(/^Not sent: this client had no tiktok connection when this conversion was due/);
  });
});

describe('GET /dashboard/sends/preview', () => {
  it('says what the next pass would send, skip and give up, without sending, and the pass then does exactly that', async () => {
    const s = await site({ connect: ['meta', 'google'] });
    const full = s.env.addEvent();
    const denied = s.env.addEvent({ consent: 'denied' });
    const noGclid = s.env.addEvent({ clicks: { fbclid: { value: 'IwAR-only', ts: new Date(s.env.clock.now().getTime() - HOUR).toISOString() } } });
    // A Meta retry whose first attempt is now 47 h old: the pass gives it up before sending.
    const old = s.env.addEvent();
    s.env.fakes.script('meta', [{ kind: 'status', status: 500 }]);
    await s.env.pass();
    expect(outboxRow(s.env.db, old.id, 'meta').status).toBe('retrying');
    for (const e of [full, denied, noGclid]) s.env.db.prepare("UPDATE outbox SET status = 'pending', attempts = 0, first_attempt_at = NULL, finished_at = NULL WHERE event_id = ?").run(e.id);
    s.env.clock.advance(47 * HOUR);
    // Admitted since: its TikTok row is still there for the pass to remove (no TikTok connection).
    const unconnected = s.env.addEvent();
    await s.admin.signIn('ada@agency.example');
    const requestsBefore = s.env.fakes.requests().length;
    const outboxBefore = s.env.db.prepare('SELECT * FROM outbox ORDER BY id').all();

    const { status, html } = await page(s.admin, '/dashboard/sends/preview');
    expect(status).toBe(200);
    const items = [...html.matchAll(/<tr data-event="([^"]+)" data-platform="([^"]+)" data-action="([^"]+)"(?: data-reason="([^"]*)")?>/g)].map((m) => ({
      event: m[1]!,
      platform: m[2]!,
      action: m[3]!,
      reason: m[4] ?? '',
    }));
    // Nothing sent, nothing leased.
    expect(s.env.fakes.requests()).toHaveLength(requestsBefore);
    expect(s.env.db.prepare('SELECT * FROM outbox ORDER BY id').all()).toEqual(outboxBefore);
    const find = (event: StoredEvent, platform: string) => items.find((i) => i.event === event.id && i.platform === platform);
    expect(find(full, 'meta')).toMatchObject({ action: 'send' });
    expect(find(full, 'google')).toMatchObject({ action: 'send' });
    expect(find(full, 'tiktok')).toBeUndefined(); // removed by the first pass
    expect(find(unconnected, 'tiktok')).toMatchObject({ action: 'removed', reason: 'no_connection' });
    expect(find(unconnected, 'meta')).toMatchObject({ action: 'send' });
    expect(html).toContain('no connection: removed, not recorded');
    expect(find(denied, 'meta')).toMatchObject({ action: 'skipped', reason: 'consent_denied' });
    expect(find(noGclid, 'google')).toMatchObject({ action: 'skipped', reason: 'missing_click_id' });
    expect(find(old, 'meta')).toMatchObject({ action: 'dead', reason: 'dedup_window_passed' });
    expect(html).toContain('would be given up (dead)');

    const report = await s.env.pass();
    const done = s.env.db.prepare(`SELECT ${AUDIT_EVENT_SQL} AS event_id, platform, status, reason FROM send_attempts WHERE ${AUDIT_PASS_SQL} = ?`).all(report.pass_id) as Array<{ event_id: string; platform: string; status: string; reason: string | null }>;
    const removed = items.filter((i) => i.action === 'removed');
    expect(removed.length).toBeGreaterThan(0);
    expect(report.discarded).toBe(removed.length);
    expect(done).toHaveLength(items.length - removed.length);
    for (const item of removed) {
      expect(done.find((d) => d.event_id === item.event && d.platform === item.platform)).toBeUndefined();
      expect(s.env.db.prepare('SELECT 1 FROM outbox WHERE event_id = ? AND platform = ?').get(item.event, item.platform)).toBeUndefined();
    }
    for (const item of items.filter((i) => i.action !== 'removed')) {
      const attempt = done.find((d) => d.event_id === item.event && d.platform === item.platform);
      expect(attempt, `${item.event} ${item.platform}`).toBeDefined();
      expect(attempt!.status, `${item.platform} ${item.reason}`).toBe(item.action === 'send' ? 'sent' : item.action);
      if (item.action !== 'send') expect(attempt!.reason).toBe(item.reason);
    }
  });
});

describe('GET /dashboard/sends.csv', () => {
  it('streams the filtered rows as an attachment, quoted per RFC 4180 and safe from formula injection', async () => {
    const s = await site({ connect: ['meta'] });
    const event = s.env.addEvent({ reference: 'csv' });
    s.otherEvent();
    const now = s.env.clock.now();
    const [claim] = await s.env.store.outbox.claim({ owner: 'csv', now, cutoff: now, leaseUntil: new Date(now.getTime() + HOUR), limit: 10, retriesOnly: false }).then((c) => c.filter((r) => r.event_id === event.id && r.platform === 'meta'));
    const hostile: AuditRecord = {
      outbox_id: claim!.id,
      event_id: event.id,
      client_id: s.env.client.id,
      stage_id: s.env.lead.id,
      platform: 'meta',
      status: 'failed',
      reason: '-invalid',
      message: 'He said "no", then\nleft, again',
      error_code: '+100',
      error_message: '=HYPERLINK("http://evil.example","click")',
      http_status: 400,
      request_id: '@SUM(A1:A9)',
      dedup_key: event.id,
      batch_size: 1,
      retry_count: 0,
      attempted_at: now.toISOString(),
      dry_run: false,
      pass_id: '\t=cmd',
    };
    const XSS = '<script>alert(1)</script>';
    const html: AuditRecord = { ...hostile, platform: 'google', reason: XSS, message: XSS, error_code: XSS, error_message: `</td>${XSS}`, request_id: `"><img src=x>`, pass_id: XSS };
    await s.env.store.outbox.commit({ owner: 'csv', now, updates: [], records: [hostile as never, html as never] });
    await s.env.store.outbox.release({ owner: 'csv', ids: [claim!.id], now });
    await s.env.pass();

    const res = await s.admin.get(`/dashboard/sends.csv?client=${s.env.client.id}&platform=meta`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="pruuv-sends-\d{8}-\d{6}\.csv"$/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.text();
    const lines = body.split('\r\n');
    expect(lines[0]).toBe(
      'attempted_at,client_id,client_name,event_id,platform,status,dry_run,reason,error_code,error_message,message,http_status,request_id,retry_count,next_attempt_at,dedup_key,batch_size,connection_id,pass_id',
    );
    expect(body).toContain(
      `${now.toISOString()},${s.env.client.id},Acme,${event.id},meta,failed,false,'-invalid,'+100,"'=HYPERLINK(""http://evil.example"",""click"")","He said ""no"", then\nleft, again",400,'@SUM(A1:A9),0,,${event.id},1,,'\t=cmd\r\n`,
    );
    // The filters apply: Acme's Meta rows only (the hostile one and the pass's), nothing of Bolt.
    expect(body.split('\r\n').filter((l) => l !== '')).toHaveLength(3);
    expect(body).not.toContain(s.other.id);
    expect(body.endsWith('\r\n')).toBe(true);
    // The same hostile values in the page are text.
    const list = await page(s.admin, '/dashboard/sends');
    expect(list.html).not.toMatch(/<script>alert|<img|<\/td><script/);
    expect(list.html).toContain('&lt;script>alert(1)&lt;/script>');
  });
});

describe('a client user', () => {
  it('sees its own client’s sends only, cannot retry (403), and gets 404 for another client by id or by event, in the list, the preview and the export', async () => {
    const s = await site({ connect: ['meta'] });
    const own = s.env.addEvent();
    const theirs = s.otherEvent();
    s.env.fakes.script('meta', [{ kind: 'meta-error', code: 100, subcode: 2804050 }]);
    await s.env.pass();
    const ownRow = outboxRow(s.env.db, own.id, 'meta');
    const theirRow = outboxRow(s.env.db, theirs.id, 'meta');
    expect(ownRow.status === 'failed' || theirRow.status === 'failed').toBe(true);

    const list = await page(s.carl, '/dashboard/sends');
    expect(list.status).toBe(200);
    expect(attemptIds(list.html).sort()).toEqual(newestFirst(s.env, `${AUDIT_CLIENT_SQL} = ?`, [s.env.client.id]).sort());
    expect(list.html).not.toContain(theirs.id);
    expect(list.html).not.toContain('Bolt');
    expect(list.html).not.toContain('name="client"');
    expect(list.html).not.toContain('Retry now');
    for (const path of [`/dashboard/sends?client=${s.other.id}`, `/dashboard/sends?event=${theirs.id}`, `/dashboard/sends.csv?client=${s.other.id}`, `/dashboard/sends.csv?event=${theirs.id}`, `/dashboard/sends/preview?client=${s.other.id}`]) {
      const { status, html } = await page(s.carl, path);
      expect(status, path).toBe(404);
      expect(html).not.toContain(theirs.id);
    }
    for (const id of [ownRow.id, theirRow.id]) {
      const res = await s.carl.post('/dashboard/sends/retry', { outbox_id: String(id) });
      expect(res.status).toBe(403);
    }
    expect(outboxRow(s.env.db, own.id, 'meta').status).toBe(ownRow.status);
    expect(outboxRow(s.env.db, theirs.id, 'meta').status).toBe(theirRow.status);

    const csv = await (await s.carl.get('/dashboard/sends.csv')).text();
    expect(csv).toContain(own.id);
    expect(csv).not.toContain(theirs.id);
    expect(csv).not.toContain(s.other.id);

    // The preview: a new event of each client is due; Carl sees Acme's only.
    const ownNext = s.env.addEvent();
    const theirNext = s.otherEvent();
    const preview = (await page(s.carl, '/dashboard/sends/preview')).html;
    expect(preview).toContain(`data-event="${ownNext.id}"`);
    expect(preview).not.toContain(theirNext.id);
    const staff = (await page(s.admin, '/dashboard/sends/preview')).html;
    expect(staff).toContain(`data-event="${theirNext.id}"`);
  });
});
