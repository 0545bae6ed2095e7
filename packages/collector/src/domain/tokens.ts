/**
 * Random identifiers and webhook tokens.
 *
 * Stage ids are part of the webhook URL, so they are random and unguessable
 * (`stg_` + 22 base62 characters ≈ 131 bits). Webhook tokens (`pwh_` + 40 base62
 * characters ≈ 238 bits) are stored only as their SHA-256: with that much
 * entropy a plain hash is enough, no slow KDF is needed (nothing to brute-force).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` characters drawn uniformly from base62 (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: bytes ≥ 248 would favour the first 8 characters.
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A new stage id: `stg_` + 22 base62 characters. */
export function newStageId(): string {
  return `stg_${randomBase62(22)}`;
}

/** A new client id: `cli_` + 16 base62 characters. */
export function newClientId(): string {
  return `cli_${randomBase62(16)}`;
}

/** A new public site key: `site_` + 16 base62 characters. Public (it is in the page), but not guessable. */
export function newSiteKey(): string {
  return `site_${randomBase62(16)}`;
}

/** A new webhook token: `pwh_` + 40 base62 characters. Shown once; store only {@link hashToken}. */
export function newWebhookToken(): string {
  return `pwh_${randomBase62(40)}`;
}

/**
 * A new event id: a UUID version 7 (RFC 9562 §5.7), 48 bits of Unix milliseconds then
 * 74 random bits. Ids of events stored in turn sort in turn, so the `events` primary key
 * and the outbox's `(event_id, platform)` index grow at their end instead of at a random
 * page each: about a third fewer bytes written per webhook event (bench/ingest.mjs).
 * Still a UUID to the platforms, which only use it as the dedup key. `nowMs` defaults to `Date.now()`.
 */
export function newEventId(nowMs: number = Date.now()): string {
  // The random bits come from randomUUID (a version 4 UUID: Node hands them out of a cached
  // batch, about ten times cheaper than randomBytes(16) per id): all but its first 48 bits and
  // its version digit, which become the time and the 7.
  const random = randomUUID();
  const time = (Math.max(0, Math.floor(nowMs)) % 2 ** 48).toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}

/** Lowercase hex SHA-256 of a token, the form tokens are stored in. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A hash no token has: compared against when the stage is unknown, so that costs the same time. */
export const UNKNOWN_TOKEN_HASH = '0'.repeat(64);

/**
 * Whether `token` hashes to `storedHash`, compared in constant time.
 * Both sides are 32-byte digests, so the comparison never leaks the length of the token.
 */
export function tokenMatches(token: string, storedHash: string): boolean {
  const given = createHash('sha256').update(token, 'utf8').digest();
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === given.length && timingSafeEqual(given, stored);
}
