-- The dashboard's Events and Conversion sends lists (issue 11), as SQLite's
-- 009_dashboard_lists.sql: newest first, paginated by keyset, each filter through an index whose
-- order is the list's, so a page reads about its `limit` entries and never sorts. Each index
-- ends with the keyset's tie-break (`seq` of events, `id` of send attempts).
--
-- Events of a client, and of every client, by receive time. A reference's events use
-- events_client_reference (001_init.sql).
CREATE INDEX events_client_time ON events(client_id, received_ms, seq);
CREATE INDEX events_time ON events(received_ms, seq);

-- A stage's events: events_stage_time (001_init.sql) gains the tie-break, so a page walks it in
-- the list's order without a sort (without `seq` the planner may, by its statistics, prefer a
-- bitmap scan of the stage's every event and a sort). The stage's hourly quota reads its prefix
-- (stage_id, received_ms) as before.
DROP INDEX events_stage_time;
CREATE INDEX events_stage_time ON events(stage_id, received_ms, seq);

-- The conversion audit log by attempt time: every client, one client, one status, one client's
-- status. The platform is checked on the rows these read; an event's attempts use send_attempts_event.
CREATE INDEX send_attempts_time ON send_attempts(attempted_at, id);
CREATE INDEX send_attempts_client_time ON send_attempts(client_id, attempted_at, id);
CREATE INDEX send_attempts_status_time ON send_attempts(status, attempted_at, id);
CREATE INDEX send_attempts_client_status_time ON send_attempts(client_id, status, attempted_at, id);
