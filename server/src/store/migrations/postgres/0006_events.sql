-- Chain events (store/sqlite.rs, MIGRATION_6_EVENTS): every accepted record
-- of a device's chain that is not a punch (refused attempts, make-up and
-- field-work requests...), with a manager's decision for requests, and the
-- files filed with make-up requests.
CREATE TABLE events (
    device_id       TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    event_id        TEXT NOT NULL,
    employee_id     TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    wall_time_ms    BIGINT NOT NULL,
    trusted_time_ms BIGINT,
    record          BYTEA NOT NULL,
    signature       BYTEA NOT NULL,
    hash            TEXT NOT NULL,
    received_at_ms  BIGINT NOT NULL,
    status          TEXT,
    status_detail   TEXT,
    decided_by      TEXT,
    decided_at_ms   BIGINT,
    comment         TEXT,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX events_by_employee ON events (employee_id, event_type);
CREATE INDEX events_by_id ON events (event_id);
CREATE TABLE attachments (
    sha256          TEXT PRIMARY KEY,
    employee_id     TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    body            BYTEA NOT NULL,
    received_at_ms  BIGINT NOT NULL
);
