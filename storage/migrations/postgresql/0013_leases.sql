-- Work only one instance may do at a time, e.g. polling a platform (Telegram's getUpdates
-- answers only one poller): the instance holding the lease renews it; another takes over once
-- it has expired (its holder died).
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
