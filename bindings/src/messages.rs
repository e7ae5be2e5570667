//! Messages people can read, across the boundary: every reason is a stable
//! code with named arguments (an app may show its own text for a code), and
//! the library's English and Simplified Chinese templates render it in the
//! locale the app passes (a BCP 47 tag; unknown ones fall back to English).

use punch_model::messages::{self, Locale};

/// One named value a message's template uses (a site, minutes, metres).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MessageArg {
    pub name: String,
    pub value: String,
}

/// One reason: its code, its arguments and its English text.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Message {
    pub code: MessageCode,
    pub args: Vec<MessageArg>,
    pub text: String,
}

/// What a message says, as a stable code (the catalogue's; the names are
/// its snake_case codes in camel case). An app may show its own text per code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MessageCode {
    Accepted,
    Review,
    OutsideAllSites,
    NearestSite,
    MockLocation,
    ImpossibleTravel,
    StaleFix,
    FixTimeSkew,
    AccuracyTooLow,
    NullIsland,
    WifiPlaceholder,
    ReducedAccuracy,
    ExternalReceiver,
    OnTime,
    Late,
    EarlyLeave,
    OutsideWindow,
    NoShift,
    AlreadyClockedIn,
    NotClockedIn,
    EvaluationMismatch,
    PolicyVersionMismatch,
    PolicyExpired,
    PayloadUnreadable,
    AssuranceBelowMinimum,
    AttendanceMismatch,
    MakeUpTooFarBack,
    MakeUpInFuture,
    MakeUpMonthlyLimit,
    MakeUpTooManyAttachments,
    MakeUpAttachmentTooLarge,
    MakeUpNoReason,
    FieldWorkRadius,
    FieldWorkCenter,
    FieldWorkDates,
    FieldWorkNoReason,
    FieldWorkTooLong,
    RequestPending,
    RequestApproved,
    RequestDenied,
    RequestRefused,
    ForgottenClockOut,
    ForgottenClockOutClosed,
    ForgottenClockOutSuperseded,
    FaultLocationUnavailable,
    FaultLocationDenied,
    FaultWifiOff,
    FaultClockMoved,
    FaultUploadFailing,
    FaultStorageFull,
    FaultKeyInvalidated,
    FaultAttestationRefused,
    FaultOther,
    /// A code this library version does not know (never produced by it).
    Unknown,
}

