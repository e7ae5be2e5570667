//! Forgotten clock-outs the server found (`rules::forgotten`), as the
//! employee is told of them: each with a message in the app's language
//! and the make-up requests already filed for it. The employee answers
//! with a make-up clock-out ([`super::file_make_up`]) inside the
//! occurrence's window; [`make_up_for`] fills one in.

use punch_model::messages::{Locale, Message, forgotten_message};
use punch_model::rules::field_work::policy_zone;
use punch_model::rules::forgotten::ForgottenClockOut;
use punch_model::rules::makeup::MakeUpRequest;
use punch_model::rules::policy::Policy;
use punch_model::rules::punch_kind::PunchKind;

use super::{FiledRequest, requests};
use crate::device::DeviceContext;
use crate::error::Result;

/// A forgotten clock-out told to the employee.
#[derive(Debug, Clone, PartialEq)]
pub struct ForgottenNotice {
    /// What the server said.
    pub notice: ForgottenClockOut,
    /// What to show (`forgotten_clock_out`, `…_closed`, `…_superseded`).
    pub message: Message,
    /// Event ids of make-up requests this device filed that answer it.
    pub answered_by: Vec<String>,
}

/// What the server last said, oldest first, shown in the policy's zone.
pub(crate) fn forgotten_clock_outs(
    device: &DeviceContext,
    policy: Option<&Policy>,
    locale: Locale,
) -> Result<Vec<ForgottenNotice>> {
    let zone = policy.map_or(jiff::tz::TimeZone::UTC, policy_zone);
    let filed = requests(device)?;
    Ok(device
        .db
        .forgotten_clock_outs()?
        .into_iter()
        .map(|notice| ForgottenNotice {
            message: forgotten_message(&notice, &zone, locale),
            answered_by: filed
                .iter()
                .filter(|r| match &r.request {
                    FiledRequest::MakeUp(m) => notice.answered_by(m.kind, m.intended_time_ms),
                    FiledRequest::FieldWork(_) => false,
                })
                .map(|r| r.event_id.clone())
                .collect(),
            notice,
        })
        .collect())
}

/// A make-up clock-out answering `notice`: at `left_at_ms` (when the
/// employee really left), with their reason; None when that time is not
/// in the occurrence's clock-out window (it would not answer it).
pub fn make_up_for(
    notice: &ForgottenClockOut,
    left_at_ms: i64,
    reason: &str,
) -> Option<MakeUpRequest> {
    notice
        .answered_by(PunchKind::ClockOut, left_at_ms)
        .then(|| MakeUpRequest {
            kind: PunchKind::ClockOut,
            intended_time_ms: left_at_ms,
            site_id: None,
            reason: reason.to_string(),
            attachments: Vec::new(),
            refused_attempt: None,
            fault: None,
        })
}
