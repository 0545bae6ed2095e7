-- pruuv: foreign-keys off
-- The platforms a connection or an outbox row may name come from the sender's registry
-- (packages/sender/src/platforms/index.ts): adding a platform is a new adapter, not a schema
-- change. SQLite cannot drop a CHECK constraint in place, so `connections` and `outbox` are
-- rebuilt without it, the procedure of sqlite.org/lang_altertable.html#otheralter (foreign keys
-- off for the copy, checked before the commit). Every row, index and trigger is kept; the
-- clients' client_id in old outbox rows is filled from their event on the way.

CREATE TABLE connections_new (
  id             TEXT PRIMARY KEY,
  client_id      TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  platform       TEXT NOT NULL,
  settings       TEXT NOT NULL DEFAULT '{}',
  secrets        TEXT NULL,
  status         TEXT NOT NULL DEFAULT 'pending',
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  secret_names   TEXT NOT NULL DEFAULT '[]',
  status_reason  TEXT,
  paused_at      TEXT,
  UNIQUE (client_id, platform)
);
INSERT INTO connections_new (id, client_id, platform, settings, secrets, status, created_at, updated_at, secret_names, status_reason, paused_at)
  SELECT id, client_id, platform, settings, secrets, status, created_at, updated_at, secret_names, status_reason, paused_at FROM connections;
DROP TABLE connections;
ALTER TABLE connections_new RENAME TO connections;
CREATE INDEX connections_status ON connections(status);

CREATE TABLE outbox_new (
  id                INTEGER PRIMARY KEY,
  event_id          TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  platform          TEXT NOT NULL,
  status            TEXT NOT NULL DEFAULT 'pending',
  due_at            TEXT NOT NULL,
  attempts          INTEGER NOT NULL DEFAULT 0,
  lease_owner       TEXT,
  lease_until       TEXT,
  last_error        TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  client_id         TEXT,
  first_attempt_at  TEXT,
  finished_at       TEXT,
  UNIQUE (event_id, platform)
);
INSERT INTO outbox_new (id, event_id, platform, status, due_at, attempts, lease_owner, lease_until, last_error, created_at, updated_at,
    client_id, first_attempt_at, finished_at)
  SELECT o.id, o.event_id, o.platform, o.status, o.due_at, o.attempts, o.lease_owner, o.lease_until, o.last_error, o.created_at, o.updated_at,
    COALESCE(o.client_id, (SELECT e.client_id FROM events e WHERE e.id = o.event_id)), o.first_attempt_at, o.finished_at
  FROM outbox o;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, due_at);
CREATE INDEX outbox_leased ON outbox(lease_until) WHERE lease_until IS NOT NULL;
CREATE TRIGGER outbox_client_id AFTER INSERT ON outbox
WHEN NEW.client_id IS NULL
BEGIN
  UPDATE outbox SET client_id = (SELECT e.client_id FROM events e WHERE e.id = NEW.event_id) WHERE id = NEW.id;
END;
