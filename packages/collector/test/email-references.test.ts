/**
 * The email rule against the platforms' own published test cases (issue 13,
 * item 7): Meta's parameter builder (`emailUtil.test.js`) and Google's Data
 * Manager formatter (`formatter.test.ts`), transcribed in
 * `@pruuv/testkit/reference/*` with their sources and licences. Where Pruuv
 * differs on purpose, the case is listed here with the reason.
 */
import { GOOGLE_EMAIL_CASES } from '@pruuv/testkit/reference/google-data-manager';
import { META_EMAIL_CASES } from '@pruuv/testkit/reference/meta-param-builder';
import { TIKTOK_CLEANING_CASES } from '@pruuv/testkit/reference/tiktok-gtm-template';
import { describe, expect, it } from 'vitest';
import { checkEmail } from '../src/domain/email.js';

const PREHASHED = /^[a-f0-9]{64}$/i;

describe("Meta's emailUtil cases", () => {
  for (const [input, expected] of META_EMAIL_CASES) {
    // The builder passes a SHA-256 through as a pre-hashed email: Pruuv takes those in `email_sha256`.
    if (PREHASHED.test(input.trim())) continue;
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      const checked = checkEmail(input);
      expect(checked.ok ? checked.email : null).toBe(expected);
    });
  }
});

describe("Google's Data Manager formatter cases", () => {
  // Differs on purpose: consecutive dots are not an address (RFC 5322 dot-atom, and Meta's builder
  // refuses them: `test..test@example.com` above), and one check must serve the one stored email.
  const REFUSED_ON_PURPOSE = new Set(['j.e.f..ferson.Loves.hiking@gmail.com']);
  for (const [input, expected] of GOOGLE_EMAIL_CASES) {
    const want = REFUSED_ON_PURPOSE.has(input) ? null : expected;
    it(`${JSON.stringify(input)} → ${JSON.stringify(want)} (Google's form)`, () => {
      const checked = checkEmail(input);
      expect(checked.ok ? checked.google : null).toBe(want);
    });
  }
});

describe("TikTok's template cleaning case", () => {
  it('trims and lower-cases as the template does', () => {
    const row = TIKTOK_CLEANING_CASES.find((c) => c.field === 'email')!;
    const checked = checkEmail(row.input);
    expect(checked.ok && checked.email).toBe(row.hashed);
  });
});
