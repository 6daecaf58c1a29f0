-- Photos and documents sent as evidence (a report's photo field). The bytes live once, named by
-- their SHA-256, in the media store (files beside the SQLite database; the `blobs` table on
-- PostgreSQL, which every instance shares); a row here says what they are: the type read from
-- the content, the size, the camera's time and place (kept as data: the served file has no
-- EXIF left), who sent them, and the small picture shown in lists.
CREATE TABLE media (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a dialog may hold an id
    sha256       TEXT NOT NULL,
    thumb_sha256 TEXT,
    mime         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    width        INTEGER,
    height       INTEGER,
    taken_at     TEXT,
    latitude     REAL,
    longitude    REAL,
    filename     TEXT NOT NULL DEFAULT '',
    user_id      INTEGER NOT NULL REFERENCES users (id),
    created_at   TEXT NOT NULL,
    UNIQUE (user_id, sha256)
);
CREATE INDEX media_by_sha ON media (sha256);
CREATE INDEX media_by_thumb ON media (thumb_sha256);

-- Which report (and field) a photo is evidence in: kept with the report, in its transaction,
-- so every version of a report keeps its own photos.
CREATE TABLE report_media (
    report_id INTEGER NOT NULL REFERENCES reports (id),
    field     TEXT NOT NULL,
    position  INTEGER NOT NULL,
    media_id  INTEGER NOT NULL REFERENCES media (id),
    PRIMARY KEY (report_id, field, position)
);
CREATE INDEX report_media_by_media ON report_media (media_id);

-- Photos attached to a task mark ("đã xong", with the photo of the finished work).
CREATE TABLE task_media (
    mark_id   INTEGER NOT NULL REFERENCES task_progress (id),
    position  INTEGER NOT NULL,
    media_id  INTEGER NOT NULL REFERENCES media (id),
    PRIMARY KEY (mark_id, position)
);
CREATE INDEX task_media_by_media ON task_media (media_id);

-- When a stored file was written: the retention job leaves young ones alone (a photo's bytes are
-- written a moment before the row that refers to them). Rows from before this are old.
ALTER TABLE blobs ADD COLUMN created_at TEXT;
