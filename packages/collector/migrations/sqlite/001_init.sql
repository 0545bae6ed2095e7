-- Initial schema of the Pruuv collector.
-- Times are ISO 8601 UTC text (`toISOString()`, so they sort as text); events
-- also keep `received_ms` (Unix ms) for the dedup and rate-limit windows.

CREATE TABLE clients (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  site_key    TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL
);

-- Page origins allowed to send pixel events for a client (exact match on the Origin header).
CREATE TABLE client_origins (
  client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  origin     TEXT NOT NULL,
  PRIMARY KEY (client_id, origin)
);
CREATE INDEX client_origins_origin ON client_origins(origin);

CREATE TABLE stages (
  id           TEXT PRIMARY KEY,
  client_id    TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  key          TEXT NOT NULL,
  name         TEXT NOT NULL,
  -- SHA-256 (hex) of the webhook token; the token itself is shown once and never stored.
  token_hash   TEXT NOT NULL,
  -- JSON object of per-platform event-name overrides.
  event_names  TEXT NOT NULL DEFAULT '{}',
  created_at   TEXT NOT NULL,
  UNIQUE (client_id, key)
);

-- Ad-account connections, one per platform per client. Credentials are added by the sender.
CREATE TABLE connections (
  id          TEXT PRIMARY KEY,
  client_id   TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  platform    TEXT NOT NULL CHECK (platform IN ('meta', 'google', 'tiktok')),
  settings    TEXT NOT NULL DEFAULT '{}',
  secrets     TEXT NULL,
  status      TEXT NOT NULL DEFAULT 'pending',
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  UNIQUE (client_id, platform)
);

CREATE TABLE events (
  id                   TEXT PRIMARY KEY,
  client_id            TEXT NOT NULL REFERENCES clients(id),
  stage_id             TEXT NOT NULL REFERENCES stages(id),
  stage_key            TEXT NOT NULL,
  source               TEXT NOT NULL CHECK (source IN ('pixel', 'webhook')),
  reference            TEXT NOT NULL,
  item_reference       TEXT,
  revenue_value        REAL,
  currency             TEXT,
  data_timestamp       TEXT,
  received_at          TEXT NOT NULL,
  received_ms          INTEGER NOT NULL,
  client_time          TEXT,
  consent              TEXT NOT NULL CHECK (consent IN ('granted', 'denied', 'unspecified')),
  fbclid               TEXT, fbclid_ts  TEXT,
  gclid                TEXT, gclid_ts   TEXT,
  wbraid               TEXT, wbraid_ts  TEXT,
  gbraid               TEXT, gbraid_ts  TEXT,
  ttclid               TEXT, ttclid_ts  TEXT,
  msclkid              TEXT, msclkid_ts TEXT,
  utm_source           TEXT,
  utm_medium           TEXT,
  utm_campaign         TEXT,
  utm_content          TEXT,
  utm_term             TEXT,
  fbc                  TEXT,
  fbp                  TEXT,
  ttp                  TEXT,
  email_sha256         TEXT,
  email_sha256_google  TEXT,
  phone_sha256         TEXT,
  phone_sha256_meta    TEXT,
  visitor_id           TEXT,
  client_ip            TEXT,
  user_agent           TEXT,
  page_url             TEXT,
  referrer             TEXT,
  first_touch          TEXT,  -- JSON
  last_touch           TEXT,  -- JSON
  demographics         TEXT NOT NULL DEFAULT '{}',  -- JSON
  inherited_from       TEXT REFERENCES events(id),
  inherited_fields     TEXT   -- JSON array of field names
);
-- Rate limit: accepted events of a stage in the last hour.
CREATE INDEX events_stage_time ON events(stage_id, received_ms);
-- Dedup: same reference at the same stage within 60 seconds.
CREATE INDEX events_stage_reference ON events(stage_id, reference, received_ms);
-- Attribution join: latest event of a client with the same reference, or the same email hash.
CREATE INDEX events_client_reference ON events(client_id, reference, received_ms);
CREATE INDEX events_client_email ON events(client_id, email_sha256, received_ms) WHERE email_sha256 IS NOT NULL;

-- One row per (event, platform), written in the same transaction as the event; the sender claims them.
CREATE TABLE outbox (
  id           INTEGER PRIMARY KEY,
  event_id     TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  platform     TEXT NOT NULL CHECK (platform IN ('meta', 'google', 'tiktok')),
  status       TEXT NOT NULL DEFAULT 'pending',
  due_at       TEXT NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  lease_owner  TEXT,
  lease_until  TEXT,
  last_error   TEXT,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  UNIQUE (event_id, platform)
);
CREATE INDEX outbox_due ON outbox(status, due_at);

-- Audit log of every send attempt (extended by the sender's migrations).
CREATE TABLE send_attempts (
  id            INTEGER PRIMARY KEY,
  outbox_id     INTEGER REFERENCES outbox(id) ON DELETE SET NULL,
  event_id      TEXT NOT NULL,
  platform      TEXT NOT NULL,
  attempted_at  TEXT NOT NULL,
  status        TEXT NOT NULL,
  http_status   INTEGER,
  error         TEXT,
  retry_count   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX send_attempts_event ON send_attempts(event_id);
