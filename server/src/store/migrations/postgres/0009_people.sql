-- Staff, sessions, API tokens, teams, punch reviews, chain acknowledgements
-- and the audit log (append-only: a trigger refuses UPDATE and DELETE; the
-- hash chain shows an edit by whoever can also drop the trigger).
CREATE TABLE staff (
    username         TEXT PRIMARY KEY,
    display_name     TEXT NOT NULL,
    role             TEXT NOT NULL,
    team             TEXT,
    password_hash    TEXT NOT NULL,
    totp_secret      BYTEA NOT NULL,
    totp_last_step   BIGINT NOT NULL DEFAULT 0,
    failed_signins   BIGINT NOT NULL DEFAULT 0,
    locked_until_ms  BIGINT,
    created_at_ms    BIGINT NOT NULL,
    disabled         BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE staff_sessions (
    id_hash        TEXT PRIMARY KEY,
    username       TEXT NOT NULL REFERENCES staff (username),
    csrf_token     TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    expires_at_ms  BIGINT NOT NULL
);
CREATE TABLE api_tokens (
    token_hash     TEXT PRIMARY KEY,
    token_id       TEXT NOT NULL UNIQUE,
    username       TEXT NOT NULL REFERENCES staff (username),
    name           TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    expires_at_ms  BIGINT NOT NULL,
    revoked_at_ms  BIGINT
);
CREATE TABLE employee_teams (
    employee_id  TEXT PRIMARY KEY REFERENCES employees (employee_id),
    team         TEXT NOT NULL
);
CREATE TABLE punch_reviews (
    device_id  TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    verdict    TEXT NOT NULL,
    comment    TEXT NOT NULL,
    reviewer   TEXT NOT NULL,
    at_ms      BIGINT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE TABLE chain_acks (
    id               BIGSERIAL PRIMARY KEY,
    device_id        TEXT NOT NULL,
    head_seq         BIGINT NOT NULL,
    head_hash        TEXT NOT NULL,
    reason           TEXT NOT NULL,
    acknowledged_by  TEXT NOT NULL,
    at_ms            BIGINT NOT NULL,
    applied_at_ms    BIGINT
);
CREATE INDEX chain_acks_device ON chain_acks (device_id, id);
CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at_ms      BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    role       TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
