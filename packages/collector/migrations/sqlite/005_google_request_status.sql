-- Google Data Manager diagnostics. Data Manager answers events:ingest with 200 before it matches
-- a click; what became of each request comes from requestStatus:retrieve, 30 minutes later at
-- the earliest, polled with backoff until final (google-data-manager.md §6). One row per
-- request id of a delivered (not validate-only) Data Manager batch, written with its audit rows.
-- status: PENDING (not final yet), Google's final statuses SUCCESS, PARTIAL_SUCCESS, FAILED,
-- REQUEST_STATUS_UNKNOWN, or UNAVAILABLE (no status will come) and GAVE_UP (not final after 7 days).
-- errors / warnings: JSON [{ "reason": "PROCESSING_ERROR_REASON_INVALID_GCLID", "count": 2 }].
CREATE TABLE google_request_status (
  request_id     TEXT PRIMARY KEY,
  connection_id  TEXT NOT NULL,
  client_id      TEXT NOT NULL,
  events         INTEGER NOT NULL,
  sent_at        TEXT NOT NULL,
  status         TEXT NOT NULL DEFAULT 'PENDING',
  checks         INTEGER NOT NULL DEFAULT 0,
  next_check_at  TEXT,
  checked_at     TEXT,
  records        INTEGER,
  errors         TEXT,
  warnings       TEXT,
  last_error     TEXT
);
-- Due checks, earliest first; final rows leave the index.
CREATE INDEX google_request_status_due ON google_request_status(next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX google_request_status_client ON google_request_status(client_id);
