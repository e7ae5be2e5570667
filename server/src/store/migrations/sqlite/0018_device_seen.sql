-- When each device was last heard from (any authenticated request), so a
-- terminal silent for longer than the policy allows shows as a fault
-- (server/src/faults.rs). One row per device, written at most once a minute.
CREATE TABLE device_seen (
    device_id     TEXT PRIMARY KEY,
    last_seen_ms  INTEGER NOT NULL
) WITHOUT ROWID;
