-- Tamper evidence (store/sqlite.rs, MIGRATION_3_TAMPER_EVIDENCE): every head a
-- device stated, evidence labelled by the bound employee (the claimed one
-- beside it), evidence counted per day.
CREATE TABLE head_statements (
    device_id     TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    hash          TEXT NOT NULL,
    stated_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
ALTER TABLE rejected ADD COLUMN claimed_employee_id TEXT;
CREATE TABLE evidence_counters (
    device_id  TEXT NOT NULL,
    day        BIGINT NOT NULL,
    stored     BIGINT NOT NULL DEFAULT 0,
    dropped    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, day)
);
