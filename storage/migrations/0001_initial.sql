-- Communes of the district (synchronised from the knowledge data at start-up).
CREATE TABLE communes (
    id      INTEGER PRIMARY KEY,
    code    TEXT NOT NULL UNIQUE,
    name    TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('xa', 'thi_tran')),
    active  INTEGER NOT NULL DEFAULT 1
);

-- People who talk to the bot, one row per channel identity. Admins come from settings;
-- 'staff' (office) and 'officer' (commune) are granted by invite.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    channel        TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    chat_id        TEXT,
    display_name   TEXT,
    role           TEXT CHECK (role IN ('staff', 'officer')),
    commune_id     INTEGER REFERENCES communes (id),
    lang           TEXT CHECK (lang IN ('vi', 'en')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    registered_at  TEXT,
    revoked_at     TEXT,
    unreachable_at TEXT,
    UNIQUE (channel, external_id),
    CHECK (role IS NOT 'officer' OR commune_id IS NOT NULL)
);
CREATE INDEX users_commune ON users (commune_id) WHERE commune_id IS NOT NULL;
