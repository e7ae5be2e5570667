-- Attestation at enrollment (store/sqlite.rs, MIGRATION_2_ATTESTATION): each
-- device's assurance level and what it rested on, the level stamped on each
-- stored punch, single-use challenges.
ALTER TABLE devices ADD COLUMN assurance TEXT NOT NULL DEFAULT 'software';
ALTER TABLE devices ADD COLUMN attestation TEXT;
ALTER TABLE punches ADD COLUMN assurance TEXT NOT NULL DEFAULT 'software';
CREATE TABLE attestation_challenges (
    challenge_hash  TEXT PRIMARY KEY,
    code_hash       TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    expires_at_ms   BIGINT NOT NULL,
    used_at_ms      BIGINT
);
CREATE INDEX attestation_challenges_expiry ON attestation_challenges (expires_at_ms);
