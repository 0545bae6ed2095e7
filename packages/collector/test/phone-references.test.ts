/**
 * The phone rule against the platforms' own published test cases (issue 13,
 * item 8): Meta's parameter builder (`phoneUtil.test.js`), Google's Data Manager
 * formatter (`formatter.test.ts`) and TikTok's Events API template, transcribed
 * in `@pruuv/testkit/reference/*` with their sources and licences.
 *
 * Neither Meta's nor Google's utility checks a number: they keep whatever digits
 * they are given (`911`, `1`, a hash's digits, `555` numbers). Pruuv refuses, on
 * purpose, what cannot be a phone number: where a reference keeps digits and
 * Pruuv refuses the value, those digits are no valid E.164 number.
 */
import { GOOGLE_PHONE_CASES } from '@pruuv/testkit/reference/google-data-manager';
import { META_PHONE_CASES } from '@pruuv/testkit/reference/meta-param-builder';
import { TIKTOK_CLEANING_CASES } from '@pruuv/testkit/reference/tiktok-gtm-template';
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { toE164 } from '../src/domain/phone.js';

const PREHASHED = /^[a-f0-9]{64}$/i;

describe("Meta's phoneUtil cases (Meta hashes the digits without +)", () => {
  // Differs on purpose: an extension is not part of the number (libphonenumber drops it), where Meta keeps its digits.
  const EXTENSION = new Map([['+1-555-123-4567 ext. 123', '15551234567']]);
  for (const [input, expected] of META_PHONE_CASES) {
    // The builder passes a SHA-256 through as a pre-hashed phone: Pruuv takes those in `phone_sha256_meta`.
    if (PREHASHED.test(input.trim())) continue;
    it(`${JSON.stringify(input)} → ${JSON.stringify(EXTENSION.get(input) ?? expected)} or refused`, () => {
      const checked = toE164(input);
      if (checked.ok) expect(checked.e164.slice(1)).toBe(EXTENSION.get(input) ?? expected);
      else expect(expected === '' || !isValidPhoneNumber(`+${expected}`)).toBe(true);
    });
  }

  it("gives Meta's documented example with a US default country: (650)555-1212 → 16505551212", () => {
    const checked = toE164('(650)555-1212', { country: 'US' });
    expect(checked.ok && checked.e164.slice(1)).toBe('16505551212');
  });
});

describe("Google's Data Manager formatter cases", () => {
  for (const [input, expected] of GOOGLE_PHONE_CASES) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      const checked = toE164(input);
      expect(checked.ok ? checked.e164 : null).toBe(expected);
    });
  }
});

describe("TikTok's template cleaning case", () => {
  it('is refused on purpose: the template hashes the bare digits, TikTok documents E.164 with +, and +1231231234 is no number', () => {
    const row = TIKTOK_CLEANING_CASES.find((c) => c.field === 'phone')!;
    expect(toE164(row.input)).toEqual({ ok: false, reason: 'not_e164' });
    expect(toE164(row.input, { country: 'US' })).toEqual({ ok: false, reason: 'not_e164' });
  });
});
