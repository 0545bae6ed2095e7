/**
 * Phone numbers at ingest: to E.164 (`+` and digits), the form Google and
 * TikTok hash (Meta hashes the same digits without the `+`), with the numbering
 * plans of libphonenumber-js (its `max` metadata: full per-country patterns).
 *
 * The rule, in order:
 * 1. A `+` before the first digit marks an international number: taken when its
 *    length is possible for its country code (`+44 7700 900123` → `+447700900123`;
 *    `(+1)2133734253` → `+12133734253`; leading zeros after the `+` dropped, as
 *    Meta's reference does: `+001 616 954 7888` → `+16169547888`).
 * 2. Without a `+`, the number is national only when a default country is
 *    given (the payload's `phone_country_code`, else the client's default
 *    country) and it is a valid number of that country: `020 7946 0958` with GB
 *    → `+442079460958`; `011 44 20 7946 0958` with US → `+442079460958` (the
 *    country's international prefix is understood).
 * 3. Otherwise its digits are taken as starting with a country code, as Meta's
 *    and Google's references do (digits only, no `+`: `441134960987` →
 *    `+441134960987`, `16505551212` with GB → `+16505551212`), when that makes a
 *    valid number.
 * 4. Else it cannot be made E.164 and is refused: `07700 900123` without a
 *    default country, `6505551212` with GB (neither a GB number nor `+65…`).
 * Pure.
 */
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from 'libphonenumber-js/max';

/** Why a value was not taken as a phone number. No part of the value is kept. */
export type PhoneRejection = 'no_digits' | 'not_e164';

/** A checked phone: E.164 with `+`, or why it was refused. */
export type PhoneCheck = { ok: true; e164: string } | { ok: false; reason: PhoneRejection };

/** The default country of a number written without `+`: a calling code (`44`) or an ISO 3166-1 alpha-2 country (`GB`). */
export interface PhoneDefault {
  callingCode?: string;
  country?: string;
}

/** Whether `code` is an ISO 3166-1 alpha-2 country (upper case) libphonenumber-js has a numbering plan for. */
export function isPhoneCountry(code: string): boolean {
  return /^[A-Z]{2}$/.test(code) && isSupportedCountry(code);
}

function parse(text: string, options?: Parameters<typeof parsePhoneNumberFromString>[1]): PhoneNumber | undefined {
  try {
    return parsePhoneNumberFromString(text, options);
  } catch {
    return undefined;
  }
}

/** Step 1: written with `+`. */
function international(input: string, digits: string): string | undefined {
  const parsed = parse(input);
  if (parsed?.isPossible()) return parsed.number;
  const stripped = parse(`+${digits.replace(/^0+/, '')}`);
  return stripped?.isPossible() ? stripped.number : undefined;
}

/** Step 2: national in the default country (its international prefix understood too). */
function national(input: string, fallback: PhoneDefault): string | undefined {
  const options = fallback.callingCode !== undefined
    ? { defaultCallingCode: fallback.callingCode }
    : fallback.country !== undefined
      ? { defaultCountry: fallback.country.toUpperCase() as CountryCode }
      : undefined;
  if (options === undefined) return undefined;
  const parsed = parse(input, options);
  return parsed?.isValid() ? parsed.number : undefined;
}

/** Step 3: the digits begin with a country code. */
function leadingCountryCode(digits: string): string | undefined {
  const parsed = parse(`+${digits.replace(/^0+/, '')}`);
  return parsed?.isValid() ? parsed.number : undefined;
}

/**
 * A raw phone number in E.164, or why it cannot be: see the module's rule.
 *
 * @example toE164('020 7946 0958', { country: 'GB' }) // { ok: true, e164: '+442079460958' }
 * @example toE164('07700 900123') // { ok: false, reason: 'not_e164' }
 */
export function toE164(input: string, fallback: PhoneDefault = {}): PhoneCheck {
  const digits = input.replace(/\D/g, '');
  if (digits === '') return { ok: false, reason: 'no_digits' };
  const e164 = /^\D*\+/.test(input) ? international(input, digits) : (national(input, fallback) ?? leadingCountryCode(digits));
  return e164 === undefined ? { ok: false, reason: 'not_e164' } : { ok: true, e164 };
}
