-- The office's web view (issue 15): one-time sign-in links sent in the chat, the browser
-- sessions they open, and failed sign-in attempts per client (a rate limit that survives a
-- restart). Tokens are stored as SHA-256 hashes only: the database never holds a usable one.
CREATE TABLE web_links (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX web_links_expiry ON web_links (expires_at);

CREATE TABLE web_sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    user_agent   TEXT,
    ended_at     TEXT
);
CREATE INDEX web_sessions_user ON web_sessions (user_id) WHERE ended_at IS NULL;

CREATE TABLE web_attempts (
    client       TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    first_failed TEXT,
    locked_until TEXT
);
