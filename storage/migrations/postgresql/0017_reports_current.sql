-- The current report of every (commune, form, subject): its newest period's newest version.
-- Kept by a trigger on every insert, whatever inserts (the dialog, a copy, a bulk load), so
-- the views read one row per series instead of grouping a commune's whole history (a year of
-- weekly reports is 50 rows per series). Concurrent inserts of one series meet on its row
-- (ON CONFLICT locks it): the newer one wins whatever the order of commits.
-- No report may be stored between the backfill and the trigger (an instance still running the
-- previous version): the table is locked against writes until this migration commits.
LOCK TABLE reports IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE reports_current (
    commune_id  BIGINT NOT NULL,
    form_id     TEXT NOT NULL,
    subject     TEXT NOT NULL,
    report_id   BIGINT NOT NULL REFERENCES reports (id),
    period      TEXT COLLATE "C" NOT NULL,  -- compared byte by byte, as SQLite and Python do
    version     BIGINT NOT NULL,
    PRIMARY KEY (commune_id, form_id, subject)
);
CREATE INDEX reports_current_by_form ON reports_current (form_id, commune_id);

INSERT INTO reports_current (commune_id, form_id, subject, report_id, period, version)
SELECT DISTINCT ON (commune_id, form_id, subject)
    commune_id, form_id, subject, id, period, version
FROM reports
ORDER BY commune_id, form_id, subject, period COLLATE "C" DESC, version DESC;

CREATE FUNCTION reports_current_track() RETURNS trigger AS $$
BEGIN
    INSERT INTO reports_current (commune_id, form_id, subject, report_id, period, version)
    VALUES (NEW.commune_id, NEW.form_id, NEW.subject, NEW.id, NEW.period, NEW.version)
    ON CONFLICT (commune_id, form_id, subject) DO UPDATE SET
        report_id = EXCLUDED.report_id, period = EXCLUDED.period, version = EXCLUDED.version
    WHERE (EXCLUDED.period, EXCLUDED.version) > (reports_current.period, reports_current.version);
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER reports_current_track AFTER INSERT ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_current_track();
