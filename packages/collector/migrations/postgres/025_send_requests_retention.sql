-- Retention removes a request's row of `send_requests` (019) with the last audit record naming it
-- (src/store/postgres/retention.ts): the records a batch removes name their requests, and a request
-- goes when no record is left that names it. Both that check and the foreign key's own check on
-- the delete look records up by `request_key`; without this index each would read the whole log.
-- The records of one request share their key, which the B-tree stores once (deduplication).
-- Records without a request (a person's "retry now", records written before 019) are not in it.
CREATE INDEX send_attempts_request ON send_attempts(request_key) WHERE request_key IS NOT NULL;
