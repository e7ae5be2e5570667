//! Attendance exports for payroll: per employee per day, first in, last
//! out, worked time minus breaks, late and early minutes against the shift
//! rules (`punch_model::rules::shift`), review flags, and corrections — as
//! JSON and as CSV (UTF-8 with a BOM, which spreadsheet tools used in China
//! need to read it as UTF-8), for a date range and a team, in the site's zone.

pub mod attendance;
pub mod csv;

pub use attendance::{ExportQuery, MadeUp, attendance};
