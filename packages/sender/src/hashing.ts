/**
 * SHA-256 for the values the sender hashes itself (the lead reference sent as
 * `external_id`, each platform normalising it its own way in
 * `platforms/<name>/external-id.ts`; email and phone arrive already hashed from
 * the collector).
 */
import { createHash } from 'node:crypto';

/** Lower-case hex SHA-256 of a UTF-8 string. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
