//! Forgotten clock-outs in the store (`crate::forgotten`): one row per
//! employee's shift occurrence, keyed so that detection run twice, or by
//! two server processes at once, stores it once. One trait apart from
//! [`crate::store::StoreTx`] (reached through `StoreTx::forgotten`).

use punch_model::rules::forgotten::{ForgottenClockOut, ForgottenState};
use serde::Serialize;

use crate::error::Result;

/// A stored forgotten clock-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForgottenRow {
    pub employee_id: String,
    pub shift_id: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub closes_ms: i64,
    pub clock_in_punch_id: String,
    pub clock_in_at_ms: i64,
    /// The version the clock-in was judged under (its settings chose the action).
    pub policy_version: u64,
    pub detected_at_ms: i64,
    /// The server-made clock-out's time (the shift's end), when the policy closed it.
    pub closed_at_ms: Option<i64>,
    /// The employee's own clock-out that arrived after detection.
    pub superseded_by: Option<String>,
    pub superseded_at_ms: Option<i64>,
    /// The last change (detection or supersession): what a phone asks after.
    pub updated_at_ms: i64,
}

impl ForgottenRow {
    pub fn state(&self) -> ForgottenState {
        if self.superseded_by.is_some() {
            ForgottenState::Superseded
        } else if self.closed_at_ms.is_some() {
            ForgottenState::ClosedByServer
        } else {
            ForgottenState::Flagged
        }
    }

    /// As the employee's phone is told.
    pub fn notice(&self) -> ForgottenClockOut {
        ForgottenClockOut {
            shift_id: self.shift_id.clone(),
            start_ms: self.start_ms,
            end_ms: self.end_ms,
            closes_ms: self.closes_ms,
            clock_in_punch_id: self.clock_in_punch_id.clone(),
            clock_in_at_ms: self.clock_in_at_ms,
            state: self.state(),
            server_clock_out_ms: self.closed_at_ms,
            superseded_by: self.superseded_by.clone(),
            detected_at_ms: self.detected_at_ms,
        }
    }
}

/// Which rows to list (every field narrows).
#[derive(Debug, Clone, Copy, Default)]
pub struct ForgottenFilter<'a> {
    pub team: Option<&'a str>,
    pub employee: Option<&'a str>,
    /// Occurrences starting in `[from_ms, to_ms)`.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

pub trait ForgottenTx {
    /// Stores the row unless its (employee, shift, start) is known; true
    /// when stored now.
    fn insert_forgotten(&self, row: &ForgottenRow) -> Result<bool>;
    /// Marks the occurrence answered by the employee's own clock-out
    /// `punch_id` unless it already is; true when changed now.
    fn supersede_forgotten(
        &self,
        employee_id: &str,
        shift_id: &str,
        start_ms: i64,
        punch_id: &str,
        now_ms: i64,
    ) -> Result<bool>;
    /// One employee's rows changed at or after `since_ms`, by start.
    fn forgotten_of(&self, employee_id: &str, since_ms: i64) -> Result<Vec<ForgottenRow>>;
    /// At most `limit` rows matching `filter`, by start then employee.
    fn forgotten_list(
        &self,
        filter: &ForgottenFilter<'_>,
        limit: usize,
    ) -> Result<Vec<ForgottenRow>>;
}
