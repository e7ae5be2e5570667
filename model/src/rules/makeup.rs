//! Make-up punch requests (补卡): an employee asks a manager to accept a
//! punch that was missed or refused. The phone judges the policy's limits
//! at once (how far back, how many a month), the server judges them again
//! on trusted time and from the requests it holds.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ledger::range_check::{MAX_ID_LEN, RecordCheck, check_text};
use crate::rules::evidence::PLAUSIBLE_TIME_MS;
use crate::rules::punch_kind::PunchKind;

/// The longest reason an employee can write (characters).
pub const MAX_REASON_CHARS: usize = 500;
const DAY_MS: i64 = 86_400_000;
/// A request for a time this far ahead of now is a mistake, not a make-up.
const FUTURE_SLACK_MS: i64 = 5 * 60_000;

/// A file filed with a request: only its hash, size and type are signed;
/// the file goes up separately and the server checks it against these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Hex SHA-256 of the file.
    pub sha256: String,
    pub size_bytes: u64,
    /// e.g. `image/jpeg`.
    pub media_type: String,
}

/// What the employee asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MakeUpRequest {
    pub kind: PunchKind,
    /// When the punch should have been (UTC epoch ms).
    pub intended_time_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// The event id of this device's refused attempt the request is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_attempt: Option<Uuid>,
    /// A fault event that explains the request (`ledger::fault`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultCitation>,
}

impl MakeUpRequest {
    pub fn check_ranges(&self) -> Result<(), RecordCheck> {
        let out =
            |field: &'static str, detail: String| Err(RecordCheck::OutOfRange { field, detail });
        if !PLAUSIBLE_TIME_MS.contains(&self.intended_time_ms) {
            return out("intended_time_ms", self.intended_time_ms.to_string());
        }
        if self.reason.chars().count() > MAX_REASON_CHARS {
            return out("reason", format!("over {MAX_REASON_CHARS} characters"));
        }
        if let Some(site) = &self.site_id {
            check_text("site_id", site, MAX_ID_LEN)?;
        }
        if self.attachments.len() > 32 {
            return out("attachments", format!("{} entries", self.attachments.len()));
        }
        for a in &self.attachments {
            if a.sha256.len() != 64 || !a.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return out("attachments.sha256", "not 64 hex digits".into());
            }
            check_text("attachments.media_type", &a.media_type, MAX_ID_LEN)?;
        }
        if let Some(fault) = &self.fault {
            fault.check_ranges()?;
        }
        Ok(())
    }
}

/// A make-up request's pointer to a fault event (`ledger::fault`): the chain position that
/// holds it (any of the employee's devices), checked by the server to be a
/// fault of the same employee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCitation {
    pub device_id: String,
    pub seq: u64,
}

impl FaultCitation {
    pub fn check_ranges(&self) -> Result<(), RecordCheck> {
        check_text("fault.device_id", &self.device_id, MAX_ID_LEN)?;
        if self.seq == 0 {
            return Err(RecordCheck::OutOfRange {
                field: "fault.seq",
                detail: "0 is no record".into(),
            });
        }
        Ok(())
    }
}

/// The employer's limits on requests (policy `make_up`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MakeUpRules {
    /// Requests per calendar month (of the intended time, in the policy's zone).
    pub max_per_month: u32,
    /// How many days back a request may reach.
    pub max_days_back: u32,
    pub max_attachments: u32,
    pub max_attachment_bytes: u64,
}

impl Default for MakeUpRules {
    fn default() -> Self {
        MakeUpRules {
            max_per_month: 3,
            max_days_back: 7,
            max_attachments: 5,
            max_attachment_bytes: 5 * 1024 * 1024,
        }
    }
}

/// Why a request is refused before any manager sees it.
// Exhaustive on purpose: the bindings map every variant without a
// wildcard, so a new one fails their build instead of reaching apps unmapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum MakeUpRefusal {
    #[error("the request reaches {days} days back; the policy allows {max}")]
    TooFarBack { days: i64, max: u32 },
    #[error("the intended time is in the future")]
    InFuture,
    #[error("{used} requests were already filed for {month}; the policy allows {max} a month")]
    MonthlyLimit { month: String, used: u32, max: u32 },
    #[error("{count} attachments; the policy allows {max}")]
    TooManyAttachments { count: usize, max: u32 },
    #[error("an attachment of {size_bytes} bytes is over the limit of {max}")]
    AttachmentTooLarge { size_bytes: u64, max: u64 },
    #[error("a reason is required")]
    NoReason,
}

impl MakeUpRefusal {
    /// The stable machine code (for messages and the wire).
    pub fn code(&self) -> &'static str {
        match self {
            MakeUpRefusal::TooFarBack { .. } => "make_up_too_far_back",
            MakeUpRefusal::InFuture => "make_up_in_future",
            MakeUpRefusal::MonthlyLimit { .. } => "make_up_monthly_limit",
            MakeUpRefusal::TooManyAttachments { .. } => "make_up_too_many_attachments",
            MakeUpRefusal::AttachmentTooLarge { .. } => "make_up_attachment_too_large",
            MakeUpRefusal::NoReason => "make_up_no_reason",
        }
    }
}

