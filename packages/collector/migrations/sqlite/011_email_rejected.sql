-- Why a webhook's raw email was not taken (`no_at`, `no_dot_in_domain`…): the
-- event is stored without it, and a send with nothing else to match on says why.
-- Only the reason is kept, never the value (raw PII is never stored).
ALTER TABLE events ADD COLUMN email_rejected TEXT;
