-- Two device keys (store/sqlite.rs, MIGRATION_12_DEVICE_KEYS): the channel
-- key that signs requests (NULL: a device enrolled with one key, which
-- public_key is) and its assurance; the punch key in force after a
-- rotation (NULL: public_key, the one enrolled).
ALTER TABLE devices ADD COLUMN channel_key BYTEA;
ALTER TABLE devices ADD COLUMN channel_assurance TEXT;
ALTER TABLE devices ADD COLUMN channel_attestation TEXT;
ALTER TABLE devices ADD COLUMN punch_key BYTEA;
