-- An open dialog per user (a report being filled in, a registration being confirmed, ...).
-- The state is JSON owned by the dialog's handler; it survives restarts.
CREATE TABLE dialogs (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    state      TEXT NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The choices last offered to a user, so that "2" or "cấp xã" typed back is understood on
-- channels without buttons (and after a restart).
CREATE TABLE menus (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    choices    TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- One row per handled update: the redelivery check (unique per channel and update key) and
-- the replies it produced, written in the same transaction as the update's effects and sent
-- afterwards. A crash between the two sends the replies after restart instead of losing them.
CREATE TABLE processed_updates (
    id         INTEGER PRIMARY KEY,
    channel    TEXT NOT NULL,
    update_key TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    replies    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    sent_at    TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    UNIQUE (channel, update_key)
);
CREATE INDEX processed_updates_pending ON processed_updates (channel, id) WHERE status = 'pending';
CREATE INDEX processed_updates_age ON processed_updates (created_at);

-- Batches of updates received from a polling API and not yet all handled. A batch is written
-- here (one row, keyed by its first update) before it is confirmed to the platform, so that a
-- crash while handling it replays it at start instead of losing it; rows are removed once
-- every update of the batch was handled.
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    update_key  TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (channel, update_key)
);
