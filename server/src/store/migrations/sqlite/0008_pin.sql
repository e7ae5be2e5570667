
CREATE TABLE pin_profiles (
    employee_id        TEXT PRIMARY KEY,
    channel            TEXT,
    address            TEXT,
    identity_verifier  TEXT,
    admin_reset_at_ms  INTEGER
) WITHOUT ROWID;
CREATE TABLE pin_codes (
    code_hash      TEXT PRIMARY KEY,
    employee_id    TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    used_at_ms     INTEGER
) WITHOUT ROWID;
CREATE TABLE kiosk_members (
    employee_id  TEXT PRIMARY KEY,
    site_id      TEXT NOT NULL,
    verifier     TEXT NOT NULL
) WITHOUT ROWID;
