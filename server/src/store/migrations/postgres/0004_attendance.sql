-- Shift rules (store/sqlite.rs, MIGRATION_4_ATTENDANCE): the server's own
-- attendance reading of each punch (JSON).
ALTER TABLE punches ADD COLUMN attendance TEXT;
