/**
 * Random identifiers in the shapes the platforms use. Only their form matters:
 * clients must treat them as opaque.
 */
import { randomBytes, randomUUID } from 'node:crypto';

/** Meta `fbtrace_id`: 23 base64url characters, like `A6UyEgg_HdoiRX9duxcBOjb` (platforms.md §1.7). */
export function fbtraceId(): string {
  return randomBytes(17).toString('base64url');
}

/** Google Ads `requestId` of a GoogleAdsFailure: 22 base64url characters. */
export function adsRequestId(): string {
  return randomBytes(16).toString('base64url');
}

/** Data Manager error request id, `t-<uuid>` as in the DM-ERR samples (google-data-manager.md §9). */
export function dataManagerErrorId(): string {
  return `t-${randomUUID()}`;
}

/** Data Manager success `requestId` (format UNCONFIRMED: a UUID, google-data-manager.md §6). */
export function dataManagerRequestId(): string {
  return randomUUID();
}

/** Google Ads server-generated `jobId`: in [2^31, 2^63 - 1], as a JSON string (int64, platforms.md §3.2). */
export function adsJobId(): string {
  const span = (1n << 63n) - (1n << 31n);
  const random = BigInt(`0x${randomBytes(8).toString('hex')}`) % span;
  return ((1n << 31n) + random).toString();
}

/** Google OAuth access token, `ya29.` like the real ones, marked fake. */
export function googleAccessToken(): string {
  return `ya29.fake-${randomBytes(24).toString('base64url')}`;
}

/** TikTok `request_id`: a UTC timestamp then hex, like `20231213123456...`. */
export function tiktokRequestId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${stamp}${randomBytes(9).toString('hex').toUpperCase()}`;
}
