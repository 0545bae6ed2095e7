import { describe, expect, it } from 'vitest';
import { checkEligibility } from '../src/eligibility.js';
import { chooseGoogleClick } from '../src/platforms/google/eligibility.js';
import { buildFbc, parseFbc } from '../src/platforms/meta/eligibility.js';
import type { Connection, ConversionEvent, Platform } from '../src/types.js';
import { NOW, googleConnection, makeEvent, metaConnection, microsoftConnection, tiktokConnection } from './helpers.js';

const DAY = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const connections: Record<Platform, Connection> = {
  meta: metaConnection(),
  google: googleConnection(),
  tiktok: tiktokConnection(),
  microsoft: microsoftConnection(),
};

describe('checkEligibility skip reasons', () => {
  const cases: Array<{
    name: string;
    platform: Platform;
    event: Partial<ConversionEvent>;
    connection?: Connection | null;
    reason: string;
  }> = [
    { name: 'denied consent skips Meta', platform: 'meta', event: { consent: 'denied' }, reason: 'consent_denied' },
    { name: 'denied consent skips Google', platform: 'google', event: { consent: 'denied' }, reason: 'consent_denied' },
    { name: 'denied consent skips TikTok', platform: 'tiktok', event: { consent: 'denied' }, reason: 'consent_denied' },
    { name: 'no connection', platform: 'meta', event: {}, connection: null, reason: 'no_connection' },
    { name: 'Meta connection without pixel id', platform: 'meta', event: {}, connection: metaConnection({ pixel_id: '' }), reason: 'no_connection' },
    { name: 'Google connection without conversion action', platform: 'google', event: {}, connection: googleConnection({ conversion_action_id: '' }), reason: 'no_connection' },
    { name: 'TikTok connection without pixel code', platform: 'tiktok', event: {}, connection: tiktokConnection({ pixel_code: '' }), reason: 'no_connection' },
    { name: 'connection of another platform', platform: 'tiktok', event: {}, connection: metaConnection(), reason: 'no_connection' },
    { name: 'Meta without fbc or fbclid', platform: 'meta', event: { clicks: {} }, reason: 'missing_click_id' },
    { name: 'Meta malformed fbc and no fbclid', platform: 'meta', event: { clicks: {}, fbc: 'fb.1.notanumber.abc' }, reason: 'fbc_malformed' },
    { name: 'Meta event older than 7 days', platform: 'meta', event: { event_time: iso(NOW.getTime() - 7 * DAY - 1000), clicks: { fbclid: { value: 'abc' } } }, reason: 'event_too_old' },
    { name: 'Meta conversion before the click', platform: 'meta', event: { event_time: '2026-11-20T12:00:00.000Z' }, reason: 'conversion_before_click' },
    { name: 'Meta Purchase without value', platform: 'meta', event: { stage_key: 'sale', currency: 'EUR' }, reason: 'missing_value_currency' },
    { name: 'Meta Purchase without currency', platform: 'meta', event: { stage_key: 'sale', revenue_value: 10 }, reason: 'missing_value_currency' },
    { name: 'Google without click id', platform: 'google', event: { clicks: { fbclid: { value: 'x' } } }, reason: 'missing_click_id' },
    { name: 'Google with both braids and no gclid', platform: 'google', event: { clicks: { gbraid: { value: 'g' }, wbraid: { value: 'w' } } }, reason: 'gbraid_and_wbraid' },
    { name: 'Google click older than 90 days', platform: 'google', event: { clicks: { gclid: { value: 'g', ts: iso(NOW.getTime() - 91 * DAY) } } }, reason: 'click_too_old' },
    { name: 'Google conversion before the click', platform: 'google', event: { event_time: '2026-11-20T07:00:00.000Z' }, reason: 'conversion_before_click' },
    { name: 'TikTok without ttclid', platform: 'tiktok', event: { clicks: { gclid: { value: 'g' } } }, reason: 'missing_click_id' },
    { name: 'TikTok conversion before the click', platform: 'tiktok', event: { event_time: '2026-11-20T12:00:00.000Z' }, reason: 'conversion_before_click' },
  ];
  for (const c of cases) {
    it(`skips: ${c.name}`, () => {
      const connection = c.connection === null ? undefined : (c.connection ?? connections[c.platform]);
      const result = checkEligibility({ event: makeEvent(c.event), platform: c.platform, connection, now: NOW });
      expect(result.send).toBe(false);
      if (!result.send) {
        expect(result.reason).toBe(c.reason);
        expect(result.message.length).toBeGreaterThan(10);
      }
    });
  }

  const sends: Array<{ name: string; platform: Platform; event: Partial<ConversionEvent> }> = [
    { name: 'unspecified consent', platform: 'google', event: { consent: 'unspecified' } },
    { name: 'a Meta Purchase with value and currency', platform: 'meta', event: { stage_key: 'sale', revenue_value: 99.5, currency: 'EUR' } },
    { name: 'a click a few minutes after the conversion (clock skew)', platform: 'tiktok', event: { event_time: '2026-11-20T12:58:00.000Z' } },
    { name: 'a Meta event 6 days old', platform: 'meta', event: { event_time: iso(NOW.getTime() - 6 * DAY), clicks: { fbclid: { value: 'abc' } } } },
    { name: 'a Google braid alone', platform: 'google', event: { clicks: { wbraid: { value: 'w' } } } },
  ];
  for (const c of sends) {
    it(`sends ${c.name}`, () => {
      const result = checkEligibility({ event: makeEvent(c.event), platform: c.platform, connection: connections[c.platform], now: NOW });
      expect(result).toMatchObject({ send: true });
    });
  }
});

