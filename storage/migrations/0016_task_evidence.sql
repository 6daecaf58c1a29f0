-- A task mark can have a report as its source: a report meeting its form's targets completes
-- the commune's share of the task it is evidence for (knowledge/data/evidence.yaml), and one
-- below target records the figure. The mark keeps the report, so history stays true.
ALTER TABLE task_progress ADD COLUMN report_id INTEGER REFERENCES reports (id);
