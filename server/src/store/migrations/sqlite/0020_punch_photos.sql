-- Photos taken at punches (issue 22): which stored punch names which photo.
-- The bytes are attachments (keyed by employee and hash, sealed at rest).
CREATE TABLE punch_photos (
    employee_id     TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    size_bytes      INTEGER NOT NULL,
    media_type      TEXT NOT NULL,
    policy_version  INTEGER NOT NULL,
    noted_at_ms     INTEGER NOT NULL,
    PRIMARY KEY (employee_id, sha256)
);
CREATE INDEX punch_photos_by_punch ON punch_photos (device_id, seq);
