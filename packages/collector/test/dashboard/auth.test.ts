/**
 * Dashboard authentication: scrypt hashes, sessions (idle and absolute expiry,
 * a new id per sign-in, stored hashed), CSRF tokens and the sign-in throttle,
 * on a real SQLite store.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, passwordProblem, verifyPassword } from '../../src/domain/passwords.js';
import { csrfTokenFor, csrfTokenMatches, DEFAULT_SESSION_POLICY, endSession, resumeSession, sessionIdHash, startSession } from '../../src/dashboard/auth/sessions.js';
import { DEFAULT_SIGN_IN_LIMITS, signIn } from '../../src/dashboard/auth/sign-in.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers/harness.js';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const at = (ms: number): Date => new Date(NOW.getTime() + ms);
const MIN = 60_000;
const HOUR = 60 * MIN;

let dir: ReturnType<typeof tempDir>;
let store: SqliteStore;
beforeEach(() => {
  dir = tempDir();
  store = openSqliteStore(`${dir.dir}/auth.db`);
});
afterEach(async () => {
  await store.close();
  dir.cleanup();
});

describe('passwords', () => {
  it('hashes with scrypt N=2^17, r=8, p=1 and a random salt, and verifies only the same password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$17\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('correct horse battery', 'scrypt$30$8$1$c2FsdHNhbHQ$eA')).toBe(false);
    expect(await verifyPassword('x', 'plain')).toBe(false);
    expect(needsRehash(a)).toBe(false);
  });

  it('verifies a hash made with older parameters and asks for a rehash', async () => {
    // N = 2^14, as an earlier version might have stored.
    const { scryptSync } = await import('node:crypto');
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('an older password', salt, 32, { N: 2 ** 14, r: 8, p: 1 });
    const old = `scrypt$14$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    expect(await verifyPassword('an older password', old)).toBe(true);
    expect(needsRehash(old)).toBe(true);
  });

  it('asks for 12 characters at least, no composition rules', () => {
    expect(passwordProblem('short')).toMatch(/at least 12/);
    expect(passwordProblem('twelve chars')).toBeUndefined();
    expect(passwordProblem('x'.repeat(1025))).toMatch(/at most 1024/);
  });
});

describe('sessions', () => {
  it('stores only a hash of the id, resumes a live session and touches it once a minute', async () => {
    const user = await store.users.create({ email: 'ada@example.com', role: 'admin', password_hash: await hashPassword('a long password') }, NOW);
    const id = await startSession(store, user.id, NOW);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = store.db.prepare('SELECT * FROM sessions').all() as Array<Record<string, string>>;
    expect(rows).toEqual([expect.objectContaining({ id_hash: sessionIdHash(id), user_id: user.id })]);
    expect(JSON.stringify(rows)).not.toContain(id);
    expect((await resumeSession(store, id, at(30_000)))?.user.email).toBe('ada@example.com');
    expect((await store.sessions.get(sessionIdHash(id)))?.session.last_seen_at).toBe(NOW.toISOString());
    await resumeSession(store, id, at(2 * MIN));
    expect((await store.sessions.get(sessionIdHash(id)))?.session.last_seen_at).toBe(at(2 * MIN).toISOString());
    expect(await resumeSession(store, 'not-a-session-id', NOW)).toBeUndefined();
    expect(await resumeSession(store, undefined, NOW)).toBeUndefined();
  });

  it('ends a session after 12 idle hours, and after 7 days whatever the activity', async () => {
    const user = await store.users.create({ email: 'ada@example.com', role: 'admin', password_hash: 'x' }, NOW);
    const idle = await startSession(store, user.id, NOW);
    expect(await resumeSession(store, idle, at(12 * HOUR - 1000))).toBeDefined();
    expect(await resumeSession(store, idle, at(24 * HOUR))).toBeUndefined();
    expect(await store.sessions.get(sessionIdHash(idle))).toBeUndefined();
    const busy = await startSession(store, user.id, NOW);
    for (let h = 6; h < 7 * 24; h += 6) expect(await resumeSession(store, busy, at(h * HOUR)), `hour ${h}`).toBeDefined();
    expect(await resumeSession(store, busy, at(DEFAULT_SESSION_POLICY.absoluteMs))).toBeUndefined();
  });

  it('gives each sign-in a new id and ends one session on sign-out', async () => {
    const user = await store.users.create({ email: 'ada@example.com', role: 'admin', password_hash: 'x' }, NOW);
    const first = await startSession(store, user.id, NOW);
    const second = await startSession(store, user.id, NOW);
    expect(first).not.toBe(second);
    await endSession(store, first);
    expect(await resumeSession(store, first, NOW)).toBeUndefined();
    expect(await resumeSession(store, second, NOW)).toBeDefined();
  });

  it('derives a CSRF token per session that no other session and no stored value gives', async () => {
    const user = await store.users.create({ email: 'ada@example.com', role: 'admin', password_hash: 'x' }, NOW);
    const id = await startSession(store, user.id, NOW);
    const other = await startSession(store, user.id, NOW);
    expect(csrfTokenMatches(id, csrfTokenFor(id))).toBe(true);
    expect(csrfTokenMatches(id, csrfTokenFor(other))).toBe(false);
    expect(csrfTokenMatches(id, sessionIdHash(id))).toBe(false);
    expect(csrfTokenMatches(id, undefined)).toBe(false);
    expect(csrfTokenMatches(id, '')).toBe(false);
  });
});

describe('sign-in', () => {
  const address = '203.0.113.7';
  it('accepts the right password, answers the same for a wrong one and an unknown email', async () => {
    await store.users.create({ email: 'ada@example.com', role: 'admin', password_hash: await hashPassword('a long password') }, NOW);
    expect(await signIn(store, { email: ' Ada@Example.com ', password: 'a long password', address }, NOW)).toMatchObject({ ok: true, user: { email: 'ada@example.com' } });
    expect(await signIn(store, { email: 'ada@example.com', password: 'wrong password!', address }, NOW)).toEqual({ ok: false, reason: 'invalid' });
    expect(await signIn(store, { email: 'nobody@example.com', password: 'a long password', address }, NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('locks an account after 5 failures in 15 minutes, even for the right password, then lets it in again', async () => {
    await store.users.create({ email: 'ada@example.com', role: 'admin', password_hash: await hashPassword('a long password') }, NOW);
    for (let i = 0; i < DEFAULT_SIGN_IN_LIMITS.perAccount; i++) {
      expect((await signIn(store, { email: 'ada@example.com', password: `guess ${i}`, address: `198.51.100.${i}` }, at(i * MIN))).ok).toBe(false);
    }
    const locked = await signIn(store, { email: 'ada@example.com', password: 'a long password', address }, at(5 * MIN));
    expect(locked).toEqual({ ok: false, reason: 'throttled', retryAfterSeconds: 10 * 60 });
    // The first failure leaves the window at minute 15.
    expect((await signIn(store, { email: 'ada@example.com', password: 'a long password', address }, at(15 * MIN))).ok).toBe(true);
    // A success clears the account's count.
    expect((await signIn(store, { email: 'ada@example.com', password: 'guess again', address }, at(16 * MIN))).ok).toBe(false);
    expect((await signIn(store, { email: 'ada@example.com', password: 'a long password', address }, at(16 * MIN))).ok).toBe(true);
  });

  it('locks an address after 30 failures in 15 minutes, whatever the accounts tried', async () => {
    await store.users.create({ email: 'ada@example.com', role: 'admin', password_hash: await hashPassword('a long password') }, NOW);
    await store.loginFailures.record(
      Array.from({ length: DEFAULT_SIGN_IN_LIMITS.perAddress }, () => (createHashHex(`address\u0000${address}`))),
      at(-MIN),
    );
    expect(await signIn(store, { email: 'ada@example.com', password: 'a long password', address }, NOW)).toMatchObject({ ok: false, reason: 'throttled' });
    expect((await signIn(store, { email: 'ada@example.com', password: 'a long password', address: '192.0.2.1' }, NOW)).ok).toBe(true);
  });

  it('stores no email or address of a failed attempt in clear', async () => {
    await signIn(store, { email: 'victim@example.com', password: 'wrong password!', address }, NOW);
    const dump = JSON.stringify(store.db.prepare('SELECT * FROM login_failures').all());
    expect(dump).not.toContain('victim');
    expect(dump).not.toContain(address);
  });
});

function createHashHex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
