-- Conversion sending: outbox leases and history, encrypted connections, the
-- conversion audit log and the schedule's run ledger.
-- Times are ISO 8601 UTC text (`toISOString()`), so they compare as text.

-- Outbox: the client of each row (to find the row's connection without a join),
-- when the first attempt was made (the platforms' dedup windows start there)
-- and when the row reached a final state.
ALTER TABLE outbox ADD COLUMN client_id TEXT;
ALTER TABLE outbox ADD COLUMN first_attempt_at TEXT;
ALTER TABLE outbox ADD COLUMN finished_at TEXT;

UPDATE outbox SET client_id = (SELECT e.client_id FROM events e WHERE e.id = outbox.event_id) WHERE client_id IS NULL;

-- Rows are enqueued with the event's insert; the client comes from the event.
CREATE TRIGGER outbox_client_id AFTER INSERT ON outbox
WHEN NEW.client_id IS NULL
BEGIN
  UPDATE outbox SET client_id = (SELECT e.client_id FROM events e WHERE e.id = NEW.event_id) WHERE id = NEW.id;
END;

-- Rows a paused connection holds back: counted per (client, platform) without a scan.
CREATE INDEX outbox_connection ON outbox(client_id, platform, status);
-- Live leases are few (only rows in flight): the earliest expiry is found at once.
CREATE INDEX outbox_leased ON outbox(lease_until) WHERE lease_until IS NOT NULL;

-- Connections: why a connection is paused, and since when.
-- status: 'active' (sending) or 'paused' (an auth or permission error; fixed by `pruuv connections set`).
-- settings: JSON of the non-secret fields; secrets: one AES-256-GCM ciphertext of a JSON object
-- of the secret fields (access token, refresh token, client secret, developer token).
-- secret_names: JSON array of the secret fields stored, so they can be listed without the key.
ALTER TABLE connections ADD COLUMN secret_names TEXT NOT NULL DEFAULT '[]';
ALTER TABLE connections ADD COLUMN status_reason TEXT;
ALTER TABLE connections ADD COLUMN paused_at TEXT;
CREATE INDEX connections_status ON connections(status);

-- The conversion audit log: one row per attempt of one event on one platform.
-- No PII and no hashes: ids, statuses and what the platform answered.
ALTER TABLE send_attempts ADD COLUMN client_id TEXT;
ALTER TABLE send_attempts ADD COLUMN stage_id TEXT;
ALTER TABLE send_attempts ADD COLUMN connection_id TEXT;
ALTER TABLE send_attempts ADD COLUMN reason TEXT;
ALTER TABLE send_attempts ADD COLUMN message TEXT;
ALTER TABLE send_attempts ADD COLUMN error_code TEXT;
ALTER TABLE send_attempts ADD COLUMN request_id TEXT;
ALTER TABLE send_attempts ADD COLUMN dedup_key TEXT;
ALTER TABLE send_attempts ADD COLUMN batch_size INTEGER;
ALTER TABLE send_attempts ADD COLUMN next_attempt_at TEXT;
ALTER TABLE send_attempts ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE send_attempts ADD COLUMN pass_id TEXT;
-- `sends list` filters, newest first: each index ends with the rowid, so
-- `WHERE status = ? ORDER BY id DESC LIMIT n` reads n index entries.
CREATE INDEX send_attempts_status ON send_attempts(status);
CREATE INDEX send_attempts_platform ON send_attempts(platform);
CREATE INDEX send_attempts_client ON send_attempts(client_id);
CREATE INDEX send_attempts_outbox ON send_attempts(outbox_id);

-- Scheduled send runs, one row per cron slot, inserted before the run starts
-- (INSERT OR IGNORE): whichever process inserts it runs that slot; a slot never runs twice.
CREATE TABLE send_runs (
  slot         TEXT PRIMARY KEY,
  owner        TEXT NOT NULL,
  trigger      TEXT NOT NULL CHECK (trigger IN ('schedule', 'startup')),
  started_at   TEXT NOT NULL,
  finished_at  TEXT,
  summary      TEXT
);
