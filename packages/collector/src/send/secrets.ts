/**
 * The key ring that encrypts connection secrets at rest (the sender's
 * AES-256-GCM `crypto.ts`), read from `PRUUV_ENCRYPTION_KEY`, and the start-up
 * check that refuses to run with stored credentials it cannot open.
 */
import { ciphertextKeyId, KeyRingError, parseKeyRing, type KeyRing } from '@pruuv/sender';
import type { Store } from '../store/types.js';
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

/**
 * Refuses to start a sender (`serve`, `send`) that could not read the stored
 * credentials: secrets exist and no key is set, or a secret was encrypted with
 * a key that is not in the ring. Returns how many connections hold secrets.
 */
export async function checkStoredSecrets(store: Pick<Store, 'connections'>, ring: KeyRing | undefined): Promise<number> {
  const rows = await store.connections.ciphertexts();
  if (rows.length === 0) return 0;
  if (ring === undefined) {
    throw new EncryptionKeyError(
      `${rows.length} connection(s) have stored credentials but PRUUV_ENCRYPTION_KEY is not set, so they cannot be decrypted. Set it to the key they were stored with. ${KEY_HELP}`,
    );
  }
  const missing = new Set<string>();
  for (const { secrets } of rows) {
    const id = ciphertextKeyId(secrets);
    if (id === undefined || !ring.keys.has(id)) missing.add(id ?? 'unknown');
  }
  if (missing.size > 0) {
    throw new EncryptionKeyError(
      `Stored credentials were encrypted with key(s) ${[...missing].join(', ')}, which PRUUV_ENCRYPTION_KEY does not contain. Add the old key after the current one (comma-separated), then run \`pruuv keys rotate\`.`,
    );
  }
  return rows.length;
}
