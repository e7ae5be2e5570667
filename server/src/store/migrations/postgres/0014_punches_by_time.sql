-- The ledger newest first by the server's time for a punch, for keyset
-- pages and time ranges (store/sqlite.rs, MIGRATION_14_PUNCHES_BY_TIME).
CREATE INDEX punches_by_time ON punches ((COALESCE(trusted_time_ms, wall_time_ms)), device_id, seq);
