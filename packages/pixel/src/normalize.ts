/**
 * Normalisation and hashing of email and phone, shared by the browser pixel
 * and the collector (which hashes raw webhook values at ingest), so both sides
 * produce the same hashes. Pure functions plus WebCrypto, which browsers (in
 * secure contexts) and Node 20 both have as `globalThis.crypto.subtle`.
 */

/**
 * Trims and lower-cases an email, as Meta, TikTok and Google ask before hashing
 * (platforms.md §1.4, §4.2; google-data-manager.md §5).
 * Returns `undefined` when the value is not shaped like `local@domain.tld`.
 *
 * @example normalizeEmail(' John_Smith@gmail.com ') // 'john_smith@gmail.com'
 */
export function normalizeEmail(input: string): string | undefined {
  const email = input.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? email : undefined;
}

/**
 * Google's canonical form of a normalised email: for `gmail.com` and
 * `googlemail.com` only, every `.` and any `+tag` is removed from the local part
 * (google-data-manager.md §5: `cloudy.sanfrancisco+shopping@gmail.com` →
 * `cloudysanfrancisco@gmail.com`). Other domains are returned unchanged.
 */
export function googleEmail(normalized: string): string {
  // Greedy `(.*)@` ends at the last `@`; the domain must be exactly one of the two.
  return normalized.replace(/^(.*)@(g(?:oogle)?mail\.com)$/, (_, local: string, domain: string) =>
    local.replace(/\+.*/, '').replace(/\./g, '') + '@' + domain,
  );
}

/**
 * Normalises a phone number to E.164 with a leading `+` (Google: platforms.md §3.3;
 * TikTok: §4.2 `(+1)2133734253` → `+12133734253`).
 *
 * - A `+` before the first digit, or a leading `00`, marks an international number.
 * - Otherwise the number is national: leading trunk zeros are dropped and
 *   `defaultCountryCode` (digits, e.g. `'44'`) is prepended. A national number whose
 *   digits already start with that code and run longer than 10 digits is taken as
 *   already international (`16505551212` with code `1`).
 * - Without a country code, or with fewer than 7 or more than 15 digits, returns `undefined`.
 *
 * Meta wants the same digits without the `+` (platforms.md §1.4): `e164.slice(1)`.
 */
export function normalizePhone(input: string, defaultCountryCode?: string): string | undefined {
  let digits = input.replace(/\D/g, '');
  // Whitespace is not a digit, so trimming cannot change either test below.
  if (!/^\D*\+/.test(input)) {
    // No `+`: `00` starts an international number, anything else is national.
    if (/^00/.test(digits)) digits = digits.slice(2);
    else {
      const cc = (defaultCountryCode ?? '').replace(/\D/g, '');
      if (!cc) return undefined;
      digits = digits.replace(/^0+/, '');
      if (!(digits.startsWith(cc) && digits.length > 10)) digits = cc + digits;
    }
  }
  // Leading zeros dropped, then 7 to 15 digits.
  const m = /^0*([1-9]\d{6,14})$/.exec(digits);
  return m ? '+' + m[1] : undefined;
}

/**
 * Lowercase hex SHA-256 of a UTF-8 string, with WebCrypto.
 * Rejects when WebCrypto is missing (insecure browser contexts): callers drop the field.
 */
export async function sha256Hex(value: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
  // `b | 256` always has 3 hex digits: dropping the first zero-pads to 2.
  return [...new Uint8Array(digest)].map((b) => (b | 256).toString(16).slice(1)).join('');
}

/** The hashed identity fields of a payload (see `TrackPayload`). */
export interface HashedIdentity {
  email_sha256?: string;
  email_sha256_google?: string;
  phone_sha256?: string;
  phone_sha256_meta?: string;
}

/**
 * Normalises and hashes an email and a phone into the payload's hash fields.
 * Values that do not normalise are left out; nothing raw is ever returned.
 */
export async function hashIdentity(
  email: string | undefined,
  phone: string | undefined,
  defaultCountryCode?: string,
): Promise<HashedIdentity> {
  const out: HashedIdentity = {};
  const em = email && normalizeEmail(email);
  if (em) {
    out.email_sha256 = await sha256Hex(em);
    const g = googleEmail(em);
    if (g !== em) out.email_sha256_google = await sha256Hex(g);
  }
  const ph = phone && normalizePhone(phone, defaultCountryCode);
  if (ph) {
    out.phone_sha256 = await sha256Hex(ph);
    out.phone_sha256_meta = await sha256Hex(ph.slice(1));
  }
  return out;
}
