-- Requests by kind and status in the order a decider's queue pages them
-- (store/sqlite.rs, MIGRATION_15_REQUESTS_BY_TIME).
CREATE INDEX events_by_type_time ON events (event_type, status, received_at_ms, device_id, seq);
