-- Forged pixel beacons (issue 21): the same as SQLite's 013_held_events.sql.
--
-- A beacon without a browser's signals (a bot's User-Agent, no Sec-Fetch-* headers) is stored
-- but held: `held_reason` says why, and its outbox rows are written with status 'held', which
-- no send pass claims (the claim takes 'pending' and 'retrying' only). An admin's release sets
-- `released_at` and makes the rows 'pending'. The reason stays after the release, for the record.
ALTER TABLE events ADD COLUMN held_reason text;
ALTER TABLE events ADD COLUMN released_at timestamptz;
-- Held events waiting for a release, per client, newest first: few, so a small index.
CREATE INDEX events_held ON events(client_id, received_ms) WHERE held_reason IS NOT NULL AND released_at IS NULL;

-- The stage's hourly quota counts webhook events only (webhook-api.md "Rate limits"): beacons
-- have limits of their own and must never use up the quota a CRM needs.
CREATE INDEX events_webhook_stage_time ON events(stage_id, received_ms) WHERE source = 'webhook';

-- Beacons refused by the pixel limits (429), per client, limit ('address' or 'site') and
-- window, added by each collector once per window: the counts outlive the process, and the
-- CLI and the dashboard read them.
CREATE TABLE beacon_throttles (
  client_id     text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  window_start  timestamptz NOT NULL,
  scope         text NOT NULL CHECK (scope IN ('address', 'site')),
  count         bigint NOT NULL,
  PRIMARY KEY (client_id, window_start, scope)
);
CREATE INDEX beacon_throttles_window ON beacon_throttles(window_start);
