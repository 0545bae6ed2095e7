-- Dashboard accounts, their sessions and failed sign-ins (the same tables as SQLite's 007_users.sql).
-- users.email is stored lower-cased; password_hash is "scrypt$<log2 N>$<r>$<p>$<salt>$<key>" (base64url).
CREATE TABLE users (
  id                   text PRIMARY KEY,
  email                text NOT NULL UNIQUE,
  role                 text NOT NULL CHECK (role IN ('admin', 'staff', 'client')),
  client_id            text REFERENCES clients(id) ON DELETE CASCADE,
  password_hash        text NOT NULL,
  password_changed_at  timestamptz NOT NULL,
  created_at           timestamptz NOT NULL,
  CHECK ((role = 'client') = (client_id IS NOT NULL))
);

-- A session is known by the SHA-256 of its random id; the id itself lives only in the browser's cookie.
CREATE TABLE sessions (
  id_hash       text PRIMARY KEY,
  user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- Failed sign-ins, by the SHA-256 of "account:<email>" or "address:<ip>" (no address or email in clear).
CREATE TABLE login_failures (
  key  text NOT NULL,
  at   timestamptz NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, at);
