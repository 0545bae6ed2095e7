-- Fewer indexes written per event (bench/ingest.mjs): every index on `events` is one more
-- B-tree insert and, its keys being random, one more 4 KB page written to the WAL per event.
--
-- The 60-second dedup (same stage, same reference) now reads events_client_reference: a
-- stage belongs to one client, so `client_id = ? AND reference = ? AND received_ms >= ?`
-- finds the few events of that reference in the window (at most one per stage of the
-- client, since duplicates are never stored) and `stage_id = ?` is checked on those rows.
DROP INDEX IF EXISTS events_stage_reference;
