-- The audit log names its client by a small integer key instead of the client's id text (a
-- 36-character UUID): some 40 bytes a record with its alignment and more in each of its two client
-- index entries (send_attempts_client_time, send_attempts_client_status_time), three records per
-- event (bench/storage.mjs), where the key takes four.
--
-- The rewrite below reads and writes every record: on a large log a statement takes longer than
-- the store's bound on one (30 s), which holds for this migration's transaction no more.
SET LOCAL statement_timeout = 0;
--
-- A client's key, given by the database (existing clients get theirs here).
ALTER TABLE clients ADD COLUMN key integer GENERATED ALWAYS AS IDENTITY;
-- clients_key: a record's client id read back from its key (AUDIT_CLIENT_SQL, src/store/audit-row.ts:
-- every list of the audit log).
CREATE UNIQUE INDEX clients_key ON clients(key);
--
-- A record stores its client's key in client_key, and NULL in client_id (a record of a client the
-- database does not know keeps its id there). The client indexes hold the key.
ALTER TABLE send_attempts ADD COLUMN client_key integer;
DROP INDEX IF EXISTS send_attempts_client_time;
DROP INDEX IF EXISTS send_attempts_client_status_time;
-- Existing records are rewritten once here, not left as text: the key is an index key, and an index
-- cannot look a text id up in clients, so a record left as text would be in no client index by its
-- key, and every client's list would have to read a second index and merge the two in time order.
-- The rewrite writes each record anew once, with the two client indexes dropped meanwhile; autovacuum
-- (migration 009: after 2 % of the table changed) frees the old versions for the records to come, so
-- the table does not shrink but stops growing until they are filled.
UPDATE send_attempts a SET client_key = c.key, client_id = NULL FROM clients c WHERE c.id = a.client_id;
-- send_attempts_client_time: the dashboard's Conversion sends and `pruuv sends list` of one client
-- (a client's dashboard, `--client`) without a status or with `sent`, newest first, paged by
-- (attempted_at, id); the client's key from its id (src/store/postgres/send-log.ts).
CREATE INDEX send_attempts_client_time ON send_attempts(client_key, attempted_at, id);
-- send_attempts_client_status_time: the same lists of one client and one status but `sent`
-- (migration 018 for why `sent` is left out).
CREATE INDEX send_attempts_client_status_time ON send_attempts(client_key, status, attempted_at, id) WHERE status <> 'sent';
