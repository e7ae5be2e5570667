
CREATE INDEX punches_by_time ON punches ((COALESCE(trusted_time_ms, wall_time_ms)), device_id, seq);
