/** A dashboard account as a row of the `users` table, for both engines, and its public form. */
import type { User, UserRecord, UserRole } from './types.js';

/** A `users` row: times as ISO 8601 text (SQLite) or `Date` (PostgreSQL). */
export interface UserRow {
  id: string;
  email: string;
  role: UserRole;
  client_id: string | null;
  password_hash: string;
  password_changed_at: string | Date;
  created_at: string | Date;
}

const iso = (t: string | Date): string => (typeof t === 'string' ? t : t.toISOString());

/** The account with its hash, as the store returns it to sign-in. */
export function userRecordOf(row: UserRow): UserRecord {
  const user: UserRecord = {
    id: row.id,
    email: row.email,
    role: row.role,
    password_hash: row.password_hash,
    password_changed_at: iso(row.password_changed_at),
    created_at: iso(row.created_at),
  };
  if (row.client_id !== null) user.client_id = row.client_id;
  return user;
}

/** The account without its hash. */
export function publicUser(record: UserRecord): User {
  const { password_hash: _hash, ...user } = record;
  return user;
}