/// Each code and its name in the catalogue.
const CODES: &[(MessageCode, &str)] = &[
    (MessageCode::Accepted, "accepted"),
    (MessageCode::Review, "review"),
    (MessageCode::OutsideAllSites, "outside_all_sites"),
    (MessageCode::NearestSite, "nearest_site"),
    (MessageCode::MockLocation, "mock_location"),
    (MessageCode::ImpossibleTravel, "impossible_travel"),
    (MessageCode::StaleFix, "stale_fix"),
    (MessageCode::FixTimeSkew, "fix_time_skew"),
    (MessageCode::AccuracyTooLow, "accuracy_too_low"),
    (MessageCode::NullIsland, "null_island"),
    (MessageCode::WifiPlaceholder, "wifi_placeholder"),
    (MessageCode::ReducedAccuracy, "reduced_accuracy"),
    (MessageCode::ExternalReceiver, "external_receiver"),
    (MessageCode::OnTime, "on_time"),
    (MessageCode::Late, "late"),
    (MessageCode::EarlyLeave, "early_leave"),
    (MessageCode::OutsideWindow, "outside_window"),
    (MessageCode::NoShift, "no_shift"),
    (MessageCode::AlreadyClockedIn, "already_clocked_in"),
    (MessageCode::NotClockedIn, "not_clocked_in"),
    (MessageCode::EvaluationMismatch, "evaluation_mismatch"),
    (
        MessageCode::PolicyVersionMismatch,
        "policy_version_mismatch",
    ),
    (MessageCode::PolicyExpired, "policy_expired"),
    (MessageCode::PayloadUnreadable, "payload_unreadable"),
    (
        MessageCode::AssuranceBelowMinimum,
        "assurance_below_minimum",
    ),
    (MessageCode::AttendanceMismatch, "attendance_mismatch"),
    (MessageCode::MakeUpTooFarBack, "make_up_too_far_back"),
    (MessageCode::MakeUpInFuture, "make_up_in_future"),
    (MessageCode::MakeUpMonthlyLimit, "make_up_monthly_limit"),
    (
        MessageCode::MakeUpTooManyAttachments,
        "make_up_too_many_attachments",
    ),
    (
        MessageCode::MakeUpAttachmentTooLarge,
        "make_up_attachment_too_large",
    ),
    (MessageCode::MakeUpNoReason, "make_up_no_reason"),
    (MessageCode::FieldWorkRadius, "field_work_radius"),
    (MessageCode::FieldWorkCenter, "field_work_center"),
    (MessageCode::FieldWorkDates, "field_work_dates"),
    (MessageCode::FieldWorkNoReason, "field_work_no_reason"),
    (MessageCode::FieldWorkTooLong, "field_work_too_long"),
    (MessageCode::RequestPending, "request_pending"),
    (MessageCode::RequestApproved, "request_approved"),
    (MessageCode::RequestDenied, "request_denied"),
    (MessageCode::RequestRefused, "request_refused"),
    (MessageCode::ForgottenClockOut, "forgotten_clock_out"),
    (
        MessageCode::ForgottenClockOutClosed,
        "forgotten_clock_out_closed",
    ),
    (
        MessageCode::ForgottenClockOutSuperseded,
        "forgotten_clock_out_superseded",
    ),
    (
        MessageCode::FaultLocationUnavailable,
        "fault_location_unavailable",
    ),
    (MessageCode::FaultLocationDenied, "fault_location_denied"),
    (MessageCode::FaultWifiOff, "fault_wifi_off"),
    (MessageCode::FaultClockMoved, "fault_clock_moved"),
    (MessageCode::FaultUploadFailing, "fault_upload_failing"),
    (MessageCode::FaultStorageFull, "fault_storage_full"),
    (MessageCode::FaultKeyInvalidated, "fault_key_invalidated"),
    (
        MessageCode::FaultAttestationRefused,
        "fault_attestation_refused",
    ),
    (MessageCode::FaultOther, "fault_other"),
];

impl MessageCode {
    fn of(code: &str) -> MessageCode {
        CODES
            .iter()
            .find(|(_, name)| *name == code)
            .map_or(MessageCode::Unknown, |(c, _)| *c)
    }

    fn name(self) -> &'static str {
        CODES
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("unknown", |(_, name)| name)
    }
}

impl From<messages::Message> for Message {
    fn from(m: messages::Message) -> Self {
        if MessageCode::of(&m.code) == MessageCode::Unknown {
            log::warn!(target: "punchcore", "message code {} has no MessageCode", m.code);
        }
        Message {
            code: MessageCode::of(&m.code),
            args: m
                .args
                .into_iter()
                .map(|(name, value)| MessageArg { name, value })
                .collect(),
            text: m.text,
        }
    }
}

/// The text of `message` in `locale` (`zh-CN`, `zh-Hans`, `en-GB`...).
#[uniffi::export]
pub fn localized_text(message: Message, locale: String) -> String {
    if message.code == MessageCode::Unknown {
        return message.text;
    }
    let args: Vec<(String, String)> = message
        .args
        .into_iter()
        .map(|a| (a.name, a.value))
        .collect();
    messages::render(message.code.name(), &args, Locale::from_tag(&locale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_in_the_catalogue_and_round_trips() {
        for (code, name) in CODES {
            // `render` answers an unknown code with the code itself.
            let text = messages::render(name, &[], Locale::English);
            assert_ne!(text, *name, "{name} is not in the catalogue");
            assert_eq!(MessageCode::of(name), *code);
            assert_eq!(code.name(), *name);
        }
        assert_eq!(MessageCode::of("no_such_code"), MessageCode::Unknown);
    }
}
