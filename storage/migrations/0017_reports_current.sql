-- The current report of every (commune, form, subject): its newest period's newest version.
-- Kept by a trigger on every insert, whatever inserts (the dialog, a copy, a bulk load), so
-- the views read one row per series instead of grouping a commune's whole history (a year of
-- weekly reports is 50 rows per series).
CREATE TABLE reports_current (
    commune_id  INTEGER NOT NULL,
    form_id     TEXT NOT NULL,
    subject     TEXT NOT NULL,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    period      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    PRIMARY KEY (commune_id, form_id, subject)
);
CREATE INDEX reports_current_by_form ON reports_current (form_id, commune_id);

INSERT INTO reports_current (commune_id, form_id, subject, report_id, period, version)
SELECT r.commune_id, r.form_id, r.subject, r.id, r.period, r.version
FROM reports r
JOIN (
    SELECT id AS newest, max(period || '#' || printf('%06d', version))
    FROM reports GROUP BY commune_id, form_id, subject
) m ON r.id = m.newest;

CREATE TRIGGER reports_current_track AFTER INSERT ON reports
BEGIN
    INSERT INTO reports_current (commune_id, form_id, subject, report_id, period, version)
    VALUES (NEW.commune_id, NEW.form_id, NEW.subject, NEW.id, NEW.period, NEW.version)
    ON CONFLICT (commune_id, form_id, subject) DO UPDATE SET
        report_id = excluded.report_id, period = excluded.period, version = excluded.version
    WHERE (excluded.period, excluded.version) > (reports_current.period, reports_current.version);
END;
