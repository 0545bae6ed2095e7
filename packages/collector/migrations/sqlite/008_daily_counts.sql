-- Daily roll-ups for the dashboard's overview: counting 30 days of events or audit rows per
-- view costs a scan of what those days hold (1,000,000 events: seconds); these tables hold a
-- few rows per client and day, and each view reads a few hundred of them.
--
-- Exact: each count is written in the same transaction as what it counts (an event's
-- admission, a send commit's audit records), so it commits or rolls back with it and
-- survives restarts. No platform names here: an event is counted by the identifiers it
-- carries; which platform uses which identifier is the sender's registry's business,
-- applied when the figures are read (store/daily-counts.ts).
-- Days are UTC, 'YYYY-MM-DD'.

-- Events admitted (stored; never duplicates or rate-limited ones) per client, UTC day of
-- received_at, stage, and the set of click IDs and cookie IDs they carry: `ids` holds their
-- names, sorted, comma-separated ('fbc,fbclid,fbp'; '' for none). email / phone: how many
-- of them carry a hashed email / phone.
CREATE TABLE daily_events (
  client_id  TEXT NOT NULL,
  day        TEXT NOT NULL,
  stage_id   TEXT NOT NULL,
  ids        TEXT NOT NULL,
  events     INTEGER NOT NULL,
  email      INTEGER NOT NULL,
  phone      INTEGER NOT NULL,
  PRIMARY KEY (client_id, day, stage_id, ids)
) WITHOUT ROWID;

-- Audit records (send_attempts) per client, UTC day of attempted_at, platform and status.
CREATE TABLE daily_sends (
  client_id  TEXT NOT NULL,
  day        TEXT NOT NULL,
  platform   TEXT NOT NULL,
  status     TEXT NOT NULL,
  count      INTEGER NOT NULL,
  PRIMARY KEY (client_id, day, platform, status)
) WITHOUT ROWID;
-- "Dead sends in the last 30 days", across clients: only the rows of that status are read.
CREATE INDEX daily_sends_status ON daily_sends(status, day);

-- The rows already stored, counted by the rules the store applies from now on.
INSERT INTO daily_events (client_id, day, stage_id, ids, events, email, phone)
-- The day of `received_ms` (the same instant as `received_at`, which later rows store once as '').
SELECT client_id, strftime('%Y-%m-%d', received_ms / 1000, 'unixepoch'), stage_id,
  substr(
    CASE WHEN fbc IS NOT NULL THEN ',fbc' ELSE '' END ||
    CASE WHEN fbclid IS NOT NULL THEN ',fbclid' ELSE '' END ||
    CASE WHEN fbp IS NOT NULL THEN ',fbp' ELSE '' END ||
    CASE WHEN gbraid IS NOT NULL THEN ',gbraid' ELSE '' END ||
    CASE WHEN gclid IS NOT NULL THEN ',gclid' ELSE '' END ||
    CASE WHEN msclkid IS NOT NULL THEN ',msclkid' ELSE '' END ||
    CASE WHEN ttclid IS NOT NULL THEN ',ttclid' ELSE '' END ||
    CASE WHEN ttp IS NOT NULL THEN ',ttp' ELSE '' END ||
    CASE WHEN wbraid IS NOT NULL THEN ',wbraid' ELSE '' END,
    2),
  COUNT(*), COUNT(email_sha256), COUNT(phone_sha256)
FROM events
GROUP BY 1, 2, 3, 4;

-- Every attempt the sender wrote has a client (the column came with it, in 002).
INSERT INTO daily_sends (client_id, day, platform, status, count)
SELECT client_id, strftime('%Y-%m-%d', attempted_at), platform, status, COUNT(*)
FROM send_attempts
WHERE client_id IS NOT NULL
GROUP BY 1, 2, 3, 4;
