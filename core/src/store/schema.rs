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
    "
-- The shift occurrence each employee is clocked in to on this device
-- (model::rules::shift::open_after), written in the commit of the punch that
-- opens or closes it: a kiosk holds one per employee, and one employee's
-- punches never open or close another's. Filled from the stored chain: the
-- newest clock-in or clock-out of each employee (the attendance is in clear
-- in sealed records too).
CREATE TABLE open_shifts (
    employee_id TEXT PRIMARY KEY,
    shift_id    TEXT NOT NULL,
    start_ms    INTEGER NOT NULL
);
INSERT INTO open_shifts (employee_id, shift_id, start_ms)
SELECT employee_id, shift_id, start_ms FROM (
    SELECT json_extract(body, '$.employee_id') AS employee_id,
           json_extract(body, '$.evaluation.attendance.shift_id') AS shift_id,
           json_extract(body, '$.evaluation.attendance.start_ms') AS start_ms,
           kind,
           ROW_NUMBER() OVER (
               PARTITION BY json_extract(body, '$.employee_id') ORDER BY seq DESC
           ) AS newest
    FROM (SELECT seq, kind, CAST(record AS TEXT) AS body FROM punches
          WHERE kind IN ('clock_in', 'clock_out'))
    WHERE json_valid(body)
)
WHERE newest = 1 AND kind = 'clock_in' AND employee_id IS NOT NULL
  AND shift_id IS NOT NULL AND start_ms IS NOT NULL",
    "
-- Photos taken at punches (crate::photo), sealed with the data key when
-- records are; kept until the server has the punch naming them (punch_seq)
-- and then the bytes, emptied after.
CREATE TABLE punch_photos (
    sha256      TEXT PRIMARY KEY,
    media_type  TEXT NOT NULL,
    body        BLOB NOT NULL,
    sealed      INTEGER NOT NULL,
    punch_seq   INTEGER,
    uploaded    INTEGER NOT NULL DEFAULT 0,
    created_ms  INTEGER NOT NULL
)",
];

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    /// A device updated while its employees are clocked in keeps them
    /// clocked in: the open shifts are filled from the stored chain.
    #[test]
    fn open_shifts_are_filled_from_the_chain_on_update() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        // The step that made `open_shifts`, wherever later steps put it.
        let before = MIGRATIONS
            .iter()
            .position(|m| m.contains("CREATE TABLE open_shifts"))
            .unwrap();
        punch_sqlite::migrate(&conn, &MIGRATIONS[..before]).unwrap();
        let punch = |seq: i64, employee: &str, kind: &str, attendance: &str| {
            let record = format!(
                r#"{{"employee_id":"{employee}","kind":"{kind}","evaluation":{{"attendance":{attendance}}}}}"#
            );
            conn.execute(
                "INSERT INTO punches (seq, punch_id, record, signature, hash, kind, wall_time_ms,
                                      decision, created_ms)
                 VALUES (?1, ?1, ?2, x'', x'', ?3, 0, 'accepted', 0)",
                rusqlite::params![seq, record.into_bytes(), kind],
            )
            .unwrap();
        };
        let on_time = r#"{"status":"on_time","shift_id":"day","start_ms":100}"#;
        // a: in, then out. b: in (late), a break. c: in at no shift.
        // d: in, then a clock-in judged already clocked in. e: unreadable.
        punch(1, "a", "clock_in", on_time);
        punch(
            2,
            "b",
            "clock_in",
            r#"{"status":"late","shift_id":"day","start_ms":100,"minutes":3}"#,
        );
        punch(3, "a", "clock_out", on_time);
        punch(4, "b", "break_start", on_time);
        punch(5, "c", "clock_in", r#"{"status":"no_shift"}"#);
        punch(
            6,
            "d",
            "clock_in",
            r#"{"status":"on_time","shift_id":"day","start_ms":200}"#,
        );
        punch(
            7,
            "d",
            "clock_in",
            r#"{"status":"already_clocked_in","shift_id":"day","start_ms":200}"#,
        );
        conn.execute(
            "INSERT INTO punches (seq, punch_id, record, signature, hash, kind, wall_time_ms,
                                  decision, created_ms)
             VALUES (8, 8, x'00ff', x'', x'', 'clock_in', 0, 'accepted', 0)",
            [],
        )
        .unwrap();
        punch_sqlite::migrate(&conn, MIGRATIONS).unwrap();
        let open: Vec<(String, String, i64)> = conn
            .prepare("SELECT employee_id, shift_id, start_ms FROM open_shifts ORDER BY employee_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            open,
            vec![
                ("b".to_string(), "day".to_string(), 100),
                ("d".to_string(), "day".to_string(), 200),
            ]
        );
    }
}
