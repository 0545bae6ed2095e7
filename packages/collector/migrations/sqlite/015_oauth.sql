-- Connect with OAuth (src/domain/oauth.ts).
--
-- A pending authorization between the Connect button and the platform's redirect back
-- (kind 'authorize'), then the tokens waiting for the person's picks (kind 'grant').
-- Known by the SHA-256 of its random key (the OAuth `state`, or the grant's id), which
-- lives only in the browser's URL: a lookup by hash compares no secret byte by byte.
-- Bound to the user and the session that started it; single use (deleted before the code
-- is exchanged); `payload` is AES-256-GCM ciphertext (PKCE verifier, or the tokens).
CREATE TABLE oauth_pending (
  key_hash      TEXT PRIMARY KEY,
  kind          TEXT NOT NULL CHECK (kind IN ('authorize', 'grant')),
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  session_hash  TEXT NOT NULL,
  client_id     TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  platform      TEXT NOT NULL,
  payload       TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  expires_at    TEXT NOT NULL
);
CREATE INDEX oauth_pending_expiry ON oauth_pending(expires_at);

-- What a connection made with "Connect" knows about its grant (never a token: those are in
-- the connection's ciphertext): when the user consented, when the access token and the
-- grant expire, when the user must act, when the runtime last refreshed it.
CREATE TABLE oauth_grants (
  connection_id       TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
  granted_at          TEXT NOT NULL,
  access_expires_at   TEXT,
  refresh_expires_at  TEXT,
  user_action_by      TEXT,
  refreshed_at        TEXT,
  scopes              TEXT NOT NULL DEFAULT '[]'
);

-- One refresh of a credential at a time across every worker: a lease row, keyed by a hash of
-- the credential (one grant may serve several connections), taken with an upsert that changes
-- nothing while another holder's lease runs.
CREATE TABLE oauth_refresh_leases (
  lease_key      TEXT PRIMARY KEY,
  holder         TEXT NOT NULL,
  until_ms       INTEGER NOT NULL
);
