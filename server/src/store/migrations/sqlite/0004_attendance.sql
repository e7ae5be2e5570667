
ALTER TABLE punches ADD COLUMN attendance TEXT;
