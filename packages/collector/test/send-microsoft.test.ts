/**
 * Microsoft Advertising end to end: events with an msclkid, stored by the
 * collector, sent by real passes over a real SQLite file to the strict fake
 * Microsoft Advertising on 127.0.0.1 (microsoft-ads.md §4, §5, §9).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_DEFAULTS } from '@pruuv/fakes';
import { hashIdentity } from '../src/domain/identity.js';
import { auditRows, microsoftReceipts, outboxRow, sendEnv, type SendEnv } from './send-helpers.js';

const HOUR = 3_600_000;
let env: SendEnv | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const click = (): string => randomUUID().replace(/-/g, '');
const applies = (e: SendEnv) => e.fakes.requests('microsoftCampaign').filter((r) => r.path.endsWith('/OfflineConversions/Apply'));
type Body = { OfflineConversions: Array<Record<string, unknown>> };

function msEvent(e: SendEnv, source: 'webhook' | 'pixel', msclkid: string, clickAgoMs = 2 * HOUR) {
  const ts = new Date(e.clock.now().getTime() - clickAgoMs).toISOString();
  return e.addEvent({ source, clicks: { msclkid: { value: msclkid, ts } } });
}

describe('Microsoft: a pass', () => {
  it('delivers webhook and pixel conversions with an msclkid once, records them as accepted, and skips those without', async () => {
    env = await sendEnv({ connect: ['microsoft'] });
    const [a, b] = [click(), click()];
    const webhook = msEvent(env, 'webhook', a);
    const pixel = msEvent(env, 'pixel', b);
    const none = env.addEvent({ clicks: { gclid: { value: 'Cj0-no-msclkid' } } });
    const report = await env.pass();
    expect(report.platforms.microsoft).toMatchObject({ sent: 2, skipped: 1 });
    for (const [event, id] of [[webhook, a], [pixel, b]] as const) {
      expect(outboxRow(env.db, event.id, 'microsoft').status).toBe('sent');
      expect(auditRows(env.db, event.id, 'microsoft')[0]).toMatchObject({ status: 'sent', dedup_key: event.id, http_status: 200 });
      expect(String(auditRows(env.db, event.id, 'microsoft')[0]?.['message'])).toMatch(/^Accepted by Microsoft at upload .* not yet attributed/);
      expect(microsoftReceipts(env.fakes, id)).toEqual([1]);
    }
    expect(auditRows(env.db, none.id, 'microsoft')[0]).toMatchObject({ status: 'skipped', reason: 'missing_click_id' });
    // The conversion time is the stored event time, in UTC.
    expect((applies(env)[0]?.body as Body).OfflineConversions[0]?.['ConversionTime']).toBe(new Date(webhook.data_timestamp ?? webhook.received_at).toISOString());
  });

  it('stores the refresh token Microsoft rotated, encrypted, in place of the old one', async () => {
    env = await sendEnv({ connect: ['microsoft'] });
    msEvent(env, 'webhook', click());
    await env.pass();
    const stored = (await env.connections.load(env.client.id, 'microsoft', env.ring))?.connection as { refresh_token?: string } | undefined;
    expect(stored?.refresh_token).toBeDefined();
    expect(stored?.refresh_token).not.toBe(FAKE_DEFAULTS.microsoft.refreshToken);
    expect(env.fakes.microsoft.refreshTokenValid(stored?.refresh_token ?? '')).toBe(true);
    expect(JSON.stringify(env.db.prepare("SELECT * FROM connections WHERE platform = 'microsoft'").all())).not.toContain(stored?.refresh_token ?? '-');
    // The next pass refreshes with the new one.
    env.fakes.microsoft.revoke(FAKE_DEFAULTS.microsoft.refreshToken);
    env.clock.advance(2 * HOUR);
    msEvent(env, 'pixel', click());
    expect((await env.pass()).platforms.microsoft.sent).toBe(1);
  });

  it('sends Microsoft\'s email hash (dots and +alias removed) made from the webhook\'s raw address', async () => {
    env = await sendEnv({ connect: ['microsoft'] });
    const hashes = await hashIdentity('John.Doe+ads@Contoso.com', '+1 425 555 1234');
    expect(hashes.email_sha256_microsoft).toBe('7272c6a41efa18b518d5789e2336282715b23c50a51cc2890643bdaa97b96840');
    const id = click();
    env.addEvent({ clicks: { msclkid: { value: id, ts: new Date(env.clock.now().getTime() - 2 * HOUR).toISOString() } }, ...hashes });
    await env.pass();
    expect((applies(env)[0]?.body as Body).OfflineConversions[0]).toMatchObject({
      HashedEmailAddress: '7272c6a41efa18b518d5789e2336282715b23c50a51cc2890643bdaa97b96840',
      HashedPhoneNumber: 'c59475d96e9f01d7d18d06cfad84dd02333207f02c0c2c5663ef2782cda0390e',
    });
  });

  it('retries a 5612 in a later pass with the byte-identical conversion, counted once', async () => {
    env = await sendEnv({ connect: ['microsoft'] });
    const id = click();
    const event = msEvent(env, 'webhook', id);
    env.fakes.script('microsoftCampaign', [{ kind: 'microsoft-partial', indexes: [0], code: 5612 }]);
    await env.pass();
    const row = outboxRow(env.db, event.id, 'microsoft');
    expect(row).toMatchObject({ status: 'retrying', attempts: 1 });
    expect(auditRows(env.db, event.id, 'microsoft')[0]).toMatchObject({ reason: 'transient', error_code: '5612 OfflineConversionsApplyFailed' });
    env.clock.set(row.due_at);
    await env.pass();
    expect(outboxRow(env.db, event.id, 'microsoft')).toMatchObject({ status: 'sent', attempts: 2 });
    const [first, second] = applies(env).map((r) => JSON.stringify((r.body as Body).OfflineConversions[0]));
    expect(second).toBe(first);
    expect(microsoftReceipts(env.fakes, id)).toEqual([1]);
  });

  it('refreshes the token once on a 109 mid-pass and the pass goes on', async () => {
    env = await sendEnv({ connect: ['microsoft'] });
    const ids = [click(), click(), click(), click()];
    for (const id of ids) msEvent(env, 'webhook', id);
    let batches = 0;
    const report = await env.pass({
      claimLimit: 2,
      // Small claims: each Microsoft conversion goes in its own batch of the one pass.
      beforeCommit: (batch) => {
        if (batch.platform !== 'microsoft') return;
        batches += 1;
        if (batches === 1) env?.fakes.microsoft.expireAccessTokens();
      },
    });
    expect(batches).toBe(4);
    expect(report.platforms.microsoft.sent).toBe(4);
    expect(applies(env).map((r) => r.status)).toEqual([200, 401, 200, 200, 200]);
    expect(env.fakes.microsoft.refreshes()).toBe(2);
    for (const id of ids) expect(microsoftReceipts(env.fakes, id)).toEqual([1]);
  });

  it('holds a click under an hour old until the hour is over', async () => {
    env = await sendEnv({ connect: ['microsoft'] });
    const event = msEvent(env, 'pixel', click(), 20 * 60_000);
    await env.pass();
    const row = outboxRow(env.db, event.id, 'microsoft');
    expect(row.status).toBe('retrying');
    expect(auditRows(env.db, event.id, 'microsoft')[0]).toMatchObject({ reason: 'click_too_recent' });
    expect(applies(env)).toHaveLength(0);
    env.clock.set(row.due_at);
    await env.pass();
    expect(outboxRow(env.db, event.id, 'microsoft').status).toBe('sent');
  });

  it('pauses the connection with Microsoft\'s message when the grant is revoked, and holds the conversion', async () => {
    env = await sendEnv({ connect: ['microsoft'] });
    const event = msEvent(env, 'webhook', click());
    env.fakes.microsoft.revokeAll();
    const report = await env.pass();
    expect(report.paused).toMatchObject([{ platform: 'microsoft', reason: expect.stringContaining('AADSTS70000') }]);
    expect(outboxRow(env.db, event.id, 'microsoft')).toMatchObject({ status: 'retrying', first_attempt_at: null });
    const conn = env.db.prepare("SELECT status, status_reason FROM connections WHERE platform = 'microsoft'").get() as { status: string; status_reason: string };
    expect(conn.status).toBe('paused');
    expect(conn.status_reason).toContain('Reconnect the Microsoft Advertising account');
  });
});