describe('Meta fbc', () => {
  const meta = (event: Partial<ConversionEvent>) => checkEligibility({ event: makeEvent(event), platform: 'meta', connection: metaConnection(), now: NOW });

  it('keeps a valid 5-segment fbc verbatim', () => {
    const fbc = 'fb.1.1763643600000.IwAR0AbCdEf.AQQCAQIB';
    expect(meta({ fbc })).toMatchObject({ send: true, plan: { fbc } });
  });

  it('builds fbc from the fbclid with subdomain index 1 and the first-seen time in ms', () => {
    const r = meta({ clicks: { fbclid: { value: 'IwAR0CaseKept', ts: '2026-11-20T13:00:00.000Z' } } });
    expect(r).toMatchObject({ send: true, plan: { fbc: `fb.1.${Date.parse('2026-11-20T13:00:00.000Z')}.IwAR0CaseKept` } });
  });

  it('rebuilds a malformed fbc from the stored fbclid', () => {
    const r = meta({ fbc: 'fb.x.y', clicks: { fbclid: { value: 'IwAR0Rebuilt', ts: '2026-11-20T13:00:00.000Z' } } });
    expect(r).toMatchObject({ send: true, plan: { fbc: `fb.1.${Date.parse('2026-11-20T13:00:00.000Z')}.IwAR0Rebuilt` } });
  });

  it('prefers a newer fbclid from the ledger over an older cookie', () => {
    const cookie = `fb.1.${Date.parse('2026-11-19T10:00:00.000Z')}.OldClick`;
    const r = meta({ fbc: cookie, clicks: { fbclid: { value: 'NewClick', ts: '2026-11-20T13:00:00.000Z' } } });
    expect(r).toMatchObject({ send: true, plan: { fbc: `fb.1.${Date.parse('2026-11-20T13:00:00.000Z')}.NewClick` } });
  });

  it('keeps the cookie when its fbclid equals the ledger one', () => {
    const cookie = `fb.2.${Date.parse('2026-11-20T12:59:00.000Z')}.SameClick`;
    expect(meta({ fbc: cookie, clicks: { fbclid: { value: 'SameClick', ts: '2026-11-20T13:00:00.000Z' } } })).toMatchObject({ plan: { fbc: cookie } });
  });

  it('uses the conversion time when the fbclid has no first-seen time', () => {
    const r = meta({ clicks: { fbclid: { value: 'NoTs' } } });
    expect(r).toMatchObject({ plan: { fbc: `fb.1.${Date.parse('2026-11-20T14:00:00.000Z')}.NoTs` } });
  });
});

describe('parseFbc', () => {
  const cases: Array<{ value: string; valid: boolean }> = [
    { value: 'fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890', valid: true },
    { value: 'fb.1.1596403881668.IwAR0.BA', valid: true },
    { value: 'fb.1.1596403881668.IwAR0.AQQCAQIB', valid: true },
    { value: 'fb.1.1596403881668.IwAR0.ZZ', valid: false },
    { value: 'fb.1.1596403881668', valid: false },
    { value: 'fx.1.1596403881668.IwAR0', valid: false },
    { value: 'fb.a.1596403881668.IwAR0', valid: false },
    { value: 'fb.1.1596403881668.', valid: false },
    { value: 'fb.1.2.3.4.5', valid: false },
  ];
  for (const { value, valid } of cases) {
    it(`${valid ? 'accepts' : 'rejects'} ${value}`, () => {
      expect(parseFbc(value) !== undefined).toBe(valid);
    });
  }

  it('reads the fbclid from segment 3, not after the last dot', () => {
    expect(parseFbc('fb.1.1596403881668.IwAR0Xy.AQQCAQIB')?.fbclid).toBe('IwAR0Xy');
  });

  it('round-trips buildFbc', () => {
    expect(parseFbc(buildFbc('AbC', 1700000000123))).toEqual({ subdomainIndex: 1, creationTime: 1700000000123, fbclid: 'AbC' });
  });
});

describe('chooseGoogleClick', () => {
  const cases: Array<{ name: string; clicks: ConversionEvent['clicks']; expected: string | undefined }> = [
    { name: 'gclid alone', clicks: { gclid: { value: 'G' } }, expected: 'gclid' },
    { name: 'the newest of gclid and wbraid', clicks: { gclid: { value: 'G', ts: '2026-11-01T00:00:00Z' }, wbraid: { value: 'W', ts: '2026-11-02T00:00:00Z' } }, expected: 'wbraid' },
    { name: 'gclid when times are unknown', clicks: { gclid: { value: 'G' }, gbraid: { value: 'B' } }, expected: 'gclid' },
    { name: 'a dated click over an undated one', clicks: { gclid: { value: 'G' }, gbraid: { value: 'B', ts: '2026-11-02T00:00:00Z' } }, expected: 'gbraid' },
    { name: 'gclid newer than both braids', clicks: { gclid: { value: 'G', ts: '2026-11-03T00:00:00Z' }, gbraid: { value: 'B', ts: '2026-11-01T00:00:00Z' }, wbraid: { value: 'W', ts: '2026-11-02T00:00:00Z' } }, expected: 'gclid' },
    { name: 'nothing', clicks: { ttclid: { value: 'T' } }, expected: undefined },
  ];
  for (const c of cases) {
    it(`chooses ${c.name}`, () => {
      const chosen = chooseGoogleClick(makeEvent({ clicks: c.clicks }));
      expect(typeof chosen === 'object' ? chosen.name : chosen).toBe(c.expected);
    });
  }
});

describe('Google conversion action', () => {
  it('uses the stage override over the connection action', () => {
    const r = checkEligibility({
      event: makeEvent(),
      platform: 'google',
      connection: googleConnection(),
      overrides: { google_conversion_action_id: '111' },
      now: NOW,
    });
    expect(r).toMatchObject({ send: true, plan: { conversion_action_id: '111' } });
  });
});
