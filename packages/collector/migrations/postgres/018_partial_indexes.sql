-- The audit log's status lists (dashboard's Conversion sends, `pruuv sends list --status`), as
-- SQLite's 023_partial_indexes.sql: failed, dead, retrying and skipped records are the ones people
-- look for, and few. A list of `sent` records reads the time index of its shape
-- (send_attempts_client_time, send_attempts_time) and checks the status on the rows, most of which
-- are `sent`. About 570 bytes per event with its sends (bench/storage.mjs). outbox_due is partial
-- already (001_init.sql).
DROP INDEX IF EXISTS send_attempts_status_time;
DROP INDEX IF EXISTS send_attempts_client_status_time;
CREATE INDEX send_attempts_status_time ON send_attempts(status, attempted_at, id) WHERE status <> 'sent';
CREATE INDEX send_attempts_client_status_time ON send_attempts(client_id, status, attempted_at, id) WHERE status <> 'sent';
