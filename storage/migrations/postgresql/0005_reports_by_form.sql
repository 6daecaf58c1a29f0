-- The current report of every commune for one form (the digest's BHYT column, criteria counts)
-- reads this index alone instead of walking every commune's whole history.
CREATE INDEX reports_by_form ON reports (form_id, commune_id, subject, period, version);
