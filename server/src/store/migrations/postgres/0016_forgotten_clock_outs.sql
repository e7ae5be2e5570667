-- Forgotten clock-outs (crate::forgotten): one row per employee's shift
-- occurrence clocked in to and never clocked out of by the end of its
-- clock-out window. The key makes detection idempotent across server
-- processes: a second detection inserts nothing. The server-made clock-out
-- (closed_at_ms) lives here, never among the signed punches; a late real
-- clock-out marks the row superseded and both stay.
CREATE TABLE forgotten_clock_outs (
    employee_id       TEXT NOT NULL,
    shift_id          TEXT NOT NULL,
    start_ms          BIGINT NOT NULL,
    end_ms            BIGINT NOT NULL,
    closes_ms         BIGINT NOT NULL,
    clock_in_punch_id TEXT NOT NULL,
    clock_in_at_ms    BIGINT NOT NULL,
    policy_version    BIGINT NOT NULL,
    detected_at_ms    BIGINT NOT NULL,
    closed_at_ms      BIGINT,
    superseded_by     TEXT,
    superseded_at_ms  BIGINT,
    updated_at_ms     BIGINT NOT NULL,
    PRIMARY KEY (employee_id, shift_id, start_ms)
);
CREATE INDEX forgotten_by_employee_time ON forgotten_clock_outs (employee_id, updated_at_ms);
