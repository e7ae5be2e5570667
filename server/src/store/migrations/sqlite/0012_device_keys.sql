
ALTER TABLE devices ADD COLUMN channel_key BLOB;
ALTER TABLE devices ADD COLUMN channel_assurance TEXT;
ALTER TABLE devices ADD COLUMN channel_attestation TEXT;
ALTER TABLE devices ADD COLUMN punch_key BLOB;
