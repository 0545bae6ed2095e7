/**
 * Password hashing with scrypt (`node:crypto`, no native add-on). Parameters
 * follow OWASP's Password Storage Cheat Sheet minimum for scrypt: N = 2^17,
 * r = 8, p = 1, that is 128 MiB and about 0.37 s per hash on the project's
 * 2-core VM. The cost is paid once per sign-in (sessions carry the rest), runs
 * on libuv's thread pool (the event loop keeps serving), and sign-ins are
 * throttled per account and per address, so an attacker cannot make the server
 * hash at will.
 *
 * Stored form: `scrypt$<log2 N>$<r>$<p>$<salt>$<key>` (salt and key base64url),
 * so the parameters can rise later: a hash made with weaker ones still verifies
 * and {@link needsRehash} says to replace it at the next sign-in.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** The current parameters. */
export const SCRYPT_PARAMS = { log2N: 17, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Shortest password accepted; long passphrases welcome (NIST SP 800-63B: no composition rules). */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest accepted: bounds the work one request can ask for. */
export const MAX_PASSWORD_LENGTH = 1024;

function scrypt(password: string, salt: Buffer, params: { log2N: number; r: number; p: number }): Promise<Buffer> {
  const N = 2 ** params.log2N;
  // maxmem must exceed 128 * N * r bytes (node's default is 32 MiB).
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r };
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFKC'), salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** Why a password is refused, or `undefined` when it is acceptable. */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `The password must have at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (length > MAX_PASSWORD_LENGTH) return `The password must have at most ${MAX_PASSWORD_LENGTH} characters.`;
  return undefined;
}

/** The stored form of a new password. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, SCRYPT_PARAMS);
  const { log2N, r, p } = SCRYPT_PARAMS;
  return `scrypt$${log2N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

interface Parsed {
  log2N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parse(stored: string): Parsed | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [log2N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  // Bounds: a stored value must never make a sign-in allocate without limit.
  if (![log2N, r, p].every(Number.isInteger) || log2N < 10 || log2N > 20 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const key = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || key.length !== KEY_BYTES) return undefined;
  return { log2N, r, p, salt, key };
}

/** Whether `password` matches the stored hash, in constant time. A malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (parsed === undefined || [...password].length > MAX_PASSWORD_LENGTH) return false;
  const key = await scrypt(password, parsed.salt, parsed);
  return timingSafeEqual(key, parsed.key);
}

/** Whether a stored hash was made with other parameters than today's. */
export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  return parsed === undefined || parsed.log2N !== SCRYPT_PARAMS.log2N || parsed.r !== SCRYPT_PARAMS.r || parsed.p !== SCRYPT_PARAMS.p;
}

/**
 * A hash of a random password with today's parameters: verified against when
 * an email is unknown, so a sign-in takes as long whether or not the account
 * exists.
 */
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(24).toString('base64url'));
  return decoy;
}
let decoy: Promise<string> | undefined;
