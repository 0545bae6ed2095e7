-- Retention (PRUUV_RETENTION_DAYS, src/domain/retention.ts): old events leave in small batches.

-- The sweep clears the link of later events that inherited from a removed one: this index reads only those.
CREATE INDEX events_inherited_from ON events(inherited_from) WHERE inherited_from IS NOT NULL;

-- A daily sweep removes about 1/180 of these tables at the default retention: with the default scale
-- factor (0.2, a vacuum once 20 % of rows are dead) autovacuum would come after some 36 sweeps, and the
-- tables would grow meanwhile. At 0.02 it comes after about four, and new rows reuse the space.
ALTER TABLE events SET (autovacuum_vacuum_scale_factor = 0.02);
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0.02);
ALTER TABLE send_attempts SET (autovacuum_vacuum_scale_factor = 0.02);
