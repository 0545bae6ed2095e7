/**
 * TikTok's `user.external_id`: the lead reference as TikTok's Events API GTM
 * template hashes it (`hash(value, false)` in tiktok/gtm-template-eapi
 * `template.js`): trimmed, case KEPT, then SHA-256. A value that already is 64
 * hex characters (either case) is sent as it is. Pure.
 */
import { sha256Hex } from '../../hashing.js';

const SHA256 = /^[A-Fa-f0-9]{64}$/;

/**
 * The `user.external_id` of a reference, `undefined` when nothing is left.
 *
 * @example tiktokExternalId(' UserABC') // sha256('UserABC')
 */
export function tiktokExternalId(reference: string): string | undefined {
  const trimmed = reference.trim();
  if (trimmed === '') return undefined;
  return SHA256.test(trimmed) ? trimmed : sha256Hex(trimmed);
}
