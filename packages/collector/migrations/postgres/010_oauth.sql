-- Connect with OAuth (src/domain/oauth.ts). See migrations/sqlite/015_oauth.sql for the why of each table.
CREATE TABLE oauth_pending (
  key_hash      text PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('authorize', 'grant')),
  user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  session_hash  text NOT NULL,
  client_id     text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  platform      text NOT NULL,
  payload       text NOT NULL,
  created_at    timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX oauth_pending_expiry ON oauth_pending(expires_at);

CREATE TABLE oauth_grants (
  connection_id       text PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
  granted_at          timestamptz NOT NULL,
  access_expires_at   timestamptz,
  refresh_expires_at  timestamptz,
  user_action_by      timestamptz,
  refreshed_at        timestamptz,
  scopes              jsonb NOT NULL DEFAULT '[]'
);

CREATE TABLE oauth_refresh_leases (
  lease_key      text PRIMARY KEY,
  holder         text NOT NULL,
  until_ms       bigint NOT NULL
);
