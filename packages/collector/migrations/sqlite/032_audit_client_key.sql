-- The audit log names its client by a small integer key instead of the client's id text (a
-- 36-character UUID): 37 bytes a record and two index entries (send_attempts_client_time,
-- send_attempts_client_status_time), three records per event (bench/storage.mjs), where the key
-- takes one or two.
--
-- A client's key: an explicit column, given once (an implicit rowid may change on VACUUM) and
-- kept; the store gives a new client the next one (src/store/sqlite/clients.ts).
ALTER TABLE clients ADD COLUMN key INTEGER;
UPDATE clients SET key = rowid;
-- clients_key: a record's client id read back from its key (AUDIT_CLIENT_SQL, src/store/audit-row.ts:
-- every list of the audit log), and the next key of a new client (MAX).
CREATE UNIQUE INDEX clients_key ON clients(key);
--
-- A record stores its client's key in client_key, and NULL in client_id (a record of a client the
-- file does not know keeps its id there). The client indexes hold the key.
ALTER TABLE send_attempts ADD COLUMN client_key INTEGER;
DROP INDEX IF EXISTS send_attempts_client_time;
DROP INDEX IF EXISTS send_attempts_client_status_time;
-- Existing records are rewritten once here, not left as text: the key is an index key, and an index
-- cannot look a text id up in clients, so a record left as text would be in no client index by its
-- key, and every client's list would have to read a second index and merge the two in time order.
-- The rewrite reads the log once, as building an index does (migration 028), with the two client
-- indexes dropped meanwhile; the records become 36 bytes shorter.
UPDATE send_attempts SET client_key = (SELECT c.key FROM clients c WHERE c.id = send_attempts.client_id), client_id = NULL
  WHERE client_id IN (SELECT id FROM clients);
-- send_attempts_client_time: the dashboard's Conversion sends and `pruuv sends list` of one client
-- (a client's dashboard, `--client`) without a status or with `sent`, newest first, paged by
-- (instant, id); the client's key from its id (src/store/sqlite/send-log.ts).
CREATE INDEX send_attempts_client_time ON send_attempts(client_key, CAST(round(unixepoch(attempted_at, 'subsec') * 1000) AS INTEGER));
-- send_attempts_client_status_time: the same lists of one client and one status but `sent`
-- (migration 023 for why `sent` is left out).
CREATE INDEX send_attempts_client_status_time ON send_attempts(client_key, status, CAST(round(unixepoch(attempted_at, 'subsec') * 1000) AS INTEGER))
  WHERE status <> 'sent';
