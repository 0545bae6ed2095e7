-- Retention removes a request's row of `send_requests` (024) with the last audit record naming it
-- (src/store/sqlite/retention.ts): the records a batch removes name their requests, and a request
-- goes when no record is left that names it. Both that check and the foreign key's own check on
-- the delete look records up by `request_key`; without this index each would read the whole log.
-- Request keys grow with time, so each record a pass writes goes at the index's right end.
-- Records without a request (a person's "retry now", records written before 024) are not in it.
CREATE INDEX send_attempts_request ON send_attempts(request_key) WHERE request_key IS NOT NULL;
