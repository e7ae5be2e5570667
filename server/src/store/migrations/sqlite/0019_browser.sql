-- The browser punch (server/src/browser): passkeys and their ceremonies.
-- Each passkey is also a `devices` row (platform 'browser') whose chain the
-- server keeps; it never holds the phone's binding (`unbound_at_ms` is set
-- at registration, so it never counts against settings.max_devices): its own
-- state is `revoked_at_ms` here.
CREATE TABLE browser_passkeys (
    credential_id  TEXT PRIMARY KEY,           -- base64url, as WebAuthn names it
    device_id      TEXT NOT NULL UNIQUE REFERENCES devices (device_id),
    employee_id    TEXT NOT NULL REFERENCES employees (employee_id),
    passkey        TEXT NOT NULL,              -- webauthn-rs Passkey JSON (public key, counter)
    created_at_ms  INTEGER NOT NULL,
    revoked_at_ms  INTEGER
);
CREATE INDEX browser_passkeys_employee ON browser_passkeys (employee_id);
-- A registration or punch in progress: single use, short-lived.
CREATE TABLE browser_ceremonies (
    ceremony_id    TEXT PRIMARY KEY,           -- hex SHA-256 of the id handed out
    kind           TEXT NOT NULL,              -- 'register' | 'punch'
    employee_id    TEXT NOT NULL,
    code_hash      TEXT,                       -- register: the enrollment code it spends
    content        TEXT,                       -- punch: the content the challenge commits to
    state          TEXT NOT NULL,              -- webauthn-rs ceremony state JSON
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    used_at_ms     INTEGER
);
CREATE INDEX browser_ceremonies_expiry ON browser_ceremonies (expires_at_ms);
