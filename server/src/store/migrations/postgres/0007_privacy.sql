-- What employees revealed to settle disputes over minimised records.
CREATE TABLE revelations (
    device_id       TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    employee_id     TEXT NOT NULL,
    review_flags    TEXT NOT NULL,
    revealed_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX revelations_employee ON revelations (employee_id);
CREATE TABLE device_data_keys (
    device_id       TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    key             BYTEA NOT NULL,
    received_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (device_id, key_id)
);
CREATE TABLE punch_hashes (
    device_id  TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
