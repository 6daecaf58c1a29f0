-- People have names: the full name and position an officer or office member gives at
-- registration (or corrects with /toi), shown to the office wherever their work appears.
ALTER TABLE users ADD COLUMN full_name TEXT;
ALTER TABLE users ADD COLUMN position TEXT;
-- When a registered person without a name was asked for it (asked once, not at every message).
ALTER TABLE users ADD COLUMN name_asked_at TEXT;
