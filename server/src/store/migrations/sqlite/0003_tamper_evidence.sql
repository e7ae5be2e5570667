
CREATE TABLE head_statements (
    device_id     TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    hash          TEXT NOT NULL,
    stated_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
ALTER TABLE rejected ADD COLUMN claimed_employee_id TEXT;
CREATE TABLE evidence_counters (
    device_id  TEXT NOT NULL,
    day        INTEGER NOT NULL,
    stored     INTEGER NOT NULL DEFAULT 0,
    dropped    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, day)
) WITHOUT ROWID;
