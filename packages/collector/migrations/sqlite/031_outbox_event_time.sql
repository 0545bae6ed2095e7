-- pruuv: foreign-keys off
-- The outbox's unique key starts with its event's receive time, so its entries grow at the right
-- end for every style of event id (bench/storage.mjs). Keyed by (event_id, platform), the entry of
-- a row of a pixel event (a random version 4 id) sat at a random page: an admission wrote four
-- entries there, and a send pass that removes the never-attempted rows of a platform the client
-- has no connection for (`discard` of the commit) wrote about one page per removed row, a pass
-- that wrote more as the history grew (1.26 times the bytes at 100,000 stored events as at 10,000).
--
-- `event_ms` is the event's `received_ms` (Unix ms), which never changes. Every statement that
-- finds an event's rows gives it, through the event found by its primary key:
--   `FROM events e JOIN outbox o ON o.event_ms = e.received_ms AND o.event_id = e.id WHERE e.id = ?`.
-- A row's receipt (its due time when it stores none, src/store/outbox-row.ts) is read from it,
-- without a lookup of the event.
--
-- The key's unique index serves: one row per event and platform (the admission's insert); an
-- event's rows (the dashboard's event page, the send lists' rows of the events listed, the release
-- of a held event); an event's audit records (`pruuv sends list --event`, the dashboard's audit
-- list filtered by event: through their outbox rows' ids); the retention sweep (whether an event
-- may go, its audit records and its rows); and the triggers below that keep the link to the event.
--
-- SQLite cannot change a table's constraints in place: the table is rebuilt, the procedure of
-- sqlite.org/lang_altertable.html#otheralter (foreign keys off for the copy, checked before the
-- commit), every row, id and index kept. Audit records keep pointing at their rows' ids
-- (send_attempts.outbox_id, ON DELETE SET NULL, unchanged).
CREATE TABLE outbox_new (
  id                INTEGER PRIMARY KEY,
  event_id          TEXT NOT NULL,
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
  frozen_fields     TEXT,
  event_ms          INTEGER NOT NULL,
  UNIQUE (event_ms, event_id, platform)
);
INSERT INTO outbox_new (id, event_id, platform, status, due_at, attempts, lease_owner, lease_until, last_error, created_at, updated_at,
    client_id, first_attempt_at, finished_at, frozen_fields, event_ms)
  SELECT o.id, o.event_id, o.platform, o.status, o.due_at, o.attempts, o.lease_owner, o.lease_until, o.last_error, o.created_at, o.updated_at,
    o.client_id, o.first_attempt_at, o.finished_at, o.frozen_fields, e.received_ms
  FROM outbox o JOIN events e ON e.id = o.event_id
  ORDER BY o.id;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;

-- As migration 023 made it: the claim, the preview's due rows, the count a paused connection holds
-- back, the next retry and the due gauge read waiting rows only ('pending', 'retrying'); each of
-- those statements carries this exact term (sqlite.org/partialindex.html#queries_using_partial_indexes).
CREATE INDEX outbox_due ON outbox(status, due_at) WHERE status IN ('pending', 'retrying');
-- As migration 002 made it: a lease that ran out (the claim takes such rows again) and the next
-- follow-up pass's time (`MIN(lease_until)`, NEXT_LEASE_SQL in src/store/sqlite/outbox.ts).
CREATE INDEX outbox_leased ON outbox(lease_until) WHERE lease_until IS NOT NULL;

-- The link to the event, kept as the foreign key `event_id REFERENCES events(id) ON DELETE
-- CASCADE` kept it, by triggers that go through the key above. SQLite checks a foreign key's
-- children by the child's columns alone: each removed event would scan the whole outbox, which no
-- longer has an index that starts with `event_id` (sqlite.org/foreignkeys.html#fk_indexes).
--
-- A row names an event that exists, with that event's receive time (one lookup of the event by
-- its primary key per row, as the foreign key's check was).
CREATE TRIGGER outbox_event_insert BEFORE INSERT ON outbox
WHEN NOT EXISTS (SELECT 1 FROM events e WHERE e.id = NEW.event_id AND e.received_ms = NEW.event_ms)
BEGIN
  SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: an outbox row names an event that does not exist, or not with its receive time');
END;
CREATE TRIGGER outbox_event_update BEFORE UPDATE OF event_id, event_ms ON outbox
WHEN NOT EXISTS (SELECT 1 FROM events e WHERE e.id = NEW.event_id AND e.received_ms = NEW.event_ms)
BEGIN
  SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: an outbox row names an event that does not exist, or not with its receive time');
END;
-- An event's key does not change while rows name it (the foreign key's default, NO ACTION).
CREATE TRIGGER outbox_event_key BEFORE UPDATE OF id, received_ms ON events
WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.event_ms = OLD.received_ms AND o.event_id = OLD.id)
BEGIN
  SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: outbox rows name this event');
END;
-- A removed event takes its rows with it (ON DELETE CASCADE). The retention sweep removes them
-- first, so this finds none there: one probe of the key per event.
CREATE TRIGGER outbox_event_delete AFTER DELETE ON events
BEGIN
  DELETE FROM outbox WHERE event_ms = OLD.received_ms AND event_id = OLD.id;
END;
