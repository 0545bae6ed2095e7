-- The Pruuv schema on PostgreSQL: the same tables and meanings as the SQLite
-- migrations 001-005, in PostgreSQL's types. Times the store compares are
-- timestamptz; times it only stores and echoes (an event's data_timestamp, a
-- click's first-seen time) stay the ISO 8601 text they arrived as, exactly as
-- on SQLite. `seq` columns keep creation order (SQLite's rowid).

CREATE TABLE clients (
  seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id          text PRIMARY KEY,
  name        text NOT NULL,
  site_key    text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL
);

-- Page origins allowed to send pixel events for a client (exact match on the Origin header).
CREATE TABLE client_origins (
  client_id  text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  origin     text NOT NULL,
  PRIMARY KEY (client_id, origin)
);
CREATE INDEX client_origins_origin ON client_origins(origin);

CREATE TABLE stages (
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id           text PRIMARY KEY,
  client_id    text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  key          text NOT NULL,
  name         text NOT NULL,
  -- SHA-256 (hex) of the webhook token; the token itself is shown once and never stored.
  token_hash   text NOT NULL,
  -- Per-platform event-name overrides.
  event_names  jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL,
  UNIQUE (client_id, key)
);

-- Ad-account connections, one per platform per client. `secrets`: one AES-256-GCM
-- ciphertext of the secret fields, made by the collector; `secret_names` lists them.
CREATE TABLE connections (
  id             text PRIMARY KEY,
  client_id      text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  platform       text NOT NULL,
  settings       jsonb NOT NULL DEFAULT '{}',
  secrets        text NULL,
  secret_names   jsonb NOT NULL DEFAULT '[]',
  status         text NOT NULL DEFAULT 'active',
  status_reason  text,
  paused_at      timestamptz,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  UNIQUE (client_id, platform)
);

CREATE TABLE events (
  seq                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id                   text NOT NULL UNIQUE,
  client_id            text NOT NULL REFERENCES clients(id),
  stage_id             text NOT NULL REFERENCES stages(id),
  stage_key            text NOT NULL,
  source               text NOT NULL CHECK (source IN ('pixel', 'webhook')),
  reference            text NOT NULL,
  item_reference       text,
  revenue_value        double precision,
  currency             text,
  data_timestamp       text,
  received_at          timestamptz NOT NULL,
  received_ms          bigint NOT NULL,
  client_time          text,
  consent              text NOT NULL CHECK (consent IN ('granted', 'denied', 'unspecified')),
  fbclid               text, fbclid_ts  text,
  gclid                text, gclid_ts   text,
  wbraid               text, wbraid_ts  text,
  gbraid               text, gbraid_ts  text,
  ttclid               text, ttclid_ts  text,
  msclkid              text, msclkid_ts text,
  utm_source           text,
  utm_medium           text,
  utm_campaign         text,
  utm_content          text,
  utm_term             text,
  fbc                  text,
  fbp                  text,
  ttp                  text,
  email_sha256         text,
  email_sha256_google  text,
  phone_sha256         text,
  phone_sha256_meta    text,
  visitor_id           text,
  client_ip            text,
  user_agent           text,
  page_url             text,
  referrer             text,
  first_touch          jsonb,
  last_touch           jsonb,
  demographics         jsonb NOT NULL DEFAULT '{}',
  inherited_from       text,
  inherited_fields     jsonb
);
-- Hourly quota (the stage's events in the last hour) and the stage's event list.
CREATE INDEX events_stage_time ON events(stage_id, received_ms);
-- Dedup (same reference at the same stage within 60 s) and the attribution join by reference.
CREATE INDEX events_client_reference ON events(client_id, reference, received_ms);
-- Attribution join by email hash.
CREATE INDEX events_client_email ON events(client_id, email_sha256, received_ms) WHERE email_sha256 IS NOT NULL;

-- One row per (event, platform), written in the event's transaction; send passes lease them.
CREATE TABLE outbox (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id          text NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  client_id         text NOT NULL,
  platform          text NOT NULL,
  status            text NOT NULL DEFAULT 'pending',
  due_at            timestamptz NOT NULL,
  attempts          integer NOT NULL DEFAULT 0,
  lease_owner       text,
  lease_until       timestamptz,
  last_error        text,
  first_attempt_at  timestamptz,
  finished_at       timestamptz,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  UNIQUE (event_id, platform)
);
-- Claims: due rows, earliest first; finished rows stay in the index but a claim stops at its limit.
CREATE INDEX outbox_due ON outbox(status, due_at) WHERE status IN ('pending', 'retrying');
-- Live leases are few (only rows in flight): the earliest expiry is found at once.
CREATE INDEX outbox_leased ON outbox(lease_until) WHERE lease_until IS NOT NULL;

-- The conversion audit log: one row per attempt of one event on one platform. No PII, no hashes.
CREATE TABLE send_attempts (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  outbox_id        bigint REFERENCES outbox(id) ON DELETE SET NULL,
  event_id         text NOT NULL,
  client_id        text,
  stage_id         text,
  platform         text NOT NULL,
  connection_id    text,
  attempted_at     timestamptz NOT NULL,
  status           text NOT NULL,
  reason           text,
  message          text,
  error_code       text,
  error            text,
  http_status      integer,
  request_id       text,
  dedup_key        text,
  batch_size       integer,
  retry_count      integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,
  dry_run          boolean NOT NULL DEFAULT false,
  pass_id          text
);
-- `sends list` filters, newest first: `WHERE x = $1 ORDER BY id DESC LIMIT n` reads n entries.
CREATE INDEX send_attempts_event ON send_attempts(event_id, id);
CREATE INDEX send_attempts_status ON send_attempts(status, id);
CREATE INDEX send_attempts_platform ON send_attempts(platform, id);
CREATE INDEX send_attempts_client ON send_attempts(client_id, id);
CREATE INDEX send_attempts_outbox ON send_attempts(outbox_id);

-- Scheduled send runs, one row per cron slot: whichever process inserts it runs that slot.
CREATE TABLE send_runs (
  slot         timestamptz PRIMARY KEY,
  owner        text NOT NULL,
  trigger      text NOT NULL CHECK (trigger IN ('schedule', 'startup')),
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  summary      jsonb
);

-- Google Data Manager diagnostics of delivered requests (google-data-manager.md §6).
CREATE TABLE google_request_status (
  seq            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  request_id     text PRIMARY KEY,
  connection_id  text NOT NULL,
  client_id      text NOT NULL,
  events         integer NOT NULL,
  sent_at        timestamptz NOT NULL,
  status         text NOT NULL DEFAULT 'PENDING',
  checks         integer NOT NULL DEFAULT 0,
  next_check_at  timestamptz,
  checked_at     timestamptz,
  records        integer,
  errors         jsonb,
  warnings       jsonb,
  last_error     text
);
CREATE INDEX google_request_status_due ON google_request_status(next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX google_request_status_client ON google_request_status(client_id, seq);
CREATE INDEX google_request_status_status ON google_request_status(status, seq);

-- Clients, their origins and stages are cached by every collector (read per request on the hot
-- paths); any change tells every connected store to drop its cache.
CREATE FUNCTION pruuv_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pruuv_catalog', TG_TABLE_NAME);
  RETURN NULL;
END;
$$;
CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE ON clients
  FOR EACH STATEMENT EXECUTE FUNCTION pruuv_catalog_changed();
CREATE TRIGGER client_origins_changed AFTER INSERT OR UPDATE OR DELETE ON client_origins
  FOR EACH STATEMENT EXECUTE FUNCTION pruuv_catalog_changed();
CREATE TRIGGER stages_changed AFTER INSERT OR UPDATE OR DELETE ON stages
  FOR EACH STATEMENT EXECUTE FUNCTION pruuv_catalog_changed();
