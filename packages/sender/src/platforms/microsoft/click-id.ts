/**
 * The msclkid as Microsoft takes it: "a GUID and always 32 characters"
 * (microsoft-ads.md §3, MS-HELP). Captured from the landing URL it is already
 * that; from the UET cookie it carries a `_uet` prefix (`_uetmsclkid`), and in
 * UET beacons a `-0`/`-1` suffix: both are stripped (MS-HELP UET FAQ, Stape).
 * Pure, but for {@link unmatchedClickId}.
 */
import { randomBytes } from 'node:crypto';

/** 32 hex characters, or a hyphenated UUID (the fake accepts both, microsoft-ads.md §10). */
const MSCLKID = /^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$/;

/**
 * The msclkid to upload, `undefined` when the value is no msclkid at all.
 *
 * @example microsoftClickId('_uet9f223aca6be512d830005cea8c9d3b06-1') // '9f223aca6be512d830005cea8c9d3b06'
 */
export function microsoftClickId(raw: string): string | undefined {
  let value = raw.trim();
  if (value.startsWith('_uet')) value = value.slice(4);
  value = value.replace(/-[01]$/, '');
  return MSCLKID.test(value) ? value : undefined;
}

/**
 * A made-up msclkid for a test conversion: 32 random hex characters, well formed, so Microsoft
 * checks the credentials, developer token, customer and account ids and the goal (5606, 5615…)
 * as for a real upload, and belonging to no click (a chance of 2^-128 of hitting one), so Microsoft
 * takes it silently ("Click IDs that are … not associated with your account will still appear as
 * having been uploaded successfully", MS-HELP; NoMatchingClickFound, MS-DIAG) and counts nothing.
 * The test conversion carries no email or phone, so enhanced conversions cannot match it either.
 */
export function unmatchedClickId(): string {
  return randomBytes(16).toString('hex');
}
