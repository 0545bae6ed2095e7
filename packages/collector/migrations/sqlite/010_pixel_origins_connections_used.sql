-- The dashboard's "is the pixel installed?" check: when the pixel was last heard from, per client
-- and allowed page origin. A table of its own rather than an index on events, which every admission
-- would pay for: the ingest route writes a row at most once a minute per (client, origin) and
-- process, keeping the later time. Times are ISO 8601 UTC text, so they compare as text.
CREATE TABLE pixel_origins (
  client_id     TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  origin        TEXT NOT NULL,
  last_seen_at  TEXT NOT NULL,
  PRIMARY KEY (client_id, origin)
) WITHOUT ROWID;

-- When a send pass last used a connection's credentials, written with the batch's commit.
ALTER TABLE connections ADD COLUMN last_used_at TEXT;
