-- The replies of a handled update are claimed by the instance that handled it and sends them;
-- replies left unsent by an instance that died are claimed by another once the claim is old.
ALTER TABLE processed_updates ADD COLUMN claimed_by TEXT;
ALTER TABLE processed_updates ADD COLUMN claimed_at TEXT;
