//! What a punch says the employee is doing.

use serde::{Deserialize, Serialize};

/// What the employee pressed; the shift rules judge it, they never flip it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PunchKind {
    ClockIn,
    ClockOut,
    BreakStart,
    BreakEnd,
}

impl std::str::FromStr for PunchKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.replace('-', "_").as_str() {
            "clock_in" | "in" => Ok(PunchKind::ClockIn),
            "clock_out" | "out" => Ok(PunchKind::ClockOut),
            "break_start" => Ok(PunchKind::BreakStart),
            "break_end" => Ok(PunchKind::BreakEnd),
            _ => Err(format!(
                "unknown punch kind {s:?} (clock_in, clock_out, break_start, break_end)"
            )),
        }
    }
}
