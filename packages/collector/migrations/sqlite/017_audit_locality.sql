-- The conversion audit log finds an event's records through the event's outbox rows
-- (`outbox_id IN (SELECT id FROM outbox WHERE event_id = ?)`): outbox ids are integers that grow
-- with time, so each record a send pass writes goes at the right end of send_attempts_outbox,
-- a page already in the cache. An index on the event's UUID took each record at a random place
-- when the id is a random version 4 (the pixel's): about one page written per record, and a pass
-- that got slower as the history grew (bench/storage.mjs).
--
-- send_attempts_outbox (migration 002) now serves: an event's records (the dashboard's event page,
-- `pruuv sends list --event`, the retention sweep) and the foreign key from outbox (ON DELETE SET NULL).
DROP INDEX IF EXISTS send_attempts_event;

-- `pruuv sends list` reads newest first by attempt time through the dashboard's indexes
-- (send_attempts_client_status_time, _status_time, _client_time, _time: migration 009); these
-- three, in id order, had no reader left. About 190 bytes per event with three sends.
DROP INDEX IF EXISTS send_attempts_status;
DROP INDEX IF EXISTS send_attempts_platform;
DROP INDEX IF EXISTS send_attempts_client;
