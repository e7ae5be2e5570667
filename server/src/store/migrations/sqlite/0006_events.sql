
CREATE TABLE events (
    device_id       TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    event_id        TEXT NOT NULL,
    employee_id     TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    wall_time_ms    INTEGER NOT NULL,
    trusted_time_ms INTEGER,
    record          BLOB NOT NULL,
    signature       BLOB NOT NULL,
    hash            TEXT NOT NULL,
    received_at_ms  INTEGER NOT NULL,
    status          TEXT,
    status_detail   TEXT,
    decided_by      TEXT,
    decided_at_ms   INTEGER,
    comment         TEXT,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX events_by_employee ON events (employee_id, event_type);
CREATE INDEX events_by_id ON events (event_id);
CREATE TABLE attachments (
    sha256          TEXT PRIMARY KEY,
    employee_id     TEXT NOT NULL,
    size_bytes      INTEGER NOT NULL,
    body            BLOB NOT NULL,
    received_at_ms  INTEGER NOT NULL
);
