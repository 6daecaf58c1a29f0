-- Office chats (private or group) that receive the district digest and reminders.
CREATE TABLE subscriptions (
    channel    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    lang       TEXT NOT NULL DEFAULT 'vi',
    created_by INTEGER REFERENCES users (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (channel, chat_id)
) WITHOUT ROWID;

-- A send-out (a week's digest, one reminder, an announcement). The key makes each happen once:
-- a restart or a second scheduler tick finds the job and does not create it again.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    key          TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    created_by   INTEGER REFERENCES users (id),
    created_at   TEXT NOT NULL,
    completed_at TEXT
);

-- One recipient of a job: what to send and what happened. Written with the job, sent later by
-- the sender, so a crash resumes where it stopped; `progress` counts messages already sent.
CREATE TABLE deliveries (
    id         INTEGER PRIMARY KEY,
    job_id     INTEGER NOT NULL REFERENCES jobs (id),
    channel    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    user_id    INTEGER REFERENCES users (id),
    payload    TEXT NOT NULL,
    progress   INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'sent', 'failed', 'unreachable')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at    TEXT,
    UNIQUE (job_id, channel, chat_id)
);
CREATE INDEX deliveries_pending ON deliveries (channel, id) WHERE status = 'pending';
CREATE INDEX deliveries_by_job ON deliveries (job_id, status);

-- Files sent to many people (the digest's chart), stored once and referred to by their hash.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    data   BLOB NOT NULL
) WITHOUT ROWID;

-- Small facts the scheduler keeps between runs (when it first ran, so a new installation does
-- not send out the week's digest the moment it starts).
CREATE TABLE scheduler_state (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
