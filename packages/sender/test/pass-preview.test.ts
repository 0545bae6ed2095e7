/**
 * The preview of a pass: the checks a pass makes before any request, on the due rows, without
 * sending. The collector's dashboard test compares a preview with the pass that follows it,
 * against the fakes over HTTP.
 */
import { describe, expect, it } from 'vitest';
import type { ClaimedSend, LoadedEvent } from '../src/outbox-store.js';
import { previewPass } from '../src/pass-preview.js';
import type { Connection, Platform } from '../src/types.js';
import { googleConnection, makeEvent, metaConnection, NOW, tiktokConnection } from './helpers.js';

const HOUR = 3_600_000;

function claim(id: number, eventId: string, platform: Platform, o: Partial<ClaimedSend> = {}): ClaimedSend {
  return { id, event_id: eventId, client_id: 'cli_1', platform, status: 'pending', attempts: 0, due_at: NOW.toISOString(), ...o };
}

describe('previewPass', () => {
  const lead = makeEvent();
  const denied = makeEvent({ consent: 'denied' });
  const noGclid = makeEvent({ clicks: { fbclid: { value: 'IwAR0AbCdEf', ts: '2026-11-20T13:00:00.000Z' } } });
  const earlier = makeEvent();
  const events = new Map<string, LoadedEvent>([lead, denied, noGclid, earlier].map((e) => [e.id, { event: e }]));
  const connections: Partial<Record<Platform, Connection>> = { meta: metaConnection(), google: googleConnection({ dry_run: true }) };
  const cases: Array<{ name: string; claim: ClaimedSend; action: string; reason?: string }> = [
    { name: 'an eligible event is sent', claim: claim(1, lead.id, 'meta'), action: 'send' },
    { name: 'a validate-only connection builds and validates only', claim: claim(2, lead.id, 'google'), action: 'dry_run' },
    { name: 'a platform without a connection is removed, not recorded', claim: claim(3, lead.id, 'tiktok'), action: 'removed', reason: 'no_connection' },
    { name: 'denied consent is skipped on every platform', claim: claim(4, denied.id, 'meta'), action: 'skipped', reason: 'consent_denied' },
    { name: 'Google without a Google click ID is skipped', claim: claim(5, noGclid.id, 'google'), action: 'skipped', reason: 'missing_click_id' },
    { name: 'an event no longer stored is skipped', claim: claim(6, 'gone', 'meta'), action: 'skipped', reason: 'event_not_found' },
    {
      name: 'a Meta retry past the 48 h window (less the margin) is dead',
      claim: claim(7, lead.id, 'meta', { status: 'retrying', attempts: 3, first_attempt_at: new Date(NOW.getTime() - 47 * HOUR).toISOString() }),
      action: 'dead',
      reason: 'dedup_window_passed',
    },
    {
      name: 'a Meta retry inside the window is sent',
      claim: claim(8, earlier.id, 'meta', { status: 'retrying', attempts: 3, first_attempt_at: new Date(NOW.getTime() - 46 * HOUR).toISOString() }),
      action: 'send',
    },
    {
      name: 'a retry whose connection was deleted since is skipped, as its history stays',
      claim: claim(9, earlier.id, 'tiktok', { status: 'retrying', attempts: 1, first_attempt_at: new Date(NOW.getTime() - HOUR).toISOString() }),
      action: 'skipped',
      reason: 'no_connection',
    },
    { name: 'an event no longer stored on a platform without a connection is removed', claim: claim(10, 'gone', 'tiktok'), action: 'removed', reason: 'no_connection' },
  ];
  const items = previewPass({ claims: cases.map((c) => c.claim), events, connection: (_client, platform) => connections[platform], now: NOW });
  cases.forEach((c, i) => {
    it(c.name, () => {
      expect(items[i]!.claim).toBe(c.claim);
      expect({ action: items[i]!.action, reason: items[i]!.reason }).toEqual({ action: c.action, reason: c.reason });
      if (c.reason !== undefined) expect(items[i]!.message).toEqual(expect.any(String));
    });
  });

  it('keeps the claims in order and answers one item each', () => {
    expect(items.map((i) => i.claim.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(previewPass({ claims: [], events, connection: () => tiktokConnection(), now: NOW })).toEqual([]);
  });
});
