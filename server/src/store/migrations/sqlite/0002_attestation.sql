
ALTER TABLE devices ADD COLUMN assurance TEXT NOT NULL DEFAULT 'software';
ALTER TABLE devices ADD COLUMN attestation TEXT;
ALTER TABLE punches ADD COLUMN assurance TEXT NOT NULL DEFAULT 'software';
CREATE TABLE attestation_challenges (
    challenge_hash  TEXT PRIMARY KEY,
    code_hash       TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL,
    used_at_ms      INTEGER
) WITHOUT ROWID;
CREATE INDEX attestation_challenges_expiry ON attestation_challenges (expires_at_ms);
