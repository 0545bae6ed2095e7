/**
 * Meta's `external_id`: the lead reference, normalised as Meta's parameter
 * builder does (`getNormalizedExternalID`, capi-param-builder
 * `nodejs/capi-param-builder/src/piiUtil/stringUtil.js`): every whitespace
 * character removed (not only at the ends), then lower-cased, then SHA-256.
 * A reference that already is a SHA-256 hex digest is sent as it is, lower-cased
 * (`PIIUtil.js`). Pure.
 */
import { sha256Hex } from '../../hashing.js';

const SHA256 = /^[a-f0-9]{64}$/i;

/**
 * The `user_data.external_id` of a reference, `undefined` when nothing is left.
 * Differs from the builder on purpose in one case: a 32-hex reference (an MD5 to
 * the builder, but also a UUID without hyphens) is hashed, never sent raw.
 *
 * @example metaExternalId(' USER 123 ') // sha256('user123')
 */
export function metaExternalId(reference: string): string | undefined {
  const trimmed = reference.trim();
  if (SHA256.test(trimmed)) return trimmed.toLowerCase();
  // JavaScript's \s is the builder's: Unicode spaces (U+00A0, U+3000…) and line breaks included.
  const normalized = reference.replace(/\s+/g, '').toLowerCase();
  return normalized === '' ? undefined : sha256Hex(normalized);
}
