//! Rate limits on guessable secrets (enrollment codes, later PIN-reset
//! codes): fixed windows counted in the database, so every server process
//! on it sees the same counts and a guesser gains nothing by spreading
//! attempts across servers.

use crate::error::Result;
use crate::limits::{Limits, RateRule};
use crate::store::StoreTx;

/// What is being counted. Its name starts the counter's key in the
/// database: renaming a variant resets its counters (the test pins them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Bucket {
    EnrollIp,
    EnrollCode,
    /// PIN resets (codes, self-service, admin fetch): per address, employee, device.
    PinResetIp,
    PinResetEmployee,
    PinResetDevice,
    /// Staff sign-ins (`POST /admin/v1/session`) per address.
    #[strum(serialize = "staff_signin_ip")]
    StaffSignInIp,
    /// Staff sign-ins per (account, address) (`staff::signin`).
    #[strum(serialize = "staff_signin_account_ip")]
    StaffSignInAccountIp,
    /// Attendance exports per staff member (each reads every punch).
    ExportAttendance,
    /// The employee's own export (`/v1/privacy/export`) per device.
    PrivacyExport,
}

impl Bucket {
    /// Every bucket: the longest of their windows bounds what pruning keeps.
    pub const ALL: &'static [Bucket] = <Bucket as strum::VariantArray>::VARIANTS;

    fn name(self) -> &'static str {
        self.into()
    }

    fn rule(self, limits: &Limits) -> RateRule {
        match self {
            Bucket::EnrollIp => limits.enroll_per_ip,
            Bucket::EnrollCode => limits.enroll_per_code,
            Bucket::PinResetIp => limits.pin_reset_per_ip,
            Bucket::PinResetEmployee => limits.pin_reset_per_employee,
            Bucket::PinResetDevice => limits.pin_reset_per_device,
            Bucket::StaffSignInIp => limits.staff_signin_per_ip,
            Bucket::StaffSignInAccountIp => limits.staff_signin_per_account_ip,
            Bucket::ExportAttendance => limits.export_attendance_per_staff,
            Bucket::PrivacyExport => limits.privacy_export_per_device,
        }
    }
}

/// Refused: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub bucket: Bucket,
    pub retry_after_s: u64,
}

/// The longest window of any bucket: a counter whose window started
/// longer ago than this has ended whatever its bucket, and its next hit
/// would start it again anyway, so it can go.
pub fn longest_window_ms(limits: &Limits) -> i64 {
    Bucket::ALL
        .iter()
        .map(|b| b.rule(limits).window_ms())
        .max()
        .unwrap_or(0)
}

/// Counts one hit on each (bucket, subject); the first one over its rule
/// refuses. Every hit counts, refused or not: hammering does not help.
/// When a hit starts a new window the counters whose windows ended are
/// deleted (an index range scan): without that, every address or code
/// ever seen would keep its row.
pub fn hit(
    tx: &dyn StoreTx,
    limits: &Limits,
    hits: &[(Bucket, &str)],
    now_ms: i64,
) -> Result<Option<Limited>> {
    let mut refused = None;
    let mut new_window = false;
    for &(bucket, subject) in hits {
        let rule = bucket.rule(limits);
        let window_ms = rule.window_ms();
        let key = key(bucket, subject);
        let (count, started) = tx.limits().rate_hit(&key, window_ms, now_ms)?;
        new_window |= count == 1;
        if count > rule.hits && refused.is_none() {
            let left_ms = started.saturating_add(window_ms).saturating_sub(now_ms);
            refused = Some(Limited {
                bucket,
                // Round up: never tell a client to come back too early.
                retry_after_s: u64::try_from(left_ms).unwrap_or(0).div_ceil(1000).max(1),
            });
        }
    }
    if new_window {
        tx.limits()
            .prune_rate_limits(now_ms.saturating_sub(longest_window_ms(limits)))?;
    }
    Ok(refused)
}

pub fn key(bucket: Bucket, subject: &str) -> String {
    format!("{}:{subject}", bucket.name())
}

/// Forgets one counter (a staff member who signed in is not throttled for
/// the attempts that got them in).
pub fn clear(tx: &dyn StoreTx, bucket: Bucket, subject: &str) -> Result<()> {
    tx.limits().rate_clear(&key(bucket, subject))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_keys_keep_their_stored_names() {
        let names: Vec<&str> = Bucket::ALL.iter().map(|b| b.name()).collect();
        assert_eq!(
            names,
            [
                "enroll_ip",
                "enroll_code",
                "pin_reset_ip",
                "pin_reset_employee",
                "pin_reset_device",
                "staff_signin_ip",
                "staff_signin_account_ip",
                "export_attendance",
                "privacy_export",
            ]
        );
        assert_eq!(
            key(Bucket::StaffSignInIp, "10.0.0.1"),
            "staff_signin_ip:10.0.0.1"
        );
    }
}
