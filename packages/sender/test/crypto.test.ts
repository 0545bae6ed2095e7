import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ciphertextKeyId, decryptSecret, encryptSecret, keyId, parseKeyRing, reencrypt } from '../src/crypto.js';
import { DecryptError, KeyRingError } from '../src/errors.js';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');

describe('parseKeyRing', () => {
  it('takes the first key as current', () => {
    const ring = parseKeyRing(`${k1}, ${k2}`);
    expect(ring.currentId).toBe(keyId(Buffer.from(k1, 'base64')));
    expect(ring.keys.size).toBe(2);
  });

  it('derives the key id from the first 8 hex of SHA-256(key)', () => {
    expect(keyId(Buffer.alloc(32))).toBe('66687aad');
  });

  const bad = [undefined, '', 'not-base64!', Buffer.alloc(16).toString('base64'), `${k1},${Buffer.alloc(31).toString('base64')}`];
  for (const value of bad) {
    it(`rejects ${JSON.stringify(value)} with the openssl hint`, () => {
      expect(() => parseKeyRing(value)).toThrow(KeyRingError);
      expect(() => parseKeyRing(value)).toThrow('generate one with: openssl rand -base64 32');
    });
  }
});

describe('encryptSecret / decryptSecret', () => {
  const ring = parseKeyRing(k1);

  it('round-trips', () => {
    const secret = 'EAAB…token-ümlaut-✓';
    expect(decryptSecret(encryptSecret(secret, ring), ring)).toBe(secret);
  });

  it('writes v1:<keyid>:<iv>:<tag>:<data> in base64url', () => {
    const c = encryptSecret('x', ring);
    expect(c).toMatch(/^v1:[0-9a-f]{8}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(ciphertextKeyId(c)).toBe(ring.currentId);
  });

  it('uses a fresh IV each time', () => {
    expect(encryptSecret('same', ring)).not.toBe(encryptSecret('same', ring));
  });

  const tamper: Array<{ name: string; edit: (parts: string[]) => void }> = [
    { name: 'the data', edit: (p) => (p[4] = flip(p[4] as string)) },
    { name: 'the tag', edit: (p) => (p[3] = flip(p[3] as string)) },
    { name: 'the IV', edit: (p) => (p[2] = flip(p[2] as string)) },
  ];
  for (const { name, edit } of tamper) {
    it(`detects tampering with ${name}`, () => {
      const parts = encryptSecret('secret value', ring).split(':');
      edit(parts);
      expect(() => decryptSecret(parts.join(':'), ring)).toThrow(DecryptError);
    });
  }

  it('detects a swapped key id header', () => {
    const both = parseKeyRing(`${k1},${k2}`);
    const parts = encryptSecret('secret', both).split(':');
    parts[1] = keyId(Buffer.from(k2, 'base64'));
    expect(() => decryptSecret(parts.join(':'), both)).toThrow(/failed authentication/);
  });

  it('names a missing key and how to fix it', () => {
    const c = encryptSecret('x', parseKeyRing(k2));
    expect(() => decryptSecret(c, ring)).toThrow(/not in PRUUV_ENCRYPTION_KEY; add that key after the current one/);
  });

  it('rejects a value in another format', () => {
    expect(() => decryptSecret('plain-token', ring)).toThrow(DecryptError);
  });
});

describe('reencrypt', () => {
  it('moves a secret to the new current key and keeps it readable', () => {
    const old = parseKeyRing(k1);
    const stored = encryptSecret('refresh-token', old);
    const rotated = parseKeyRing(`${k2},${k1}`);
    const moved = reencrypt(stored, rotated);
    expect(ciphertextKeyId(moved)).toBe(rotated.currentId);
    expect(decryptSecret(moved, parseKeyRing(k2))).toBe('refresh-token');
  });

  it('leaves a value already under the current key unchanged', () => {
    const ring = parseKeyRing(k1);
    const c = encryptSecret('x', ring);
    expect(reencrypt(c, ring)).toBe(c);
  });
});

function flip(b64: string): string {
  const buf = Buffer.from(b64, 'base64url');
  buf[0] = (buf[0] as number) ^ 0x01;
  return buf.toString('base64url');
}
