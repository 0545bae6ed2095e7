/**
 * The one value the sender hashes itself: the lead reference sent as
 * `external_id` (email and phone arrive already hashed from the collector).
 */
import { createHash } from 'node:crypto';

/** Lower-case hex SHA-256 of a UTF-8 string. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * `external_id` for Meta and TikTok: SHA-256 of the trimmed, lower-cased
 * reference, as Meta's param builder normalises it (platforms.md §2.5:
 * `' USER_123 '` → `user_123` → `80fba0ae…ab8b`; TikTok's example hashes the
 * same string to the same digest, §4.2). Both sides must use one format so the
 * platform can join our events with its own (platforms.md §1.4).
 */
export function externalIdHash(reference: string): string {
  return sha256Hex(reference.trim().toLowerCase());
}
