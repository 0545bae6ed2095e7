-- Dashboard accounts, their sessions and failed sign-ins.
-- users.email is stored lower-cased; password_hash is "scrypt$<log2 N>$<r>$<p>$<salt>$<key>" (base64url).
-- A client user sees one client only: role 'client' has a client_id, the other roles none.
CREATE TABLE users (
  id                   TEXT PRIMARY KEY,
  email                TEXT NOT NULL UNIQUE,
  role                 TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'client')),
  client_id            TEXT REFERENCES clients(id) ON DELETE CASCADE,
  password_hash        TEXT NOT NULL,
  password_changed_at  TEXT NOT NULL,
  created_at           TEXT NOT NULL,
  CHECK ((role = 'client') = (client_id IS NOT NULL))
);

-- A session is known by the SHA-256 of its random id; the id itself lives only in the browser's cookie.
CREATE TABLE sessions (
  id_hash       TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at    TEXT NOT NULL,
  last_seen_at  TEXT NOT NULL,
  expires_at    TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- Failed sign-ins, by the SHA-256 of "account:<email>" or "address:<ip>" (no address or email in clear).
CREATE TABLE login_failures (
  key  TEXT NOT NULL,
  at   TEXT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, at);
