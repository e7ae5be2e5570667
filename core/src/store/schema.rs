//! The device database's schema, one SQL step per version (`PRAGMA user_version`).
//! A new step is appended, never edited: devices in the field hold every version.

pub(crate) const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE device (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    device_id    TEXT NOT NULL,
    public_key   BLOB NOT NULL,
    key_pkcs8    BLOB,            -- NULL when a platform signer holds the key
    employee_id  TEXT,
    created_ms   INTEGER NOT NULL
);
CREATE TABLE policy (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    version      INTEGER NOT NULL,
    body         BLOB NOT NULL,
    signature    BLOB,
    installed_ms INTEGER NOT NULL
);
CREATE TABLE punches (
    seq          INTEGER PRIMARY KEY,
    punch_id     TEXT NOT NULL,   -- random UUID; the server enforces uniqueness
    record       BLOB NOT NULL,   -- the exact signed bytes
    signature    BLOB NOT NULL,
    hash         BLOB NOT NULL,   -- SHA-256(record)
    kind         TEXT NOT NULL,
    wall_time_ms INTEGER NOT NULL,
    decision     TEXT NOT NULL,
    upload_state TEXT NOT NULL DEFAULT 'pending',
    upload_detail TEXT,
    created_ms   INTEGER NOT NULL
);
CREATE INDEX punches_upload_state ON punches (upload_state, seq);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
)",
    "
-- Where the device's requests stand, as the server last said (events in
-- `punches` are the requests themselves).
CREATE TABLE request_status (
    event_id      TEXT PRIMARY KEY,
    status        TEXT NOT NULL,
    detail        TEXT,
    comment       TEXT,
    decided_at_ms INTEGER
);
-- Files filed with make-up requests, until the server has them.
CREATE TABLE attachments (
    sha256        TEXT PRIMARY KEY,
    media_type    TEXT NOT NULL,
    body          BLOB NOT NULL,
    uploaded      INTEGER NOT NULL DEFAULT 0,
    created_ms    INTEGER NOT NULL
);
-- The employee's signed personal addendum (approved field sites).
CREATE TABLE addendum (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    body          BLOB NOT NULL,
    signature     BLOB NOT NULL,
    installed_ms  INTEGER NOT NULL
)",
    "
-- The exact evidence behind a minimised record's commitment (privacy): the
-- employee's to reveal; purged with its record.
CREATE TABLE evidence_openings (
    seq     INTEGER PRIMARY KEY,
    opening BLOB NOT NULL
);
-- Records purged by retention after the server acknowledged them: only
-- their hashes stay, so the chain below the kept records still verifies.
CREATE TABLE purged_punches (
    seq          INTEGER PRIMARY KEY,
    hash         BLOB NOT NULL,
    wall_time_ms INTEGER NOT NULL
)",
    "
CREATE TABLE pin_state (
    employee_id  TEXT PRIMARY KEY,
    verifier     TEXT,            -- JSON salted PBKDF2 hash; NULL until set (or after a reset)
    set_at_ms    INTEGER,         -- trusted time the PIN was chosen
    lock_state   TEXT NOT NULL    -- JSON punch_model::pin::LockState
);
CREATE TABLE pin_tokens_used (
    token_id     TEXT PRIMARY KEY,
    used_ms      INTEGER NOT NULL
)",
    "
-- Chain resets the employer acknowledged (wire::ChainReset): the records
-- above anchored_seq that the server refused stay as evidence; the record
-- at start_seq (set when it is appended) links to anchored_hash instead.
CREATE TABLE chain_resets (
    ack_id        INTEGER PRIMARY KEY,
    anchored_seq  INTEGER NOT NULL,
    anchored_hash BLOB NOT NULL,
    received_ms   INTEGER NOT NULL,
    start_seq     INTEGER UNIQUE
)",
    "
-- Two device keys (keys.rs): the channel key signs requests; public_key is
-- the punch key the device enrolled with. NULL channel_key: a device from
-- before the split, whose one key is both.
ALTER TABLE device ADD COLUMN channel_key BLOB;
ALTER TABLE device ADD COLUMN channel_pkcs8 BLOB;  -- NULL when a platform signer holds it
-- Punch keys that replaced the enrolled one, each by the rotation record at seq.
CREATE TABLE punch_keys (
    seq         INTEGER PRIMARY KEY,
    public_key  BLOB NOT NULL,
    key_pkcs8   BLOB              -- NULL when a platform signer holds it
)",
    "
-- The installed policy as prepared for evaluation (model::rules::
-- policy_snapshot): derived from the policy row, written with it, so an
-- app start does not prepare a large policy again.
CREATE TABLE policy_prepared (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    version   INTEGER NOT NULL,
    snapshot  BLOB NOT NULL
)",
];
