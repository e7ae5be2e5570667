
CREATE INDEX events_by_type_time ON events (event_type, status, received_at_ms, device_id, seq);
