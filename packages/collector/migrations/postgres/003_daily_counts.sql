-- Daily roll-ups for the dashboard's overview (the same tables and rules as SQLite's
-- 008_daily_counts.sql, which explains them): written in the transaction of what they
-- count (an event's admission, a send commit's audit records), so they are exact and
-- survive restarts; no platform names, an event is counted by the identifiers it carries.
-- Days are UTC.

CREATE TABLE daily_events (
  client_id  text NOT NULL,
  day        date NOT NULL,
  stage_id   text NOT NULL,
  -- Names of the click IDs and cookie IDs carried, sorted, comma-separated ('' for none).
  ids        text NOT NULL,
  events     bigint NOT NULL,
  email      bigint NOT NULL,
  phone      bigint NOT NULL,
  PRIMARY KEY (client_id, day, stage_id, ids)
);

CREATE TABLE daily_sends (
  client_id  text NOT NULL,
  day        date NOT NULL,
  platform   text NOT NULL,
  status     text NOT NULL,
  count      bigint NOT NULL,
  PRIMARY KEY (client_id, day, platform, status)
);
CREATE INDEX daily_sends_status ON daily_sends(status, day);

INSERT INTO daily_events (client_id, day, stage_id, ids, events, email, phone)
SELECT client_id, (received_at AT TIME ZONE 'UTC')::date, stage_id,
  concat_ws(',',
    CASE WHEN fbc IS NOT NULL THEN 'fbc' END,
    CASE WHEN fbclid IS NOT NULL THEN 'fbclid' END,
    CASE WHEN fbp IS NOT NULL THEN 'fbp' END,
    CASE WHEN gbraid IS NOT NULL THEN 'gbraid' END,
    CASE WHEN gclid IS NOT NULL THEN 'gclid' END,
    CASE WHEN msclkid IS NOT NULL THEN 'msclkid' END,
    CASE WHEN ttclid IS NOT NULL THEN 'ttclid' END,
    CASE WHEN ttp IS NOT NULL THEN 'ttp' END,
    CASE WHEN wbraid IS NOT NULL THEN 'wbraid' END),
  count(*), count(email_sha256), count(phone_sha256)
FROM events
GROUP BY 1, 2, 3, 4;

INSERT INTO daily_sends (client_id, day, platform, status, count)
SELECT client_id, (attempted_at AT TIME ZONE 'UTC')::date, platform, status, count(*)
FROM send_attempts
WHERE client_id IS NOT NULL
GROUP BY 1, 2, 3, 4;
