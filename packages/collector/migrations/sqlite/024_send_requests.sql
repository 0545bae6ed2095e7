-- What the records of one request share, stored once (bench/storage.mjs): the pass that made the
-- request and the platform's id for it (Meta's fbtrace_id, TikTok's request_id, Google's request
-- id), about 60 bytes a record that a batch of up to 1,000 records repeated. A record of a pass
-- names its request by `request_key`, with `pass_id` and `request_id` NULL; a record without a
-- pass (a person's "retry now") keeps them inline, as every record written before does
-- (src/store/audit-row.ts). A request without a platform id has request_id ''.
CREATE TABLE send_requests (
  id          INTEGER PRIMARY KEY,
  pass_id     TEXT NOT NULL,
  request_id  TEXT NOT NULL,
  -- The commit finds or adds its requests by this key.
  UNIQUE (pass_id, request_id)
);
ALTER TABLE send_attempts ADD COLUMN request_key INTEGER REFERENCES send_requests(id);
