-- An outbox row's client is its event's: a row written from now on stores NULL in client_id and
-- reads its event's (src/store/outbox-row.ts), about 40 bytes a row with its alignment, four rows
-- per event (bench/storage.mjs). Rows written before keep theirs and read the same. No index holds
-- the outbox's client.
ALTER TABLE outbox ALTER COLUMN client_id DROP NOT NULL;
