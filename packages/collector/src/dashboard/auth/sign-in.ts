/**
 * Sign-in: email and password against the stored scrypt hash, throttled per
 * account and per address across every collector process (failures are counted
 * in the database, by the SHA-256 of the account or the address). An unknown
 * email costs the same scrypt as a known one, and both answer the same.
 */
import { createHash } from 'node:crypto';
import type { Store, UserRecord } from '../../store/types.js';
import { decoyHash, hashPassword, needsRehash, verifyPassword } from '../../domain/passwords.js';
import { normalizeEmail } from '../../domain/users.js';

/** How many failures lock what, for how long. */
export interface SignInLimits {
  /** Failures of one account within `windowMs` before it is locked until the oldest leaves the window. */
  perAccount: number;
  /** Failures from one address within `windowMs`, whatever the account. */
  perAddress: number;
  windowMs: number;
}

/** 5 failures per account and 30 per address in 15 minutes. */
export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = { perAccount: 5, perAddress: 30, windowMs: 15 * 60_000 };

/** The outcome of a sign-in. */
export type SignInResult =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

const key = (kind: 'account' | 'address', value: string): string => createHash('sha256').update(`${kind}\u0000${value}`).digest('hex');

/** Checks the credentials, or says how long to wait. */
export async function signIn(
  store: Store,
  input: { email: string; password: string; address: string },
  now: Date,
  limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS,
): Promise<SignInResult> {
  const email = normalizeEmail(input.email);
  const accountKey = key('account', email);
  const addressKey = key('address', input.address);
  // The window is the last `windowMs`: a failure exactly that old has left it.
  const since = new Date(now.getTime() - limits.windowMs + 1);
  const [account, address] = await Promise.all([store.loginFailures.recent(accountKey, since), store.loginFailures.recent(addressKey, since)]);
  const locked = [
    account.count >= limits.perAccount ? account.first : undefined,
    address.count >= limits.perAddress ? address.first : undefined,
  ].filter((first): first is string => first !== undefined);
  if (locked.length > 0) {
    const until = Math.max(...locked.map((first) => Date.parse(first) + limits.windowMs));
    return { ok: false, reason: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil((until - now.getTime()) / 1000)) };
  }
  const user = await store.users.byEmail(email);
  const matches = await verifyPassword(input.password, user?.password_hash ?? (await decoyHash()));
  if (user === undefined || !matches) {
    await store.loginFailures.record([accountKey, addressKey], now);
    return { ok: false, reason: 'invalid' };
  }
  await store.loginFailures.clear(accountKey);
  if (needsRehash(user.password_hash)) {
    const rehashed = await hashPassword(input.password);
    // Not setPassword: that would end the user's other sessions for a change they did not make.
    await store.users.rehash(user.id, rehashed);
  }
  return { ok: true, user };
}
