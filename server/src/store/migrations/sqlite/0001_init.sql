
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE employees (
    employee_id            TEXT PRIMARY KEY,
    name                   TEXT NOT NULL,
    rebind_approved_at_ms  INTEGER,
    created_at_ms          INTEGER NOT NULL
);
CREATE TABLE enrollment_codes (
    code_hash       TEXT PRIMARY KEY,          -- hex SHA-256 of the code: the code itself is a credential
    employee_id     TEXT NOT NULL REFERENCES employees (employee_id),
    created_at_ms   INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL,
    used_at_ms      INTEGER,
    used_by_device  TEXT
);
CREATE TABLE devices (
    device_id       TEXT PRIMARY KEY,
    employee_id     TEXT NOT NULL REFERENCES employees (employee_id),
    public_key      BLOB NOT NULL,             -- P-256 SPKI DER
    key_storage     TEXT NOT NULL,
    platform        TEXT NOT NULL,
    enrolled_at_ms  INTEGER NOT NULL,
    unbound_at_ms   INTEGER,
    head_seq        INTEGER NOT NULL DEFAULT 0,
    head_hash       TEXT NOT NULL
);
-- One bound device per employee, enforced by the database too.
CREATE UNIQUE INDEX devices_one_bound ON devices (employee_id) WHERE unbound_at_ms IS NULL;
CREATE TABLE nonces (
    device_id      TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    request_ts_ms  INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_ts ON nonces (request_ts_ms);
CREATE TABLE sites (
    site_id        TEXT PRIMARY KEY,
    body           TEXT NOT NULL,              -- punch_model::rules::policy::Site JSON
    updated_at_ms  INTEGER NOT NULL
);
CREATE TABLE policies (
    version        INTEGER PRIMARY KEY,
    body           BLOB NOT NULL,              -- the exact signed bytes
    signature      BLOB NOT NULL,
    issued_at_ms   INTEGER NOT NULL,
    expires_at_ms  INTEGER
);
CREATE TABLE punches (
    device_id        TEXT NOT NULL REFERENCES devices (device_id),
    seq              INTEGER NOT NULL,
    punch_id         TEXT NOT NULL UNIQUE,
    employee_id      TEXT NOT NULL,
    kind             TEXT NOT NULL,
    wall_time_ms     INTEGER NOT NULL,
    utc_offset_min   INTEGER NOT NULL,
    trusted_time_ms  INTEGER,
    skew_ms          INTEGER,
    time_status      TEXT NOT NULL,
    policy_version   INTEGER NOT NULL,
    decision         TEXT NOT NULL,
    site_id          TEXT,
    record           BLOB NOT NULL,            -- the exact signed bytes
    signature        BLOB NOT NULL,
    hash             TEXT NOT NULL,            -- hex SHA-256(record)
    received_at_ms   INTEGER NOT NULL,
    review_flags     TEXT NOT NULL DEFAULT '[]',   -- JSON list of punch_model::ledger::review::ReviewFlag
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX punches_employee_time ON punches (employee_id, wall_time_ms);
CREATE TABLE rejected (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id             TEXT NOT NULL,
    seq                   INTEGER NOT NULL,
    punch_id              TEXT,
    employee_id           TEXT,
    reason                TEXT NOT NULL,
    detail                TEXT NOT NULL,
    hash                  TEXT NOT NULL,
    record                BLOB NOT NULL,
    signature             BLOB NOT NULL,
    attempts              INTEGER NOT NULL DEFAULT 1,
    first_received_at_ms  INTEGER NOT NULL,
    last_received_at_ms   INTEGER NOT NULL,
    -- A retried refusal is counted, not stored twice.
    UNIQUE (device_id, seq, reason, hash, signature)
);
