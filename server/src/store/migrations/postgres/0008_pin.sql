-- PIN resets: each employee's contact and identity secret, and the codes sent.
CREATE TABLE pin_profiles (
    employee_id        TEXT PRIMARY KEY,
    channel            TEXT,
    address            TEXT,
    identity_verifier  TEXT,
    admin_reset_at_ms  BIGINT
);
CREATE TABLE pin_codes (
    code_hash      TEXT PRIMARY KEY,
    employee_id    TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    expires_at_ms  BIGINT NOT NULL,
    used_at_ms     BIGINT
);
-- Kiosk mode: who punches on which site's kiosks, with their PIN verifier.
CREATE TABLE kiosk_members (
    employee_id  TEXT PRIMARY KEY,
    site_id      TEXT NOT NULL,
    verifier     TEXT NOT NULL
);