/// `YYYY-MM` of an instant in `zone`.
pub fn month_of(time_ms: i64, zone: &TimeZone) -> String {
    match Timestamp::from_millisecond(time_ms) {
        Ok(t) => {
            let d = zone.to_datetime(t).date();
            format!("{:04}-{:02}", d.year(), d.month())
        }
        Err(_) => String::new(),
    }
}

/// Judges a request against the limits, at trusted time `now_ms`, given the
/// intended times of the employee's earlier requests.
pub fn check_request(
    rules: &MakeUpRules,
    request: &MakeUpRequest,
    now_ms: i64,
    zone: &TimeZone,
    earlier_intended_ms: &[i64],
) -> Result<(), MakeUpRefusal> {
    if request.reason.trim().is_empty() {
        return Err(MakeUpRefusal::NoReason);
    }
    if request.intended_time_ms > now_ms.saturating_add(FUTURE_SLACK_MS) {
        return Err(MakeUpRefusal::InFuture);
    }
    let back_ms = now_ms.saturating_sub(request.intended_time_ms);
    if back_ms > i64::from(rules.max_days_back) * DAY_MS {
        return Err(MakeUpRefusal::TooFarBack {
            days: back_ms / DAY_MS,
            max: rules.max_days_back,
        });
    }
    if request.attachments.len() > rules.max_attachments as usize {
        return Err(MakeUpRefusal::TooManyAttachments {
            count: request.attachments.len(),
            max: rules.max_attachments,
        });
    }
    if let Some(big) = request
        .attachments
        .iter()
        .find(|a| a.size_bytes > rules.max_attachment_bytes)
    {
        return Err(MakeUpRefusal::AttachmentTooLarge {
            size_bytes: big.size_bytes,
            max: rules.max_attachment_bytes,
        });
    }
    let month = month_of(request.intended_time_ms, zone);
    let used = earlier_intended_ms
        .iter()
        .filter(|&&t| month_of(t, zone) == month)
        .count();
    let used = u32::try_from(used).unwrap_or(u32::MAX);
    if used >= rules.max_per_month {
        return Err(MakeUpRefusal::MonthlyLimit {
            month,
            used,
            max: rules.max_per_month,
        });
    }
    Ok(())
}

/// A manager's decision on a request (or a field-work proposal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Filed, waiting for a manager.
    Pending,
    Approved,
    Denied,
    /// Refused by the policy's limits on the server (no manager needed).
    Refused,
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_900_000_000; // 2025-12-05T02:00Z

    fn request(back_days: i64) -> MakeUpRequest {
        MakeUpRequest {
            kind: PunchKind::ClockIn,
            intended_time_ms: NOW - back_days * DAY_MS,
            site_id: None,
            reason: "phone died".into(),
            attachments: vec![],
            refused_attempt: None,
            fault: None,
        }
    }

    #[test]
    fn limits_are_judged_in_order() {
        let rules = MakeUpRules::default();
        let zone = TimeZone::get("Asia/Shanghai").unwrap();
        assert_eq!(check_request(&rules, &request(1), NOW, &zone, &[]), Ok(()));
        assert!(matches!(
            check_request(&rules, &request(8), NOW, &zone, &[]),
            Err(MakeUpRefusal::TooFarBack { days: 8, max: 7 })
        ));
        assert_eq!(
            check_request(&rules, &request(-1), NOW, &zone, &[]),
            Err(MakeUpRefusal::InFuture)
        );
        let earlier = [NOW - DAY_MS, NOW - 2 * DAY_MS, NOW - 3 * DAY_MS];
        assert!(matches!(
            check_request(&rules, &request(0), NOW, &zone, &earlier),
            Err(MakeUpRefusal::MonthlyLimit {
                used: 3,
                max: 3,
                ..
            })
        ));
        // Last month's requests do not count against this month.
        let last_month = [NOW - 20 * DAY_MS; 3];
        assert_eq!(
            check_request(&rules, &request(0), NOW, &zone, &last_month),
            Ok(())
        );
        let mut r = request(0);
        r.reason = "  ".into();
        assert_eq!(
            check_request(&rules, &r, NOW, &zone, &[]),
            Err(MakeUpRefusal::NoReason)
        );
    }

    #[test]
    fn the_month_is_the_zones_month() {
        // 2025-11-30T17:00Z is already December 1st in Shanghai.
        let t = 1_764_522_000_000;
        assert_eq!(
            month_of(t, &TimeZone::get("Asia/Shanghai").unwrap()),
            "2025-12"
        );
        assert_eq!(month_of(t, &TimeZone::UTC), "2025-11");
    }
}
