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
export const normalizeEmail = (input: string): string | undefined => {
  const email = input.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? email : undefined;
};

/**
 * Google's canonical form of a normalised email: for `gmail.com` and
 * `googlemail.com` only, every `.` and any `+tag` is removed from the local part
 * (google-data-manager.md §5: `cloudy.sanfrancisco+shopping@gmail.com` →
 * `cloudysanfrancisco@gmail.com`). Other domains are returned unchanged.
 */
export const googleEmail = (normalized: string): string => {
  // Greedy `(.*)@` ends at the last `@`; the domain must be exactly one of the two.
  // In the local part, `\+.*` takes the tag (dots in it included), `\.` every other dot.
  return normalized.replace(/^(.*)@(g(?:oogle)?mail\.com)$/, (_, local: string, domain: string) =>
    local.replace(/\+.*|\./g, '') + '@' + domain,
  );
};

/**
 * Normalises a phone number to E.164 with a leading `+` (Google: platforms.md §3.3;
 * TikTok: §4.2 `(+1)2133734253` → `+12133734253`).
 *
 * - A `+` before the first digit, or a leading `00`, marks an international number.
 *   A `(0)` trunk marker inside it is dropped: `+44 (0)20 7946 0018` → `+442079460018`.
 * - Otherwise the number is national: leading trunk zeros are dropped and
 *   `defaultCountryCode` (digits, e.g. `'44'`) is prepended. A national number whose
 *   digits already start with that code and run longer than 10 digits is taken as
 *   already international (`16505551212` with code `1`).
 * - Without a country code, or with fewer than 7 or more than 15 digits, returns `undefined`.
 *
 * Meta wants the same digits without the `+` (platforms.md §1.4): `e164.slice(1)`.
 */
export const normalizePhone = (input: string, defaultCountryCode?: string): string | undefined => {
  // `(0)` goes with the non-digits. In a national number it is the trunk zero, dropped below anyway.
  let digits = input.replace(/\(0\)|\D/g, '');
  const cc = (defaultCountryCode || '').replace(/\D/g, '');
  // Whitespace is not a digit, so trimming cannot change either test below.
  if (!/^\D*\+/.test(input)) {
    // No `+`: `00` starts an international number, anything else is national.
    digits = /^00/.test(digits)
      ? digits.slice(2)
      : cc && ((digits = digits.replace(/^0+/, '')).startsWith(cc) && digits[10] ? '' : cc) + digits;
  }
  // Leading zeros dropped, then 7 to 15 digits.
  const m = /^0*([1-9]\d{6,14})$/.exec(digits);
  return m ? '+' + m[1] : undefined;
};

/**
 * Lowercase hex SHA-256 of a UTF-8 string, with WebCrypto.
 * Rejects when WebCrypto is missing (insecure browser contexts): callers drop the field.
 */
export const sha256Hex = async (value: string): Promise<string> => {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
  // `b | 256` always has 3 hex digits: dropping the first zero-pads to 2.
  return [...new Uint8Array(digest)].map((b) => (b | 256).toString(16).slice(1)).join('');
};

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
export const hashIdentity = async (
  email: string | undefined,
  phone: string | undefined,
  defaultCountryCode?: string,
): Promise<HashedIdentity> => {
  const out: HashedIdentity = {};
  const em = email && normalizeEmail(email);
  const ph = phone && normalizePhone(phone, defaultCountryCode);
  if (em) {
    out.email_sha256 = await sha256Hex(em);
    const g = googleEmail(em);
    if (g != em) out.email_sha256_google = await sha256Hex(g);
  }
  if (ph) {
    out.phone_sha256 = await sha256Hex(ph);
    out.phone_sha256_meta = await sha256Hex(ph.slice(1));
  }
  return out;
};
