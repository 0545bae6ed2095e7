-- The audit log's time indexes keyed by the attempt's instant as an integer of milliseconds
-- (`CAST(round(unixepoch(attempted_at, 'subsec') * 1000) AS INTEGER)`, src/store/audit-row.ts
-- AUDIT_MS_SQLITE_SQL), not by its ISO 8601 text: 6 bytes in an entry instead of 24, the same
-- order (every `attempted_at` is `toISOString()` text, which sorts as its instant), on four
-- entries per event (bench/storage.mjs). The records keep their text; only the indexes change.
-- A statement reads one of these only when it orders and bounds by that same expression
-- (src/store/sqlite/send-log.ts), as the plan tests in test/store/sqlite.test.ts check.
--
-- send_attempts_time: the dashboard's Conversion sends and `pruuv sends list` without a client or
-- a status other than `sent`, newest first, paged by (instant, id).
DROP INDEX IF EXISTS send_attempts_time;
CREATE INDEX send_attempts_time ON send_attempts(CAST(round(unixepoch(attempted_at, 'subsec') * 1000) AS INTEGER));
-- send_attempts_client_time: the same lists of one client (a client's dashboard, `--client`).
DROP INDEX IF EXISTS send_attempts_client_time;
CREATE INDEX send_attempts_client_time ON send_attempts(client_id, CAST(round(unixepoch(attempted_at, 'subsec') * 1000) AS INTEGER));
-- send_attempts_status_time: the lists of one status but `sent` (failed, dead, retrying, skipped:
-- migration 023 for why `sent` is left out).
DROP INDEX IF EXISTS send_attempts_status_time;
CREATE INDEX send_attempts_status_time ON send_attempts(status, CAST(round(unixepoch(attempted_at, 'subsec') * 1000) AS INTEGER))
  WHERE status <> 'sent';
-- send_attempts_client_status_time: the lists of one client and one status but `sent`.
DROP INDEX IF EXISTS send_attempts_client_status_time;
CREATE INDEX send_attempts_client_status_time ON send_attempts(client_id, status, CAST(round(unixepoch(attempted_at, 'subsec') * 1000) AS INTEGER))
  WHERE status <> 'sent';
