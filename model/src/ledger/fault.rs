//! Fault reports: what went wrong on a terminal, as a signed chain event
//! uploaded like a punch. The engine records the faults it sees itself
//! (location off, the clock moved, uploads failing...); the employee
//! reports one in their own words, with files. A make-up request may cite
//! one (`rules::makeup::FaultCitation`), so a manager sees the request beside the fault
//! that explains it. The server also counts a device silent for longer
//! than the policy's [`FaultSettings`] as a fault of its own.

use serde::{Deserialize, Serialize};

use crate::ledger::range_check::{MAX_ID_LEN, RecordCheck, check_text};
use crate::rules::makeup::Attachment;

/// The event type as its bytes spell it.
pub const EVENT_TYPE: &str = "fault";
/// The longest description an employee can write (characters).
pub const MAX_TEXT_CHARS: usize = 1000;
/// At most this many files with one report.
pub const MAX_ATTACHMENTS: usize = 5;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// No location fix reached the punch.
    LocationUnavailable,
    /// The app may not read the location (Android's placeholder BSSID).
    LocationDenied,
    /// No Wi-Fi access point reached the punch.
    WifiOff,
    /// The wall clock disagrees with anchored server time beyond tolerance.
    ClockMoved,
    /// Uploads have failed for longer than the policy's threshold.
    UploadFailing,
    /// The device's storage is full.
    StorageFull,
    /// The platform invalidated the punch key (a new fingerprint, a
    /// removed passcode).
    KeyInvalidated,
    /// The server refused the platform's key attestation.
    AttestationRefused,
    /// Anything else the employee describes.
    Other,
}

impl FaultKind {
    /// Every kind, in a stable order (lists, tests).
    pub const ALL: [FaultKind; 9] = [
        FaultKind::LocationUnavailable,
        FaultKind::LocationDenied,
        FaultKind::WifiOff,
        FaultKind::ClockMoved,
        FaultKind::UploadFailing,
        FaultKind::StorageFull,
        FaultKind::KeyInvalidated,
        FaultKind::AttestationRefused,
        FaultKind::Other,
    ];

    /// The kind as the wire spells it (`clock_moved`).
    pub fn name(self) -> String {
        crate::text::serde_name(&self)
    }

    /// Parses a wire name; an unknown one is a typed refusal.
    pub fn parse(text: &str) -> Result<FaultKind, FaultRefusal> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.name() == text)
            .ok_or_else(|| FaultRefusal::UnknownKind {
                kind: text.chars().take(64).collect(),
            })
    }

    /// The message code of this kind (`fault_clock_moved`).
    pub fn code(self) -> String {
        format!("fault_{}", self.name())
    }
}

/// Who saw the fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultSource {
    /// The engine saw it itself.
    Engine,
    /// The employee described it.
    Employee,
}

/// The body of a `fault` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultReport {
    pub kind: FaultKind,
    pub source: FaultSource,
    /// The employee's words, or what the engine saw (`skew 300000 ms`).
    pub text: String,
    /// Files the employee filed with it (hash, size and type signed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl FaultReport {
    /// What no phone writes: an oversized text, controls in it, too many
    /// or malformed files.
    pub fn check_ranges(&self) -> Result<(), RecordCheck> {
        self.check().map_err(|refusal| RecordCheck::OutOfRange {
            field: "event.fault",
            detail: refusal.to_string(),
        })
    }

    /// The same checks as typed refusals (the phone's API answers these).
    pub fn check(&self) -> Result<(), FaultRefusal> {
        let chars = self.text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(FaultRefusal::TextTooLong {
                chars,
                max: MAX_TEXT_CHARS,
            });
        }
        // Line breaks are how people write; other controls are not.
        if self
            .text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(FaultRefusal::ControlCharacters);
        }
        if self.source == FaultSource::Employee && self.text.trim().is_empty() {
            return Err(FaultRefusal::NoText);
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(FaultRefusal::TooManyAttachments {
                count: self.attachments.len(),
                max: MAX_ATTACHMENTS,
            });
        }
        for a in &self.attachments {
            let hex = a.sha256.len() == 64 && a.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex || check_text("attachments.media_type", &a.media_type, MAX_ID_LEN).is_err() {
                return Err(FaultRefusal::BadAttachment);
            }
        }
        Ok(())
    }
}

