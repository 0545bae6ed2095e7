-- The dashboard's Events and Conversion sends lists (issue 11): newest first, paginated by
-- keyset, each filter through an index whose order is the list's, so a page reads about its
-- `limit` entries and never sorts. SQLite ends every index entry with the rowid: the keyset's
-- tie-break between rows of the same instant.
--
-- Events of a client, and of every client, by receive time. Their keys grow with time, so an
-- admission adds its entry at the right end of its client's range (one page that is already in
-- the cache), not at a random place as the reference indexes do (bench/ingest.mjs).
-- A stage's events use events_stage_time, a reference events_client_reference (migration 001).
CREATE INDEX events_client_time ON events(client_id, received_ms);
CREATE INDEX events_time ON events(received_ms);

-- The conversion audit log by attempt time: every client, one client, one status (failed and
-- dead are the rare rows people look for), one client's status. The platform (about a third of
-- the rows) is checked on the rows these read; an event's attempts use send_attempts_event.
CREATE INDEX send_attempts_time ON send_attempts(attempted_at);
CREATE INDEX send_attempts_client_time ON send_attempts(client_id, attempted_at);
CREATE INDEX send_attempts_status_time ON send_attempts(status, attempted_at);
CREATE INDEX send_attempts_client_status_time ON send_attempts(client_id, status, attempted_at);
