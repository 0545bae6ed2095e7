/**
 * Test cases of Google's Data Manager API Node utility, transcribed (inputs and
 * expected outputs only) from github.com/googleads/data-manager-node @ e7987f8
 * (2026-06-25), `util/test/formatter.test.ts` (`UserDataFormatter.formatEmailAddress`
 * and `formatPhoneNumber`). Copyright 2025 Google LLC, Apache License 2.0.
 *
 * Each row is [input, the formatter's output]; `null` means the formatter throws.
 */

/** `formatEmailAddress`: trimmed, lower-cased; for gmail.com and googlemail.com only, dots and `+tag` removed from the local part. */
export const GOOGLE_EMAIL_CASES: ReadonlyArray<readonly [string, string | null]> = [
  ['QuinnY@example.com', 'quinny@example.com'],
  ['QuinnY@EXAMPLE.com', 'quinny@example.com'],
  ['user.name+NYC@Example.com', 'user.name+nyc@example.com'],
  ['@example.com', null],
  ['quinn', null],
  ['jefferson.Loves.hiking@gmail.com', 'jeffersonloveshiking@gmail.com'],
  ['j.e.f..ferson.Loves.hiking@gmail.com', 'jeffersonloveshiking@gmail.com'],
  ['jefferson.Loves.hiking@googlemail.com', 'jeffersonloveshiking@googlemail.com'],
  ['Cloudy.SanFrancisco+shopping@gmail.com', 'cloudysanfrancisco@gmail.com'],
  ['Cloudy.SanFrancisco+shopping@googlemail.com', 'cloudysanfrancisco@googlemail.com'],
];

/** `formatPhoneNumber`: every non-digit removed, `+` prepended; no default country. */
export const GOOGLE_PHONE_CASES: ReadonlyArray<readonly [string, string | null]> = [
  ['1 800 555 0100', '+18005550100'],
  ['18005550100', '+18005550100'],
  ['+1 800-555-0100', '+18005550100'],
  ['441134960987', '+441134960987'],
  ['+441134960987', '+441134960987'],
  ['+44-113-496-0987', '+441134960987'],
  ['+abc-DEF', null],
  ['++++', null],
];
