-- An administrator can withdraw an invite before anyone uses it (a code that leaked).
ALTER TABLE invites ADD COLUMN revoked_at TEXT;
ALTER TABLE invites ADD COLUMN revoked_by INTEGER REFERENCES users (id);

-- Wrong invite codes per user: after too many, joining waits (codes cannot be guessed fast).
CREATE TABLE invite_attempts (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id),
    failures     INTEGER NOT NULL DEFAULT 0,
    first_failed TEXT,
    locked_until TEXT
) WITHOUT ROWID;

-- A delivery can be cancelled (its recipient lost access before it was sent): the status
-- CHECK grows, which SQLite only allows by rebuilding the table.
CREATE TABLE deliveries_new (
    id         INTEGER PRIMARY KEY,
    job_id     INTEGER NOT NULL REFERENCES jobs (id),
    channel    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    user_id    INTEGER REFERENCES users (id),
    payload    TEXT NOT NULL,
    progress   INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'sent', 'failed', 'unreachable', 'cancelled')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at    TEXT,
    UNIQUE (job_id, channel, chat_id)
);
INSERT INTO deliveries_new SELECT id, job_id, channel, chat_id, user_id, payload, progress,
    status, attempts, last_error, sent_at FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_pending ON deliveries (channel, id) WHERE status = 'pending';
CREATE INDEX deliveries_by_job ON deliveries (job_id, status);

-- Updates that could not be handled after a few attempts: kept with the error and the raw body
-- for the office (`ntm-bot db deadletters`), so one odd payload never stops a channel.
CREATE TABLE dead_letters (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    update_key  TEXT,
    error       TEXT NOT NULL,
    raw         TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL
);
CREATE INDEX dead_letters_by_time ON dead_letters (created_at);
