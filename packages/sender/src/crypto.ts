/**
 * Encryption of stored secrets (access tokens, refresh tokens, client
 * secrets) with AES-256-GCM and a key ring read from `PRUUV_ENCRYPTION_KEY`.
 *
 * Ciphertext: `v1:<keyid>:<iv>:<tag>:<data>`, the last three base64url.
 * `keyid` is the first 8 hex characters of SHA-256(key), so a ciphertext names
 * the key that opens it and keys can be rotated: put the new key first, keep
 * the old ones after it, run `pruuv keys rotate` (which calls {@link reencrypt}),
 * then drop the old keys. The `v1:<keyid>` header is authenticated data, so it
 * cannot be swapped either.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { DecryptError, KeyRingError } from './errors.js';

/** Keys by id; the first is used to encrypt. */
export interface KeyRing {
  currentId: string;
  keys: ReadonlyMap<string, Buffer>;
}

const KEY_HELP = 'PRUUV_ENCRYPTION_KEY must be base64 of 32 bytes; generate one with: openssl rand -base64 32';
/** 96-bit IV, the size GCM is specified for (NIST SP 800-38D). */
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** First 8 hex characters of SHA-256(key). */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * Reads a key ring from `PRUUV_ENCRYPTION_KEY`: one or more base64 32-byte
 * keys, comma-separated, the first one current. Throws {@link KeyRingError}
 * with the fix when a key is missing or malformed.
 */
export function parseKeyRing(value: string | undefined): KeyRing {
  if (value === undefined || value.trim() === '') throw new KeyRingError(`PRUUV_ENCRYPTION_KEY is not set. ${KEY_HELP}`);
  const keys = new Map<string, Buffer>();
  let currentId: string | undefined;
  value.split(',').forEach((raw, position) => {
    const text = raw.trim();
    const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) {
      throw new KeyRingError(`Key ${position + 1} in PRUUV_ENCRYPTION_KEY is not valid (${key.length} bytes). ${KEY_HELP}`);
    }
    const id = keyId(key);
    if (!keys.has(id)) keys.set(id, key);
    currentId ??= id;
  });
  return { currentId: currentId as string, keys };
}

const b64u = (b: Buffer): string => b.toString('base64url');

/** Encrypts with the current key; a fresh random IV each time. */
export function encryptSecret(plaintext: string, ring: KeyRing): string {
  const key = ring.keys.get(ring.currentId) as Buffer;
  const iv = randomBytes(IV_BYTES);
  const header = `v1:${ring.currentId}`;
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(header, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${header}:${b64u(iv)}:${b64u(cipher.getAuthTag())}:${b64u(data)}`;
}

/** The key id a ciphertext was made with, or `undefined` when it is not a `v1` ciphertext. */
export function ciphertextKeyId(ciphertext: string): string | undefined {
  const m = /^v1:([0-9a-f]{8}):/.exec(ciphertext);
  return m ? m[1] : undefined;
}

/**
 * Decrypts with whichever key of the ring the ciphertext names. Throws
 * {@link DecryptError} for an unknown key, a malformed value, or data that
 * fails authentication (wrong key or tampering).
 */
export function decryptSecret(ciphertext: string, ring: KeyRing): string {
  const parts = ciphertext.split(':');
  if (parts.length !== 5 || parts[0] !== 'v1') throw new DecryptError('Stored secret is not in the v1:<keyid>:<iv>:<tag>:<data> format.');
  const [version, id, ivText, tagText, dataText] = parts as [string, string, string, string, string];
  const key = ring.keys.get(id);
  if (!key) {
    throw new DecryptError(
      `Stored secret was encrypted with key ${id}, which is not in PRUUV_ENCRYPTION_KEY; add that key after the current one.`,
    );
  }
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new DecryptError('Stored secret has a malformed IV or tag.');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(`${version}:${id}`, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(dataText, 'base64url')), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new DecryptError(`Stored secret failed authentication with key ${id} (tampered or corrupted).`, { cause: error });
  }
}

/**
 * Re-encrypts with the current key, for `pruuv keys rotate`. A value already
 * under the current key is returned unchanged, so rotation can be re-run.
 */
export function reencrypt(ciphertext: string, ring: KeyRing): string {
  if (ciphertextKeyId(ciphertext) === ring.currentId) {
    decryptSecret(ciphertext, ring); // still verify it opens
    return ciphertext;
  }
  return encryptSecret(decryptSecret(ciphertext, ring), ring);
}
