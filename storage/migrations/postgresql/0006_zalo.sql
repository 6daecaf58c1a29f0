-- The Zalo OA token pair. Zalo's refresh token is single-use: each refresh returns a new pair,
-- which is written here (one statement) before the new access token is used. `seed` is a hash
-- of the pair from the settings, so an operator who pastes a new pair is noticed at start.
CREATE TABLE oauth_tokens (
    provider      TEXT PRIMARY KEY,
    access_token  TEXT NOT NULL,
    refresh_token TEXT,
    expires_at    TEXT,
    seed          TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- Files offered by link (Zalo cannot receive uploads: it fetches pictures from a URL). The
-- token is random and the link expires; the bytes live once in `blobs`.
CREATE TABLE shared_files (
    token      TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL REFERENCES blobs (sha256),
    filename   TEXT NOT NULL,
    mime       TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
