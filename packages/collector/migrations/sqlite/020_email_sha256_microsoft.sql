-- Microsoft Advertising's email hash (microsoft-ads.md §3.1): dots and any +alias removed from
-- the local part on every domain, then SHA-256. Made at ingest from a webhook's raw address
-- when it differs from email_sha256; raw PII is never stored.
ALTER TABLE events ADD COLUMN email_sha256_microsoft TEXT;
