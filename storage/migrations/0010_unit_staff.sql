-- migrate: foreign_keys=off
-- The staff of a district unit (Phòng Tư pháp, BHXH huyện, …) become users: role 'unit', tied to
-- the unit's key in the knowledge data (units.yaml). SQLite cannot alter a CHECK constraint, so
-- users and invites are rebuilt (foreign keys off; the runner checks every reference before
-- committing). Rows keep their ids, so everything that refers to them stays as it was.
CREATE TABLE users_new (
    id             INTEGER PRIMARY KEY,
    channel        TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    chat_id        TEXT,
    display_name   TEXT,
    role           TEXT CHECK (role IN ('staff', 'officer', 'unit')),
    commune_id     INTEGER REFERENCES communes (id),
    lang           TEXT CHECK (lang IN ('vi', 'en')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    registered_at  TEXT,
    revoked_at     TEXT,
    unreachable_at TEXT,
    full_name      TEXT,
    position       TEXT,
    name_asked_at  TEXT,
    unit_key       TEXT,
    UNIQUE (channel, external_id),
    CHECK (role IS NOT 'officer' OR commune_id IS NOT NULL),
    CHECK (role IS NOT 'unit' OR unit_key IS NOT NULL)
);
INSERT INTO users_new (id, channel, external_id, chat_id, display_name, role, commune_id, lang,
    created_at, updated_at, registered_at, revoked_at, unreachable_at, full_name, position,
    name_asked_at)
SELECT id, channel, external_id, chat_id, display_name, role, commune_id, lang, created_at,
    updated_at, registered_at, revoked_at, unreachable_at, full_name, position, name_asked_at
FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_commune ON users (commune_id) WHERE commune_id IS NOT NULL;
CREATE INDEX users_unit ON users (unit_key) WHERE unit_key IS NOT NULL;

CREATE TABLE invites_new (
    code        TEXT PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('officer', 'staff', 'unit')),
    commune_id  INTEGER REFERENCES communes (id),
    created_by  INTEGER NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_by     INTEGER REFERENCES users (id),
    used_at     TEXT,
    revoked_at  TEXT,
    revoked_by  INTEGER REFERENCES users (id),
    unit_key    TEXT,
    CHECK (role IS NOT 'officer' OR commune_id IS NOT NULL),
    CHECK (role IS NOT 'unit' OR unit_key IS NOT NULL)
);
INSERT INTO invites_new (code, role, commune_id, created_by, created_at, expires_at, used_by,
    used_at, revoked_at, revoked_by)
SELECT code, role, commune_id, created_by, created_at, expires_at, used_by, used_at, revoked_at,
    revoked_by
FROM invites;
DROP TABLE invites;
ALTER TABLE invites_new RENAME TO invites;
