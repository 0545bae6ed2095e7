/**
 * Dashboard sessions: a random 256-bit id in an `HttpOnly` cookie, stored only
 * as its SHA-256 (a copy of the database opens no session). A session ends
 * after {@link SessionPolicy.idleMs} without a request, or
 * {@link SessionPolicy.absoluteMs} after sign-in whatever the activity; a new
 * password or "sign out everywhere" ends all of a user's sessions. Each sign-in
 * makes a new id (no fixation: an id planted before sign-in is never promoted).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Session, Store, UserRecord } from '../../store/types.js';

/** How long sessions live. */
export interface SessionPolicy {
  /** Ends a session this long after its last request. */
  idleMs: number;
  /** Ends a session this long after sign-in. */
  absoluteMs: number;
  /** `last_seen_at` is written at most this often (not on every request). */
  touchEveryMs: number;
}

/** 12 hours idle (a working day), 7 days at most, activity recorded once a minute. */
export const DEFAULT_SESSION_POLICY: SessionPolicy = { idleMs: 12 * 3_600_000, absoluteMs: 7 * 86_400_000, touchEveryMs: 60_000 };

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** What the store keeps of a session id. */
export function sessionIdHash(id: string): string {
  return sha256(`session\u0000${id}`);
}

/**
 * The CSRF token of a session: derived from its id, so it needs no storage and
 * cannot be computed from anything the database holds.
 */
export function csrfTokenFor(sessionId: string): string {
  return createHash('sha256').update(`csrf\u0000${sessionId}`).digest('base64url');
}

/** Whether a submitted CSRF token is the session's, in constant time. */
export function csrfTokenMatches(sessionId: string, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(sessionId));
  const given = Buffer.from(submitted);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Starts a session for a signed-in user; returns the id for the cookie. */
export async function startSession(store: Store, userId: string, now: Date, policy: SessionPolicy = DEFAULT_SESSION_POLICY): Promise<string> {
  const id = randomBytes(32).toString('base64url');
  await store.sessions.create({
    id_hash: sessionIdHash(id),
    user_id: userId,
    created_at: now.toISOString(),
    last_seen_at: now.toISOString(),
    expires_at: new Date(now.getTime() + policy.absoluteMs).toISOString(),
  });
  return id;
}

/** A live session and its user. */
export interface LiveSession {
  id: string;
  session: Session;
  user: UserRecord;
}

/** The session behind a cookie's id, when it is still live; an expired one is deleted. */
export async function resumeSession(
  store: Store,
  id: string | undefined,
  now: Date,
  policy: SessionPolicy = DEFAULT_SESSION_POLICY,
): Promise<LiveSession | undefined> {
  if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
  const hash = sessionIdHash(id);
  const found = await store.sessions.get(hash);
  if (found === undefined) return undefined;
  const t = now.getTime();
  const lastSeen = Date.parse(found.session.last_seen_at);
  if (t >= Date.parse(found.session.expires_at) || t - lastSeen >= policy.idleMs) {
    await store.sessions.remove(hash);
    return undefined;
  }
  if (t - lastSeen >= policy.touchEveryMs) await store.sessions.touch(hash, now);
  return { id, ...found };
}

/** Ends one session. */
export async function endSession(store: Store, id: string): Promise<void> {
  await store.sessions.remove(sessionIdHash(id));
}