/// Why a fault report or a citation of one is refused.
// Exhaustive on purpose: the bindings map every variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum FaultRefusal {
    #[error("unknown fault kind {kind:?}")]
    UnknownKind { kind: String },
    #[error("the description has {chars} characters; at most {max}")]
    TextTooLong { chars: usize, max: usize },
    #[error("the description holds control characters")]
    ControlCharacters,
    #[error("a description is required")]
    NoText,
    #[error("{count} files; at most {max}")]
    TooManyAttachments { count: usize, max: usize },
    #[error("a file is not named by a SHA-256 and a media type")]
    BadAttachment,
    #[error("no fault event at device {device_id} seq {seq}")]
    CitedFaultNotFound { device_id: String, seq: u64 },
    #[error("the cited event at device {device_id} seq {seq} is another employee's")]
    CitedFaultNotYours { device_id: String, seq: u64 },
}

impl FaultRefusal {
    /// The stable machine code (for messages and the wire).
    pub fn code(&self) -> &'static str {
        match self {
            FaultRefusal::UnknownKind { .. } => "fault_unknown_kind",
            FaultRefusal::TextTooLong { .. } => "fault_text_too_long",
            FaultRefusal::ControlCharacters => "fault_control_characters",
            FaultRefusal::NoText => "fault_no_text",
            FaultRefusal::TooManyAttachments { .. } => "fault_too_many_attachments",
            FaultRefusal::BadAttachment => "fault_bad_attachment",
            FaultRefusal::CitedFaultNotFound { .. } => "fault_cited_not_found",
            FaultRefusal::CitedFaultNotYours { .. } => "fault_cited_not_yours",
        }
    }
}

/// The policy's fault settings (`settings.faults`): whether phones record
/// the faults they see, how long uploads may fail before that is one, and
/// how long a terminal may stay silent before the server lists it. A
/// policy without the section records none on phones (as before it
/// existed); the server lists silent terminals by the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSettings {
    /// Phones record the faults they see themselves (employees' own
    /// reports are always taken).
    pub record: bool,
    /// An employee's phone not heard from for this long is a fault.
    pub phone_silent_after_h: u32,
    /// A site's kiosk not heard from for this long is a fault.
    pub kiosk_silent_after_h: u32,
    /// Uploads failing for this long make an `upload_failing` fault.
    pub upload_failing_after_min: u32,
}

impl Default for FaultSettings {
    fn default() -> Self {
        FaultSettings {
            record: true,
            phone_silent_after_h: 72,
            kiosk_silent_after_h: 24,
            upload_failing_after_min: 60,
        }
    }
}

impl FaultSettings {
    /// How long a terminal may stay silent (ms): kiosks have their own limit.
    pub fn silent_after_ms(&self, kiosk: bool) -> i64 {
        let hours = if kiosk {
            self.kiosk_silent_after_h
        } else {
            self.phone_silent_after_h
        };
        i64::from(hours) * 3_600_000
    }

    pub fn upload_failing_after_ms(&self) -> i64 {
        i64::from(self.upload_failing_after_min) * 60_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(text: &str) -> FaultReport {
        FaultReport {
            kind: FaultKind::Other,
            source: FaultSource::Employee,
            text: text.into(),
            attachments: vec![],
        }
    }

    #[test]
    fn kinds_parse_by_their_wire_names_and_unknown_ones_are_typed() {
        for kind in FaultKind::ALL {
            assert_eq!(FaultKind::parse(&kind.name()), Ok(kind));
        }
        assert_eq!(
            FaultKind::parse("phone_on_fire"),
            Err(FaultRefusal::UnknownKind {
                kind: "phone_on_fire".into()
            })
        );
        assert_eq!(FaultKind::ClockMoved.code(), "fault_clock_moved");
    }

    #[test]
    fn hostile_text_is_refused() {
        assert_eq!(report("GPS died\nagain").check(), Ok(()));
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert!(matches!(
            report(&long).check(),
            Err(FaultRefusal::TextTooLong { .. })
        ));
        assert!(report(&long).check_ranges().is_err());
        assert_eq!(
            report("a\u{7}b").check(),
            Err(FaultRefusal::ControlCharacters)
        );
        assert_eq!(report(" ").check(), Err(FaultRefusal::NoText));
        // The engine's own faults may say nothing more than their kind.
        let mut engine = report("");
        engine.source = FaultSource::Engine;
        assert_eq!(engine.check(), Ok(()));
    }

    #[test]
    fn settings_default_and_refuse_unknown_fields() {
        let s: FaultSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(s.silent_after_ms(true), 24 * 3_600_000);
        assert_eq!(s.silent_after_ms(false), 72 * 3_600_000);
        assert!(serde_json::from_str::<FaultSettings>(r#"{"silent": 1}"#).is_err());
    }
}
