/**
 * TikTok without a ttclid (issue 13, item 10): TikTok matches an event by its
 * hashed email or phone or the `_ttp` cookie too, and its own Events API template
 * sends events without a ttclid (gtm-template-eapi, scenario TestGA), as Segment
 * and RudderStack do. Pruuv sends them unless the connection's `match` is
 * `click-id-only`.
 */
import { TIKTOK_CONNECTION } from '../../src/platforms/tiktok/connection.js';
import { checkTikTok } from '../../src/platforms/tiktok/eligibility.js';
import { tiktokEvent } from '../../src/platforms/tiktok/request.js';
import type { ConversionEvent } from '../../src/types.js';
import { describe, expect, it } from 'vitest';
import { NOW, VECTORS, makeEvent, sha256, tiktokConnection } from '../helpers.js';

const noClick = (o: Partial<ConversionEvent> = {}) => makeEvent({ clicks: { gclid: { value: 'g' } }, ...o });

describe('TikTok without a ttclid', () => {
  const signals: Array<{ name: string; event: Partial<ConversionEvent> }> = [
    { name: 'a hashed email', event: { email_sha256: sha256('ada@example.com') } },
    { name: 'a hashed phone', event: { phone_sha256: VECTORS.tiktokPhone.hash } },
    { name: 'a _ttp cookie', event: { ttp: '01HZXYZ_ttp-cookie' } },
  ];
  for (const { name, event } of signals) {
    it(`sends an event with ${name} and no ttclid`, () => {
      const r = checkTikTok(noClick(event), tiktokConnection(), undefined, NOW);
      expect(r.send).toBe(true);
      if (!r.send) return;
      const user = tiktokEvent(r.plan).user;
      expect(user).not.toHaveProperty('ttclid');
      if (event.email_sha256) expect(user.email).toBe(event.email_sha256);
      if (event.phone_sha256) expect(user.phone).toBe(event.phone_sha256);
      if (event.ttp) expect(user.ttp).toBe(event.ttp);
    });

    it(`skips an event with ${name} and no ttclid when the connection is click-ID-only`, () => {
      const r = checkTikTok(noClick(event), tiktokConnection({ match: 'click-id-only' }), undefined, NOW);
      expect(r).toMatchObject({ send: false, reason: 'missing_click_id' });
      if (!r.send) expect(r.message).toMatch(/click-id-only/);
    });
  }

  it('skips an event with nothing TikTok can match on', () => {
    const r = checkTikTok(noClick({ client_ip: '203.0.113.9', user_agent: 'UA' }), tiktokConnection(), undefined, NOW);
    expect(r).toMatchObject({ send: false, reason: 'missing_click_id' });
    if (!r.send) expect(r.message).toMatch(/email, phone or _ttp/);
  });

  it('still sends the ttclid when there is one, whatever the setting', () => {
    for (const match of ['any', 'click-id-only'] as const) {
      const r = checkTikTok(makeEvent(), tiktokConnection({ match }), undefined, NOW);
      expect(r.send && tiktokEvent(r.plan).user.ttclid).toBe('E.C.P.tt-test');
    }
  });

  it('defaults to any: the match field is optional, and a choice shown by the CLI', () => {
    const field = TIKTOK_CONNECTION.fields.find((f) => f.name === 'match');
    expect(field).toMatchObject({ type: 'choice', choices: ['any', 'click-id-only'], required: false, default: 'any' });
    expect(TIKTOK_CONNECTION.schema.safeParse({ ...tiktokConnection(), match: undefined }).success).toBe(true);
  });
});

describe('TikTok and an email the collector refused', () => {
  it('skips with invalid_email when the refused email was all TikTok could have matched by', () => {
    const r = checkTikTok(noClick({ email_rejected: 'no_dot_in_domain' }), tiktokConnection(), undefined, NOW);
    expect(r).toMatchObject({ send: false, reason: 'invalid_email' });
    if (!r.send) expect(r.message).toMatch(/no_dot_in_domain/);
  });

  it('sends when something else matches, whatever became of the email', () => {
    const r = checkTikTok(noClick({ email_rejected: 'no_at', ttp: 'ttp-cookie' }), tiktokConnection(), undefined, NOW);
    expect(r.send).toBe(true);
  });

  it('gives the click-ID-only skip, not the email, on a click-ID-only connection', () => {
    const r = checkTikTok(noClick({ email_rejected: 'no_at' }), tiktokConnection({ match: 'click-id-only' }), undefined, NOW);
    expect(r).toMatchObject({ send: false, reason: 'missing_click_id' });
  });
});

describe('TikTok and a phone the collector refused', () => {
  it('skips with invalid_phone when the refused phone was all TikTok could have matched by', () => {
    const r = checkTikTok(noClick({ phone_rejected: 'not_e164' }), tiktokConnection(), undefined, NOW);
    expect(r).toMatchObject({ send: false, reason: 'invalid_phone' });
    if (!r.send) expect(r.message).toMatch(/E\.164/);
  });
});
