-- Shared rate-limit counters: every server process on this database counts the same hits.
CREATE TABLE rate_limits (
    key              TEXT PRIMARY KEY,
    window_start_ms  BIGINT NOT NULL,
    hits             BIGINT NOT NULL
);
