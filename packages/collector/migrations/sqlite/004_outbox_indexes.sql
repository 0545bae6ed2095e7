-- One index fewer written per event (bench/ingest.mjs): outbox_connection (client_id,
-- platform, status) took three entries per event, one per platform, each at its own
-- place in the tree, and cost about a fifth of an admission's database time. Its only
-- reader was the count of the conversions a paused connection holds back, which now
-- reads outbox_due (status, due_at): a scan of the waiting rows, run only while a
-- connection is paused.
DROP INDEX IF EXISTS outbox_connection;
