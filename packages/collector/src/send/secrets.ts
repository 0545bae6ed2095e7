/**
 * The key ring that encrypts connection secrets at rest (the sender's
 * AES-256-GCM `crypto.ts`), read from `PRUUV_ENCRYPTION_KEY`. The start-up check
 * that refuses to run with stored credentials it cannot open is the sender's
 * (`checkStoredCredentials`), worded for operators by `sender.ts`.
 */
import { KeyRingError, parseKeyRing, type KeyRing } from '@pruuv/sender';
import { CollectorError } from '../errors.js';

/** How to make a key, appended to every key error. */
export const KEY_HELP =
  'Generate a key with `openssl rand -base64 32` and set PRUUV_ENCRYPTION_KEY to it (several keys, comma-separated, the first one current, rotate with `pruuv keys rotate`).';

/** `PRUUV_ENCRYPTION_KEY` is missing where it is needed, malformed, or lacks a key a stored secret was encrypted with. */
export class EncryptionKeyError extends CollectorError {
  override name = 'EncryptionKeyError';
}

/**
 * Reads the key ring from the variable's value; `undefined` when unset or
 * empty. Throws {@link EncryptionKeyError} (naming the variable and the fix)
 * when a key is malformed.
 */
export function readKeyRing(value: string | undefined): KeyRing | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  try {
    return parseKeyRing(value);
  } catch (error) {
    if (error instanceof KeyRingError) throw new EncryptionKeyError(error.message, { cause: error });
    throw error;
  }
}

/** Returns the key ring or throws {@link EncryptionKeyError} saying what needs it. */
export function requireKeyRing(ring: KeyRing | undefined, what: string): KeyRing {
  if (ring !== undefined) return ring;
  throw new EncryptionKeyError(`PRUUV_ENCRYPTION_KEY is not set; it is needed to ${what}. ${KEY_HELP}`);
}
