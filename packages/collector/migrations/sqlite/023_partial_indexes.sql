-- Indexes over the rows their queries read, not over every row (bench/storage.mjs). Most outbox
-- rows are finished and most audit records are `sent`: an entry per such row was written and kept
-- for ever in indexes that only ever read the others.
--
-- outbox_due: the claim, the preview's due rows, the count a paused connection holds back, the
-- next retry and the due gauge read waiting rows only ('pending', 'retrying'); each of those
-- statements carries this exact term, so SQLite can prove it reads the index's rows
-- (sqlite.org/partialindex.html#queries_using_partial_indexes). About 130 bytes per event.
DROP INDEX IF EXISTS outbox_due;
CREATE INDEX outbox_due ON outbox(status, due_at) WHERE status IN ('pending', 'retrying');

-- The audit log's status lists (dashboard's Conversion sends, `pruuv sends list --status`):
-- failed, dead, retrying and skipped records are the ones people look for, and few. A list of
-- `sent` records reads the time index of its shape (send_attempts_client_time, send_attempts_time)
-- and checks the status on the rows, most of which are `sent`. About 320 bytes per event.
DROP INDEX IF EXISTS send_attempts_status_time;
DROP INDEX IF EXISTS send_attempts_client_status_time;
CREATE INDEX send_attempts_status_time ON send_attempts(status, attempted_at) WHERE status <> 'sent';
CREATE INDEX send_attempts_client_status_time ON send_attempts(client_id, status, attempted_at) WHERE status <> 'sent';
