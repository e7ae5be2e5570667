//! The schema of both back ends as files, one per version, under one
//! runner: `migrations/sqlite/NNNN_*.sql` and `migrations/postgres/NNNN_*.sql`
//! say the same step in each dialect. Append, never edit: a database keeps
//! the statements it was created with (SQLite even keeps their text).

use crate::error::{Result, ServerError};

/// SQLite's steps; version bookkeeping in `PRAGMA user_version`.
pub const SQLITE: &[&str] = &[
    include_str!("migrations/sqlite/0001_init.sql"),
    include_str!("migrations/sqlite/0002_attestation.sql"),
    include_str!("migrations/sqlite/0003_tamper_evidence.sql"),
    include_str!("migrations/sqlite/0004_attendance.sql"),
    include_str!("migrations/sqlite/0005_rate_limits.sql"),
    include_str!("migrations/sqlite/0006_events.sql"),
    include_str!("migrations/sqlite/0007_privacy.sql"),
    include_str!("migrations/sqlite/0008_pin.sql"),
    include_str!("migrations/sqlite/0009_people.sql"),
    include_str!("migrations/sqlite/0010_rate_limits_window.sql"),
    include_str!("migrations/sqlite/0011_pin_codes_superseded.sql"),
    include_str!("migrations/sqlite/0012_device_keys.sql"),
    include_str!("migrations/sqlite/0013_attachments_per_employee.sql"),
    include_str!("migrations/sqlite/0014_punches_by_time.sql"),
    include_str!("migrations/sqlite/0015_requests_by_time.sql"),
    include_str!("migrations/sqlite/0016_forgotten_clock_outs.sql"),
    include_str!("migrations/sqlite/0017_device_approvals.sql"),
    include_str!("migrations/sqlite/0018_device_seen.sql"),
    include_str!("migrations/sqlite/0019_browser.sql"),
    include_str!("migrations/sqlite/0020_punch_photos.sql"),
    include_str!("migrations/sqlite/0021_rejected_by_employee.sql"),
    include_str!("migrations/sqlite/0022_punches_by_received.sql"),
    include_str!("migrations/sqlite/0023_punches_employee_time_dropped.sql"),
];

/// PostgreSQL's steps; version bookkeeping in the `punch_schema` table.
pub const POSTGRES: &[&str] = &[
    include_str!("migrations/postgres/0001_init.sql"),
    include_str!("migrations/postgres/0002_attestation.sql"),
    include_str!("migrations/postgres/0003_tamper_evidence.sql"),
    include_str!("migrations/postgres/0004_attendance.sql"),
    include_str!("migrations/postgres/0005_rate_limits.sql"),
    include_str!("migrations/postgres/0006_events.sql"),
    include_str!("migrations/postgres/0007_privacy.sql"),
    include_str!("migrations/postgres/0008_pin.sql"),
    include_str!("migrations/postgres/0009_people.sql"),
    include_str!("migrations/postgres/0010_rate_limits_window.sql"),
    include_str!("migrations/postgres/0011_pin_codes_superseded.sql"),
    include_str!("migrations/postgres/0012_device_keys.sql"),
    include_str!("migrations/postgres/0013_attachments_per_employee.sql"),
    include_str!("migrations/postgres/0014_punches_by_time.sql"),
    include_str!("migrations/postgres/0015_requests_by_time.sql"),
    include_str!("migrations/postgres/0016_forgotten_clock_outs.sql"),
    include_str!("migrations/postgres/0017_device_approvals.sql"),
    include_str!("migrations/postgres/0018_device_seen.sql"),
    include_str!("migrations/postgres/0019_browser.sql"),
    include_str!("migrations/postgres/0020_punch_photos.sql"),
    include_str!("migrations/postgres/0021_rejected_by_employee.sql"),
    include_str!("migrations/postgres/0022_punches_by_received.sql"),
    include_str!("migrations/postgres/0023_punches_employee_time_dropped.sql"),
];

/// The schema version this server writes (both back ends alike).
pub const SCHEMA_VERSION: i64 = SQLITE.len() as i64;

const _: () = assert!(SQLITE.len() == POSTGRES.len());

/// A database's version bookkeeping.
pub trait Versioned {
    /// The version the database is at (0: empty).
    fn found(&mut self) -> Result<i64>;
    /// Runs `step` and records `version`, atomically.
    fn apply(&mut self, version: i64, step: &str) -> Result<()>;
}

/// Brings `db` to the end of `steps`, refusing a newer schema.
pub fn migrate(db: &mut dyn Versioned, steps: &[&str]) -> Result<()> {
    let supported = i64::try_from(steps.len()).unwrap_or(i64::MAX);
    let found = db.found()?;
    if found > supported {
        return Err(ServerError::SchemaTooNew { found, supported });
    }
    for (version, step) in (1..).zip(steps).skip(usize::try_from(found).unwrap_or(0)) {
        db.apply(version, step)?;
    }
    Ok(())
}
