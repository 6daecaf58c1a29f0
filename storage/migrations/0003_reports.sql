-- One-time invite codes created by an administrator, for a commune officer or office staff.
CREATE TABLE invites (
    code        TEXT PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('officer', 'staff')),
    commune_id  INTEGER REFERENCES communes (id),
    created_by  INTEGER NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_by     INTEGER REFERENCES users (id),
    used_at     TEXT,
    CHECK (role IS NOT 'officer' OR commune_id IS NOT NULL)
);

-- Reports keep their whole history: a correction is a new version of the same series
-- (commune, form, subject, period) that supersedes the previous one; nothing is overwritten.
CREATE TABLE reports (
    id           INTEGER PRIMARY KEY,
    commune_id   INTEGER NOT NULL REFERENCES communes (id),
    form_id      TEXT NOT NULL,
    subject      TEXT NOT NULL DEFAULT '',
    period       TEXT NOT NULL DEFAULT '',
    version      INTEGER NOT NULL CHECK (version >= 1),
    supersedes   INTEGER REFERENCES reports (id),
    answers      TEXT NOT NULL,
    computed     TEXT NOT NULL,
    meets_target INTEGER CHECK (meets_target IN (0, 1)),
    submitted_by INTEGER NOT NULL REFERENCES users (id),
    channel      TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    report_date  TEXT NOT NULL,
    UNIQUE (commune_id, form_id, subject, period, version)
);
CREATE INDEX reports_by_commune ON reports (commune_id, submitted_at);
CREATE INDEX reports_by_date ON reports (report_date);

-- Who did what to reports and invites, for the office.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id),
    action  TEXT NOT NULL,
    detail  TEXT NOT NULL
);
