-- The dashboard's "is the pixel installed?" check and when a connection's credentials were last
-- used (the same as SQLite's 010_pixel_origins_connections_used.sql).
-- pixel_origins: when the pixel was last heard from, per client and allowed page origin; written by
-- the ingest route at most once a minute per (client, origin) and process, keeping the later time.
-- A table of its own rather than an index on events, which every admission would pay for.
CREATE TABLE pixel_origins (
  client_id     text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  origin        text NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  PRIMARY KEY (client_id, origin)
);

-- When a send pass last used a connection's credentials, written with the batch's commit.
ALTER TABLE connections ADD COLUMN last_used_at timestamptz;
