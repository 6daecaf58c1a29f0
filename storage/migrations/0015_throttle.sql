-- Flood control shared by the instances on one database: a token bucket per person (the
-- in-process bucket is enough for one instance, the shared one holds across several).
CREATE TABLE throttle (
    key     TEXT PRIMARY KEY,
    tokens  REAL NOT NULL,
    updated REAL NOT NULL,
    allowed INTEGER NOT NULL DEFAULT 1
);
