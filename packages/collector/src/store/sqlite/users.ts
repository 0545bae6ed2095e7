/** SQLite storage of dashboard accounts, their sessions and failed sign-ins. */
import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../../errors.js';
import type { LoginFailureStore, Session, SessionStore, UserStore } from '../types.js';
import { publicUser, userRecordOf, type UserRow } from '../user-row.js';
import type { Db } from './db.js';

/** Creates the users part of the store. */
export function createUsers(db: Db): UserStore {
  const insert = db.prepare(
    `INSERT INTO users (id, email, role, client_id, password_hash, password_changed_at, created_at)
     VALUES (@id, @email, @role, @client_id, @password_hash, @at, @at)`,
  );
  const byId = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?');
  const byEmail = db.prepare<[string], UserRow>('SELECT * FROM users WHERE email = ?');
  const all = db.prepare<[], UserRow>('SELECT * FROM users ORDER BY email');
  const count = db.prepare<[], number>('SELECT COUNT(*) FROM users').pluck();
  const setHash = db.prepare('UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?');
  const endSessions = db.prepare('DELETE FROM sessions WHERE user_id = ?');
  const remove = db.prepare('DELETE FROM users WHERE id = ?');
  const rehash = db.prepare('UPDATE users SET password_hash = ? WHERE id = ?');
  const setPassword = db.transaction((id: string, hash: string, at: string): boolean => {
    if (setHash.run(hash, at, id).changes === 0) return false;
    endSessions.run(id);
    return true;
  });
  return {
    async create(input, at) {
      const id = `usr_${randomUUID().replaceAll('-', '')}`;
      try {
        insert.run({ id, email: input.email, role: input.role, client_id: input.client_id ?? null, password_hash: input.password_hash, at: at.toISOString() });
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code === 'SQLITE_CONSTRAINT_UNIQUE') throw new InvalidInputError(`A user with the email ${input.email} already exists`);
        if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new InvalidInputError(`Unknown client ${String(input.client_id)}`);
        throw error;
      }
      return publicUser(userRecordOf(byId.get(id)!));
    },
    async get(id) {
      const row = byId.get(id);
      return row && userRecordOf(row);
    },
    async byEmail(email) {
      const row = byEmail.get(email);
      return row && userRecordOf(row);
    },
    async list() {
      return all.all().map((row) => publicUser(userRecordOf(row)));
    },
    async count() {
      return count.get()!;
    },
    async setPassword(id, hash, at) {
      return setPassword.immediate(id, hash, at.toISOString());
    },
    async rehash(id, hash) {
      rehash.run(hash, id);
    },
    async remove(id) {
      return remove.run(id).changes === 1;
    },
  };
}

/** Creates the sessions part of the store. */
export function createSessions(db: Db): SessionStore {
  const insert = db.prepare(
    'INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) VALUES (@id_hash, @user_id, @created_at, @last_seen_at, @expires_at)',
  );
  const get = db.prepare<[string], Session & { [K in keyof UserRow as `u_${K}`]: UserRow[K] }>(
    `SELECT s.id_hash, s.user_id, s.created_at, s.last_seen_at, s.expires_at,
       u.id AS u_id, u.email AS u_email, u.role AS u_role, u.client_id AS u_client_id, u.password_hash AS u_password_hash,
       u.password_changed_at AS u_password_changed_at, u.created_at AS u_created_at
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
  );
  const touch = db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?');
  const remove = db.prepare('DELETE FROM sessions WHERE id_hash = ?');
  const removeForUser = db.prepare('DELETE FROM sessions WHERE user_id = ?');
  const purge = db.prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?');
  return {
    async create(session) {
      insert.run(session);
    },
    async get(idHash) {
      const row = get.get(idHash);
      if (row === undefined) return undefined;
      const session: Session = { id_hash: row.id_hash, user_id: row.user_id, created_at: row.created_at, last_seen_at: row.last_seen_at, expires_at: row.expires_at };
      const user = userRecordOf({
        id: row.u_id,
        email: row.u_email,
        role: row.u_role,
        client_id: row.u_client_id,
        password_hash: row.u_password_hash,
        password_changed_at: row.u_password_changed_at,
        created_at: row.u_created_at,
      });
      return { session, user };
    },
    async touch(idHash, at) {
      touch.run(at.toISOString(), idHash);
    },
    async remove(idHash) {
      remove.run(idHash);
    },
    async removeForUser(userId) {
      return removeForUser.run(userId).changes;
    },
    async purge(now, idleBefore) {
      return purge.run(now.toISOString(), idleBefore.toISOString()).changes;
    },
  };
}

/** Creates the failed sign-ins part of the store. */
export function createLoginFailures(db: Db): LoginFailureStore {
  const insert = db.prepare('INSERT INTO login_failures (key, at) VALUES (?, ?)');
  const recent = db.prepare<[string, string], { count: number; first: string | null }>(
    'SELECT COUNT(*) AS count, MIN(at) AS first FROM login_failures WHERE key = ? AND at >= ?',
  );
  const clear = db.prepare('DELETE FROM login_failures WHERE key = ?');
  const purge = db.prepare('DELETE FROM login_failures WHERE at < ?');
  const record = db.transaction((keys: readonly string[], at: string) => {
    for (const key of keys) insert.run(key, at);
  });
  return {
    async record(keys, at) {
      record.immediate(keys, at.toISOString());
    },
    async recent(key, since) {
      const row = recent.get(key, since.toISOString())!;
      return row.first === null ? { count: row.count } : { count: row.count, first: row.first };
    },
    async clear(key) {
      clear.run(key);
    },
    async purge(before) {
      return purge.run(before.toISOString()).changes;
    },
  };
}
