//! Forgotten clock-outs in the store (`crate::forgotten`): one row per
//! employee's shift occurrence, keyed so that detection run twice, or by
//! two server processes at once, stores it once. One trait apart from
//! [`crate::store::StoreTx`] (reached through `StoreTx::forgotten`).

use punch_model::rules::forgotten::ForgottenClockOut;
use serde::Serialize;

use crate::error::Result;

/// A stored forgotten clock-out: what the employee is told, and the
/// server's bookkeeping around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForgottenRow {
    pub employee_id: String,
    /// Its `state` follows from `server_clock_out_ms` (the server-made
    /// clock-out, when the policy closed it) and `superseded_by` (the
    /// employee's own clock-out that arrived after detection).
    #[serde(flatten)]
    pub notice: ForgottenClockOut,
    /// The version the clock-in was judged under (its settings chose the action).
    pub policy_version: u64,
    pub superseded_at_ms: Option<i64>,
    /// The last change (detection or supersession).
    pub updated_at_ms: i64,
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

/// What a detection run reads (`crate::forgotten::sweep`): the employees
/// whose clock-ins and -outs changed, or whose clock-in may have seen its
/// window close, since the last run.
#[derive(Debug, Clone, Copy)]
pub struct SweepQuery {
    /// Nothing before this counts (the look-back).
    pub floor_ms: i64,
    /// Clock punches received at or after this changed (None: every
    /// employee with a clock punch since `floor_ms`, from `floor_ms`).
    pub changed_since_ms: Option<i64>,
    /// A changed punch is read with this much before it (the longest a
    /// clock-in's window can reach past the clock-in).
    pub reach_ms: i64,
    /// Clock-ins at or after this may have seen their window close.
    pub clock_ins_from_ms: i64,
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
    /// The employees `query` names, each with the time from which their
    /// clock punches are to be read (never before `floor_ms`), by employee.
    fn sweep_targets(&self, query: &SweepQuery) -> Result<Vec<(String, i64)>>;
    /// The employee's clock-ins and -outs at or after `from_ms` on the
    /// server's time, by time, device and seq.
    fn clock_punches_from(
        &self,
        employee_id: &str,
        from_ms: i64,
    ) -> Result<Vec<crate::store::StoredPunchInfo>>;
}
