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

-- Replies are written here in the same transaction as the effects of the update that caused
-- them, then sent; a crash between the two sends them after restart instead of losing them.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    channel    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    sent_at    TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (channel, id) WHERE status = 'pending';
