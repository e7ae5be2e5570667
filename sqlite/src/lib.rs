//! punch-sqlite: how the phone's store and the reference server open their
//! SQLite files — WAL with `synchronous=FULL` (a committed row survives power
//! loss) — and migrate them by `PRAGMA user_version`, refusing a newer schema.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

/// Why a database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    #[error("database schema version {found} is newer than this program supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Opens `path` (creating it) for durable writes: WAL, `synchronous=FULL`,
/// foreign keys on, and a busy timeout for the rare second connection.
pub fn open_durable(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(busy_timeout)?;
    // journal_mode answers with a row; pragma_update tolerates that.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Purged, erased and resealed personal data must not linger in free
    // pages: deleted content is overwritten with zeros.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(conn)
}

/// Brings the schema to `steps.len()`: step `i` (0-based) takes version `i`
/// to `i + 1`, each in its own transaction with the version bump, so a crash
/// mid-way leaves a consistent, resumable schema. A newer schema than we know
/// is refused rather than written to.
pub fn migrate(conn: &Connection, steps: &[&str]) -> Result<(), MigrateError> {
    let supported = i64::try_from(steps.len()).unwrap_or(i64::MAX);
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > supported {
        return Err(MigrateError::SchemaTooNew { found, supported });
    }
    for (version, sql) in (1..).zip(steps).skip(usize::try_from(found).unwrap_or(0)) {
        let sql = sql.trim().trim_end_matches(';');
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {version}; COMMIT;"
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: [&str; 2] = [
        "CREATE TABLE a (x INTEGER)",
        "ALTER TABLE a ADD COLUMN y INTEGER",
    ];

    fn version(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn migrates_step_by_step_and_refuses_newer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let conn = open_durable(&path, Duration::from_secs(1)).unwrap();
        migrate(&conn, &STEPS[..1]).unwrap();
        assert_eq!(version(&conn), 1);
        conn.execute("INSERT INTO a (x) VALUES (7)", []).unwrap();
        // A later release adds a step; the data stays.
        migrate(&conn, &STEPS).unwrap();
        assert_eq!(version(&conn), 2);
        let (x, y): (i64, Option<i64>) = conn
            .query_row("SELECT x, y FROM a", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!((x, y), (7, None));
        // Re-running is a no-op.
        migrate(&conn, &STEPS).unwrap();
        // An older release meets the newer file.
        assert!(matches!(
            migrate(&conn, &STEPS[..1]),
            Err(MigrateError::SchemaTooNew {
                found: 2,
                supported: 1
            })
        ));
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
