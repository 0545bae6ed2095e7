-- Retention (PRUUV_RETENTION_DAYS, src/domain/retention.ts): old events leave in small batches.
--
-- A later event that inherited from a removed one loses the link (inherited_from, a foreign key
-- to events since migration 001). Without an index on it, each removed event would make SQLite
-- scan every event for children (sqlite.org/foreignkeys.html#fk_indexes), and the sweep's UPDATE
-- too; with it, both read only the few events that inherited anything.
CREATE INDEX events_inherited_from ON events(inherited_from) WHERE inherited_from IS NOT NULL;

-- auto_vacuum = INCREMENTAL, so a sweep can give freed pages back (PRAGMA incremental_vacuum), is
-- set by openDb on new files. An existing file only changes mode with a VACUUM, which rewrites the
-- whole file under an exclusive lock and needs as much free disk again: too slow and too large for
-- a migration that runs at start. `pruuv db vacuum` does it when the operator chooses.
