-- An outbox row's client is its event's: a row written from now on stores NULL in client_id and
-- reads its event's (src/store/outbox-row.ts), 36 bytes a row, four rows per event
-- (bench/storage.mjs). The trigger of migration 002 filled a NULL client_id from the event on
-- insert; it goes, or it would store the client again. Rows written before keep theirs and read
-- the same. No index holds the outbox's client (migration 004 dropped outbox_connection).
DROP TRIGGER IF EXISTS outbox_client_id;
--
-- A row is created with its event, at its receipt (the event's received_at), and nothing reads
-- its created_at: a row written from now on stores '' there (the column is NOT NULL), 24 bytes a
-- row. Rows written before keep theirs.
