/** PostgreSQL storage of dashboard accounts, their sessions and failed sign-ins. */
import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../../errors.js';
import type { LoginFailureStore, Session, SessionStore, UserStore } from '../types.js';
import { publicUser, userRecordOf, type UserRow } from '../user-row.js';
import type { StorePool } from './pool.js';

/** Creates the users part of the store. */
export function createUsers(db: StorePool): UserStore {
  return {
    async create(input, at) {
      const id = `usr_${randomUUID().replaceAll('-', '')}`;
      try {
        const { rows } = await db.query<UserRow>(
          `INSERT INTO users (id, email, role, client_id, password_hash, password_changed_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *`,
          [id, input.email, input.role, input.client_id ?? null, input.password_hash, at],
        );
        return publicUser(userRecordOf(rows[0]!));
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code === '23505') throw new InvalidInputError(`A user with the email ${input.email} already exists`);
        if (code === '23503') throw new InvalidInputError(`Unknown client ${String(input.client_id)}`);
        throw error;
      }
    },
    async get(id) {
      const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
      return rows[0] && userRecordOf(rows[0]);
    },
    async byEmail(email) {
      const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE email = $1', [email]);
      return rows[0] && userRecordOf(rows[0]);
    },
    async list() {
      const { rows } = await db.query<UserRow>('SELECT * FROM users ORDER BY email');
      return rows.map((row) => publicUser(userRecordOf(row)));
    },
    async count() {
      const { rows } = await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM users');
      return Number(rows[0]!.n);
    },
    async setPassword(id, hash, at) {
      return db.transaction(async (q) => {
        const updated = await q.query('UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3', [hash, at, id]);
        if (updated.rowCount === 0) return false;
        await q.query('DELETE FROM sessions WHERE user_id = $1', [id]);
        return true;
      });
    },
    async rehash(id, hash) {
      await db.query('UPDATE users SET password_hash = $1 WHERE id = $2', [hash, id]);
    },
    async remove(id) {
      const { rowCount } = await db.query('DELETE FROM users WHERE id = $1', [id]);
      return rowCount === 1;
    },
  };
}

interface SessionRow {
  id_hash: string;
  user_id: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

/** Creates the sessions part of the store. */
export function createSessions(db: StorePool): SessionStore {
  return {
    async create(s) {
      await db.query('INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
        s.id_hash,
        s.user_id,
        s.created_at,
        s.last_seen_at,
        s.expires_at,
      ]);
    },
    async get(idHash) {
      const { rows } = await db.query<{ s: SessionRow; u: UserRow }>(
        `SELECT row_to_json(s) AS s, row_to_json(u) AS u FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1`,
        [idHash],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      // row_to_json gives timestamps as text.
      const iso = (v: unknown): string => new Date(String(v)).toISOString();
      const session: Session = {
        id_hash: row.s.id_hash,
        user_id: row.s.user_id,
        created_at: iso(row.s.created_at),
        last_seen_at: iso(row.s.last_seen_at),
        expires_at: iso(row.s.expires_at),
      };
      const user = userRecordOf({ ...row.u, password_changed_at: new Date(String(row.u.password_changed_at)), created_at: new Date(String(row.u.created_at)) });
      return { session, user };
    },
    async touch(idHash, at) {
      await db.query('UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2', [at, idHash]);
    },
    async remove(idHash) {
      await db.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
    },
    async removeForUser(userId) {
      const { rowCount } = await db.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
      return rowCount ?? 0;
    },
    async purge(now, idleBefore) {
      const { rowCount } = await db.query('DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2', [now, idleBefore]);
      return rowCount ?? 0;
    },
  };
}

/** Creates the failed sign-ins part of the store. */
export function createLoginFailures(db: StorePool): LoginFailureStore {
  return {
    async record(keys, at) {
      if (keys.length === 0) return;
      await db.query('INSERT INTO login_failures (key, at) SELECT k, $2 FROM unnest($1::text[]) AS k', [keys, at]);
    },
    async recent(key, since) {
      const { rows } = await db.query<{ count: string; first: Date | null }>(
        'SELECT COUNT(*) AS count, MIN(at) AS first FROM login_failures WHERE key = $1 AND at >= $2',
        [key, since],
      );
      const row = rows[0]!;
      return row.first === null ? { count: Number(row.count) } : { count: Number(row.count), first: row.first.toISOString() };
    },
    async clear(key) {
      await db.query('DELETE FROM login_failures WHERE key = $1', [key]);
    },
    async purge(before) {
      const { rowCount } = await db.query('DELETE FROM login_failures WHERE at < $1', [before]);
      return rowCount ?? 0;
    },
  };
}
