//! What an employee's several devices leave in the store: HR's single-use
//! approvals for a device beyond the policy's `max_devices`, and the
//! attendance read across every device the employee punched from. One
//! trait apart from [`crate::store::StoreTx`] (reached through
//! `StoreTx::employee_devices`).

use serde::Serialize;

use crate::error::Result;

/// HR's approval for one device beyond `max_devices` (`crate::enroll`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceApprovalRow {
    pub id: i64,
    pub employee_id: String,
    /// Who approved it (the audit log's actor label).
    pub approved_by: String,
    pub reason: String,
    pub approved_at_ms: i64,
    /// Set by the enrollment that used it: an approval is good for one device.
    pub used_at_ms: Option<i64>,
    pub used_by_device: Option<String>,
}

/// An approval about to be stored.
#[derive(Debug, Clone, Copy)]
pub struct NewDeviceApproval<'a> {
    pub employee_id: &'a str,
    pub approved_by: &'a str,
    pub reason: &'a str,
    pub approved_at_ms: i64,
}

/// An employee's clock-in or clock-out as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockPunch {
    /// The server's time for it (trusted where anchored, else the wall clock).
    pub at_ms: i64,
    pub device_id: String,
    pub seq: u64,
    /// `clock_in` or `clock_out`.
    pub kind: String,
    pub attendance: Option<punch_model::rules::shift::Attendance>,
}

/// The employee-wide operations, inside the caller's transaction.
pub trait EmployeeDevicesTx {
    /// Makes this transaction the only one (across servers on the
    /// database) enrolling a device for, or reading the attendance of,
    /// `employee_id` until it ends (PostgreSQL: a transaction advisory
    /// lock; SQLite: its one writer already is).
    fn lock_employee(&self, employee_id: &str) -> Result<()>;
    /// Stores an approval; returns its id.
    fn insert_device_approval(&self, approval: &NewDeviceApproval<'_>) -> Result<i64>;
    /// The employee's oldest approval not used yet.
    fn unused_device_approval(&self, employee_id: &str) -> Result<Option<DeviceApprovalRow>>;
    /// Uses the approval up for `device_id`; false when it already was.
    fn use_device_approval(&self, id: i64, device_id: &str, now_ms: i64) -> Result<bool>;
    /// The employee's approvals, newest first.
    fn device_approvals(&self, employee_id: &str) -> Result<Vec<DeviceApprovalRow>>;
    /// The employee's latest clock-in or clock-out on any device strictly
    /// before `(at_ms, device_id, seq)`, in `shift::EmployeePunch::order`.
    fn latest_clock_punch(
        &self,
        employee_id: &str,
        at_ms: i64,
        device_id: &str,
        seq: u64,
    ) -> Result<Option<ClockPunch>>;
    /// The employee's clock-ins and clock-outs on any device at or after
    /// `from_ms`, in that order: with [`Self::latest_clock_punch`] before
    /// it, what a batch reads once per employee.
    fn clock_punches_since(&self, employee_id: &str, from_ms: i64) -> Result<Vec<ClockPunch>>;
    /// Erasure (`StoreTx::erase_employee`): the free text HR typed about
    /// the employee's approvals goes; who approved what and when stays.
    fn erase_approval_reasons(&self, employee_id: &str) -> Result<u64>;
}
