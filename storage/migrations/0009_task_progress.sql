-- Progress on the plan's tasks (knowledge/data/tasks.yaml). Every change is a new row, never an
-- update: the office sees who marked what, when and through which channel. commune_id is set
-- for the tasks every commune does (each commune its own) and NULL for a district unit's task.
CREATE TABLE task_progress (
    id          INTEGER PRIMARY KEY,
    task_id     TEXT NOT NULL,
    commune_id  INTEGER REFERENCES communes (id),
    status      TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'blocked')),
    percent     INTEGER CHECK (percent BETWEEN 0 AND 100),
    note        TEXT,
    by_user     INTEGER NOT NULL REFERENCES users (id),
    channel     TEXT NOT NULL,
    at          TEXT NOT NULL,
    CHECK (status IS NOT 'blocked' OR note IS NOT NULL)
);
CREATE INDEX task_progress_task ON task_progress (task_id, commune_id, id);
