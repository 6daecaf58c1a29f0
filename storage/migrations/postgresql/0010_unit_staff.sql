-- The staff of a district unit (Phòng Tư pháp, BHXH huyện, …) become users: role 'unit', tied to
-- the unit's key in the knowledge data (units.yaml). (SQLite rebuilds the tables for this.)
ALTER TABLE users ADD COLUMN unit_key TEXT;
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('staff', 'officer', 'unit'));
ALTER TABLE users ADD CONSTRAINT users_unit_check
    CHECK (role IS DISTINCT FROM 'unit' OR unit_key IS NOT NULL);
CREATE INDEX users_unit ON users (unit_key) WHERE unit_key IS NOT NULL;

ALTER TABLE invites ADD COLUMN unit_key TEXT;
ALTER TABLE invites DROP CONSTRAINT invites_role_check;
ALTER TABLE invites ADD CONSTRAINT invites_role_check CHECK (role IN ('officer', 'staff', 'unit'));
ALTER TABLE invites ADD CONSTRAINT invites_unit_check
    CHECK (role IS DISTINCT FROM 'unit' OR unit_key IS NOT NULL);
