/**
 * The test event of a connection (`domain/connection-test.ts`): each platform's
 * test mode comes from its adapter, a copy never leaves without it, and the
 * synthetic event passes the platform's pre-flight.
 */
import { checkEligibility } from '@pruuv/sender/platforms';
import { PLATFORM_IDS, type Connection } from '@pruuv/sender';
import { describe, expect, it } from 'vitest';
import { inTestMode, testConnection, testEvent, testModeOf } from '../src/domain/connection-test.js';
import { OperationError } from '../src/domain/operations.js';

const NOW = new Date('2026-11-20T10:00:00.000Z');

const CONNECTIONS: Record<string, Connection> = {
  meta: { platform: 'meta', pixel_id: '1', access_token: 't', dry_run: true },
  google: { platform: 'google', api: 'data-manager', customer_id: '1234567890', conversion_action_id: '2', client_id: 'c', client_secret: 's', refresh_token: 'r' },
  tiktok: { platform: 'tiktok', pixel_code: 'P', access_token: 't', test_event_code: 'STORED' },
  microsoft: {
    platform: 'microsoft',
    customer_id: '251000001',
    account_id: '180000001',
    goal_name: 'Offline purchases',
    enhanced_conversions: true,
    refresh_token: 'r',
    developer_token: 'd',
    client_id: 'c',
    client_secret: 's',
    dry_run: true,
  },
};

describe('connection test events', () => {
  const cases = [
    { platform: 'meta', mode: 'test-event-code' },
    { platform: 'google', mode: 'validate-only' },
    { platform: 'tiktok', mode: 'test-event-code' },
    { platform: 'microsoft', mode: 'unmatched-click' },
  ] as const;
  for (const { platform, mode } of cases) {
    it(`tests ${platform} with ${mode}`, () => {
      expect(testModeOf(platform)).toBe(mode);
      const connection = CONNECTIONS[platform]!;
      if (mode === 'validate-only') {
        expect(inTestMode(connection)).toBe(false);
        expect(testConnection(connection, undefined)).toMatchObject({ dry_run: true });
      } else if (mode === 'unmatched-click') {
        // The event is the test: a made-up click, no email or phone; never build-only (Microsoft must answer).
        const copy = testConnection(connection, undefined);
        expect(copy).toMatchObject({ dry_run: false });
        const { event } = testEvent(platform, 'cli_1', undefined, NOW);
        expect(inTestMode(copy)).toBe(false);
        expect(inTestMode(copy, event)).toBe(true);
        expect(inTestMode(copy, { ...event, email_sha256: 'a'.repeat(64) })).toBe(false);
        expect(inTestMode(copy, { ...event, phone_sha256: 'a'.repeat(64) })).toBe(false);
        expect(inTestMode(copy, { ...event, reference: 'crm-1' })).toBe(false);
        expect(inTestMode(copy, { ...event, clicks: { ...event.clicks, gclid: { value: 'Cj0' } } })).toBe(false);
      } else {
        // The typed code, never the stored one; never build-only (the platform must answer).
        expect(() => testConnection(connection, undefined)).toThrow(OperationError);
        expect(() => testConnection(connection, 'has space')).toThrow(/no spaces/);
        const copy = testConnection(connection, ' TEST123 ');
        expect(copy).toMatchObject({ test_event_code: 'TEST123', dry_run: false });
        expect(inTestMode(copy)).toBe(true);
        expect(inTestMode({ ...connection, test_event_code: undefined } as unknown as Connection)).toBe(false);
      }
      // The stored connection is left as it was.
      expect(CONNECTIONS[platform]).toEqual(connection);
    });
  }

  it('builds an event that passes every platform pre-flight, with a fresh id each time', () => {
    expect(PLATFORM_IDS.filter((p) => testModeOf(p) === 'none')).toEqual([]);
    for (const platform of PLATFORM_IDS) {
      const { event } = testEvent(platform, 'cli_1', undefined, NOW);
      const connection = testConnection(CONNECTIONS[platform]!, 'TEST1');
      expect(checkEligibility({ event, platform, connection, now: NOW }), platform).toMatchObject({ send: true });
      expect(testEvent(platform, 'cli_1', undefined, NOW).event.id).not.toBe(event.id);
    }
  });

  it('gives Microsoft a fresh well-formed msclkid that is no stored click, and no email or phone', () => {
    const clicks = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const { event } = testEvent('microsoft', 'cli_1', undefined, NOW);
      expect(Object.keys(event.clicks)).toEqual(['msclkid']);
      expect(event.clicks.msclkid?.value).toMatch(/^[0-9a-f]{32}$/);
      expect(event).not.toHaveProperty('email_sha256');
      clicks.add(event.clicks.msclkid!.value);
    }
    expect(clicks.size).toBe(3);
  });

  it("uses a stage's key and event-name overrides", () => {
    const stage = { id: 'stg_1', client_id: 'cli_1', key: 'sale', name: 'Sale', event_names: { meta: 'SubmitApplication' }, created_at: NOW.toISOString() };
    const { event, overrides } = testEvent('meta', 'cli_1', stage, NOW);
    expect(event).toMatchObject({ stage_id: 'stg_1', stage_key: 'sale', revenue_value: 1, currency: 'USD', consent: 'granted' });
    expect(overrides).toEqual({ meta_event_name: 'SubmitApplication' });
  });
});
