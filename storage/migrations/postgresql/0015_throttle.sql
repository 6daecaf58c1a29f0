-- Flood control shared by the instances on one database: a token bucket per person (the
-- in-process bucket is enough for one instance, the shared one holds across several).
CREATE TABLE throttle (
    key     TEXT PRIMARY KEY,
    tokens  DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL,
    allowed BIGINT NOT NULL DEFAULT 1
);
