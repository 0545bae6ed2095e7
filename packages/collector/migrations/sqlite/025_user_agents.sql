-- A user agent stored once (bench/storage.mjs): the `User-Agent` of a pixel event, which many
-- events share (about 110 bytes each), is a row of `user_agents` that the event names by key
-- (`user_agent_key`, with `user_agent` NULL); rows written before keep the text inline and read
-- the same (src/store/event-row.ts). An admission finds or adds its user agent in its own
-- transaction; `last_ms` is the latest receive time an admission refreshed it with (at most an
-- hour old: src/store/user-agents.ts), so retention removes only the ones no admission has used for
-- longer than the retention and no event names.
CREATE TABLE user_agents (
  id          INTEGER PRIMARY KEY,
  user_agent  TEXT NOT NULL,
  last_ms     INTEGER NOT NULL,
  -- The admission finds a user agent's key by its text.
  UNIQUE (user_agent)
);
ALTER TABLE events ADD COLUMN user_agent_key INTEGER REFERENCES user_agents(id);
-- Retention: whether any event still names a user agent (and the foreign key's check when one
-- goes). Pixel events only.
CREATE INDEX events_user_agent ON events(user_agent_key) WHERE user_agent_key IS NOT NULL;
-- Retention: the user agents no admission has used since its cutoff, of which it removes the ones
-- no event names.
CREATE INDEX user_agents_last ON user_agents(last_ms);
