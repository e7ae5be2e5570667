
CREATE TABLE staff (
    username         TEXT PRIMARY KEY,
    display_name     TEXT NOT NULL,
    role             TEXT NOT NULL,
    team             TEXT,
    password_hash    TEXT NOT NULL,
    totp_secret      BLOB NOT NULL,
    totp_last_step   INTEGER NOT NULL DEFAULT 0,
    failed_signins   INTEGER NOT NULL DEFAULT 0,
    locked_until_ms  INTEGER,
    created_at_ms    INTEGER NOT NULL,
    disabled         INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE staff_sessions (
    id_hash        TEXT PRIMARY KEY,
    username       TEXT NOT NULL REFERENCES staff (username),
    csrf_token     TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE api_tokens (
    token_hash     TEXT PRIMARY KEY,
    token_id       TEXT NOT NULL UNIQUE,
    username       TEXT NOT NULL REFERENCES staff (username),
    name           TEXT NOT NULL,
    scopes         TEXT NOT NULL,              -- JSON list of permission names
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    revoked_at_ms  INTEGER
) WITHOUT ROWID;
CREATE TABLE employee_teams (
    employee_id  TEXT PRIMARY KEY REFERENCES employees (employee_id),
    team         TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE punch_reviews (
    device_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    verdict    TEXT NOT NULL,
    comment    TEXT NOT NULL,
    reviewer   TEXT NOT NULL,
    at_ms      INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
CREATE TABLE chain_acks (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id        TEXT NOT NULL,
    head_seq         INTEGER NOT NULL,
    head_hash        TEXT NOT NULL,
    reason           TEXT NOT NULL,
    acknowledged_by  TEXT NOT NULL,
    at_ms            INTEGER NOT NULL,
    applied_at_ms    INTEGER
);
CREATE INDEX chain_acks_device ON chain_acks (device_id, id);
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at_ms      INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    role       TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
