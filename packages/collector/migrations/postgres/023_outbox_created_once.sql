-- An outbox row is created with its event, at its receipt: a row written from now on stores NULL
-- in created_at, which nothing reads (src/store/outbox-row.ts), 8 bytes a row, four rows per event
-- (bench/storage.mjs). Rows written before keep theirs.
ALTER TABLE outbox ALTER COLUMN created_at DROP NOT NULL;
--
-- A finished row whose due time is its event's receipt stores NULL in due_at, read back from the
-- event's received_ms (src/store/outbox-row.ts), 8 bytes a row. Waiting rows always store theirs
-- (the claim and outbox_due read it).
ALTER TABLE outbox ALTER COLUMN due_at DROP NOT NULL;
