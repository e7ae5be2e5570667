//! Fault reports across the boundary: the employee describes a fault
//! (`report_fault`), the app lists the faults this device recorded (the
//! engine records the ones it sees itself), and a make-up request cites
//! one (`MakeUpRequestInput.fault`).

use std::time::SystemTime;

use punch_core::FaultEvent;
use punch_model::ledger::fault::FaultSource;
use punch_model::messages::{self, Locale};

use crate::client::PunchClient;
use crate::error::PunchError;
use crate::exceptions::{AttachmentRef, FaultRef, RequestReceipt};
use crate::messages::Message;
use crate::types::{Signed, instant};

/// A fault this device recorded (seen by the engine or reported).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FaultInfo {
    pub event_id: String,
    /// Cite it with this in `MakeUpRequestInput.fault`.
    pub reference: FaultRef,
    pub recorded_at: SystemTime,
    /// The kind's wire name (`location_unavailable`, `clock_moved`, `other`...).
    pub kind: String,
    /// True when the employee reported it, false when the engine saw it.
    pub reported: bool,
    pub text: String,
    pub attachments: Vec<AttachmentRef>,
    /// The kind as a message (`localized_text` renders it).
    pub message: Message,
}

impl From<FaultEvent> for FaultInfo {
    fn from(f: FaultEvent) -> Self {
        FaultInfo {
            reference: FaultRef {
                device_id: f.device_id,
                seq: f.seq.signed(),
            },
            event_id: f.event_id,
            recorded_at: instant(f.wall_time_ms),
            kind: f.report.kind.name(),
            reported: f.report.source == FaultSource::Employee,
            message: messages::fault_message(f.report.kind, Locale::English).into(),
            text: f.report.text,
            attachments: f
                .report
                .attachments
                .into_iter()
                .map(AttachmentRef::from)
                .collect(),
        }
    }
}

#[uniffi::export]
impl PunchClient {
    /// Reports a fault the employee describes: `kind` by its wire name
    /// (`location_unavailable`, `location_denied`, `wifi_off`,
    /// `clock_moved`, `upload_failing`, `storage_full`, `key_invalidated`,
    /// `attestation_refused`, `other`), `text` up to 1,000 characters,
    /// files from `attach` first. Refused: `PunchError.RequestRefused`
    /// with a `Fault…` code. Signed by the channel key: no prompt.
    pub async fn report_fault(
        &self,
        kind: String,
        text: String,
        attachments: Vec<AttachmentRef>,
    ) -> Result<RequestReceipt, PunchError> {
        self.run(move |engine| {
            let attachments = attachments
                .into_iter()
                .map(crate::exceptions::attachment)
                .collect();
            Ok(engine.report_fault(&kind, &text, attachments)?.into())
        })
        .await
    }

    /// The faults this device recorded, oldest first.
    pub async fn faults(&self) -> Result<Vec<FaultInfo>, PunchError> {
        self.run(move |engine| Ok(engine.faults()?.into_iter().map(FaultInfo::from).collect()))
            .await
    }
}
