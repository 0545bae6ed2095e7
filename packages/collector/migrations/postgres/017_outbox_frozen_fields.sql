-- The fields a platform's adapter freezes at a send's first attempt (`frozenFields`; Microsoft:
-- the goal name and whether hashes went, microsoft-ads.md §5), written before that attempt is
-- sent and resent unchanged by every retry. NULL for every other row: nothing is frozen there.
ALTER TABLE outbox ADD COLUMN frozen_fields text;
