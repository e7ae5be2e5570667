
CREATE TABLE rate_limits (
    key              TEXT PRIMARY KEY,
    window_start_ms  INTEGER NOT NULL,
    hits             INTEGER NOT NULL
) WITHOUT ROWID;
