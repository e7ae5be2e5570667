
CREATE TABLE revelations (
    device_id       TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    employee_id     TEXT NOT NULL,
    review_flags    TEXT NOT NULL,
    revealed_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX revelations_employee ON revelations (employee_id);
CREATE TABLE punch_hashes (
    device_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE TABLE device_data_keys (
    device_id       TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    key             BLOB NOT NULL,
    received_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (device_id, key_id)
);
