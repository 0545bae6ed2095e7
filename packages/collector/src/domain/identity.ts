/**
 * A webhook's raw email and phone, checked, normalised and hashed at ingest:
 * the only form in which they are stored (raw PII never is). Each platform's
 * variant is its own hash, as the pixel sends them: `email_sha256` (Meta,
 * TikTok, the attribution join), `email_sha256_google` (Google's Gmail form,
 * when it differs), `email_sha256_microsoft` (Microsoft's form, when it differs), `phone_sha256` (E.164 with `+`: Google, TikTok) and
 * `phone_sha256_meta` (the digits without `+`: Meta). An email that is not an
 * address (email.ts) or a phone that cannot be made E.164 (phone.ts) is left
 * out, never hashed, and the reason is kept (`email_rejected`, `phone_rejected`)
 * so a send that had nothing else to match on says why.
 */
import { sha256Hex, type HashedIdentity } from '@pruuv/pixel';
import { microsoftEmail } from '@pruuv/sender/platforms';
import { checkEmail, type EmailRejection } from './email.js';
import { toE164, type PhoneDefault, type PhoneRejection } from './phone.js';

/** The hashes of a webhook's email and phone, and why a value was left out. */
export interface IdentityHashes extends HashedIdentity {
  /**
   * Microsoft's form (dots and `+alias` removed on every domain, microsoft-ads.md §3.1), when it
   * differs: made here, where the raw address is, rather than in the pixel, whose size budget it
   * would cost and whose conversions carry the msclkid Microsoft matches by first.
   */
  email_sha256_microsoft?: string;
  email_rejected?: EmailRejection;
  phone_rejected?: PhoneRejection;
}

async function emailHashes(raw: string): Promise<IdentityHashes> {
  const checked = checkEmail(raw);
  if (!checked.ok) return { email_rejected: checked.reason };
  const out: IdentityHashes = { email_sha256: await sha256Hex(checked.email) };
  if (checked.google !== checked.email) out.email_sha256_google = await sha256Hex(checked.google);
  const microsoft = microsoftEmail(checked.email);
  if (microsoft !== undefined && microsoft !== checked.email) out.email_sha256_microsoft = await sha256Hex(microsoft);
  return out;
}

async function phoneHashes(raw: string, fallback: PhoneDefault): Promise<IdentityHashes> {
  const checked = toE164(raw, fallback);
  if (!checked.ok) return { phone_rejected: checked.reason };
  return { phone_sha256: await sha256Hex(checked.e164), phone_sha256_meta: await sha256Hex(checked.e164.slice(1)) };
}

/** Checks, normalises and hashes a raw email and phone; nothing raw is returned. */
export async function hashIdentity(email: string | undefined, phone: string | undefined, fallback: PhoneDefault = {}): Promise<IdentityHashes> {
  return {
    ...(email === undefined ? {} : await emailHashes(email)),
    ...(phone === undefined ? {} : await phoneHashes(phone, fallback)),
  };
}
