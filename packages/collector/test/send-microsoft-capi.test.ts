/**
 * Microsoft's UET Conversions API path end to end, on a real SQLite file and
 * a real PostgreSQL: events stored by the collector, sent by real passes to
 * the strict fake on 127.0.0.1 (microsoft-ads.md §8, §9). One path per
 * connection: a connection switched to the Conversions API sends nothing
 * through offline conversions.
 */
import { randomUUID } from 'node:crypto';
import { FAKE_DEFAULTS } from '@pruuv/fakes';
import { afterEach, describe, expect, it } from 'vitest';
import { openSendWorld, type SendWorld } from './helpers/engine-store.js';
import { AUDIT_EVENT_SQL, readAuditText } from '../src/store/audit-row.js';
import { FAKE_FIELDS, FAKE_MICROSOFT_APP } from './send-helpers.js';

const HOUR = 3_600_000;
const D = FAKE_DEFAULTS.microsoft;
const CAPI_FIELDS = { ...FAKE_FIELDS.microsoft, api: 'uet-capi', uet_tag_id: D.uetTagId, uet_api_token: D.uetTagToken };

type Env = SendWorld;

/** Microsoft's audit records of one event, as the store reads them (what each record would repeat is stored once: src/store/audit-row.ts). */
async function audits(env: Env, eventId: string): Promise<Array<Record<string, unknown>>> {
  const rows = await env.rows(
    `SELECT status, reason, message, http_status, dedup_key, platform, ${AUDIT_EVENT_SQL} AS event_id FROM send_attempts WHERE ${AUDIT_EVENT_SQL} = $1 AND platform = $2 ORDER BY id`,
    eventId,
    'microsoft',
  );
  return rows.map((r) => ({ ...r, ...readAuditText(r as Parameters<typeof readAuditText>[0]) }));
}

function open(engine: 'sqlite' | 'postgres'): Promise<Env> {
  return openSendWorld(engine, 'capi', {
    clicks: (ts) => ({ msclkid: { value: randomUUID().replace(/-/g, ''), ts } }),
    connectionDefaults: { microsoft: FAKE_MICROSOFT_APP },
  });
}

const capiKey = (eventId: string) => `${D.uetTagId}:lead:${eventId}`;

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`Microsoft UET Conversions API (${engine})`, () => {
    it('delivers a webhook and a pixel event with an msclkid to the tag exactly once, and nothing through offline conversions', async () => {
      env = await open(engine);
      await env.connections.set({ client_id: env.client.id, platform: 'microsoft', fields: CAPI_FIELDS }, env.ring);
      const webhook = await env.addEvent({ source: 'webhook', revenue_value: 120, currency: 'EUR' });
      const pixel = await env.addEvent({ source: 'pixel', client_ip: '203.0.113.9', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)' });
      const none = await env.addEvent({ clicks: {} });
      const report = await env.pass();
      expect(report.platforms.microsoft).toMatchObject({ sent: 2, skipped: 1 });
      for (const e of [webhook, pixel]) {
        expect(env.fakes.counted('microsoftCapi').get(capiKey(e.id))).toBe(1);
        const audit = (await audits(env, e.id))[0];
        expect(audit).toMatchObject({ status: 'sent', http_status: 200, dedup_key: e.id });
        expect(String(audit?.['message'])).toMatch(/^UET Conversions API: received by Microsoft/);
      }
      const [skipped] = await audits(env, none.id);
      expect(skipped).toMatchObject({ status: 'skipped', reason: 'missing_click_id' });
      const sent = env.fakes.microsoft.capiEvents().map((r) => r.event);
      expect(sent.find((x) => x['eventId'] === webhook.id)).toMatchObject({
        eventType: 'custom', eventName: 'lead', eventTime: Math.floor(Date.parse(webhook.received_at) / 1000), adStorageConsent: 'G',
        userData: { msclkid: webhook.clicks.msclkid?.value }, customData: { value: 120, currency: 'EUR', transactionId: webhook.id },
      });
      expect(sent.find((x) => x['eventId'] === pixel.id)).toMatchObject({ userData: { clientIpAddress: '203.0.113.9', clientUserAgent: 'Mozilla/5.0 (X11; Linux x86_64)' } });
      expect(env.fakes.counted('microsoft').size).toBe(0);
      expect(env.fakes.requests('microsoftCampaign')).toHaveLength(0);
      // A second pass sends nothing again.
      env.clock.advance(HOUR);
      await env.pass();
      expect(env.fakes.requests('microsoftCapi')).toHaveLength(1);
      // The tag's token is stored encrypted.
      expect(JSON.stringify(await env.rows("SELECT * FROM connections WHERE platform = 'microsoft'"))).not.toContain(D.uetTagToken);
    });

    it('sends through the Conversions API only once the connection is switched to it', async () => {
      env = await open(engine);
      await env.connections.set({ client_id: env.client.id, platform: 'microsoft', fields: FAKE_FIELDS.microsoft }, env.ring);
      const before = await env.addEvent();
      await env.pass();
      expect(env.fakes.counted('microsoft').size).toBe(1);
      await env.connections.set({ client_id: env.client.id, platform: 'microsoft', fields: CAPI_FIELDS }, env.ring);
      env.clock.advance(HOUR);
      const after = await env.addEvent();
      await env.pass();
      expect(env.fakes.counted('microsoft').size).toBe(1);
      expect([...env.fakes.counted('microsoftCapi').keys()]).toEqual([capiKey(after.id)]);
      expect(env.fakes.microsoft.capiEvents().some((r) => r.event['eventId'] === before.id)).toBe(false);
    });

    it('retries a 5xx with the same eventId, counted once, and pauses on a refused token until a new one is saved', async () => {
      env = await open(engine);
      await env.connections.set({ client_id: env.client.id, platform: 'microsoft', fields: CAPI_FIELDS }, env.ring);
      const event = await env.addEvent();
      env.fakes.script('microsoftCapi', [{ kind: 'status', status: 503 }]);
      await env.pass();
      const [row] = await env.rows('SELECT status, due_at FROM outbox WHERE event_id = $1 AND platform = $2', event.id, 'microsoft');
      expect(row?.['status']).toBe('retrying');
      // SQLite answers the due time as text, PostgreSQL as a Date.
      env.clock.set(new Date(row?.['due_at'] as string | Date).toISOString());
      await env.pass();
      expect(env.fakes.counted('microsoftCapi').get(capiKey(event.id))).toBe(1);
      const ids = env.fakes.requests('microsoftCapi').map((r) => (r.body as { data: Array<{ eventId: string }> }).data[0]?.eventId);
      expect(ids).toEqual([event.id, event.id]);

      await env.connections.set({ client_id: env.client.id, platform: 'microsoft', fields: { ...CAPI_FIELDS, uet_api_token: 'revoked' } }, env.ring);
      const held = await env.addEvent();
      const report = await env.pass();
      expect(report.paused).toMatchObject([{ platform: 'microsoft', reason: expect.stringContaining("The UET tag's Conversions API token was refused") }]);
      const [conn] = await env.rows("SELECT status FROM connections WHERE platform = 'microsoft'");
      expect(conn?.['status']).toBe('paused');
      await env.connections.set({ client_id: env.client.id, platform: 'microsoft', fields: CAPI_FIELDS }, env.ring);
      env.clock.advance(6 * HOUR);
      await env.pass();
      expect(env.fakes.counted('microsoftCapi').get(capiKey(held.id))).toBe(1);
    });
  });
}
