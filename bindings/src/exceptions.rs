//! Make-up requests (补卡) and field-work proposals (外勤报备) across the
//! boundary: filing them, the files for them, where they stand, the refused
//! attempts they can point at, and the field sites approved.

use punch_core::EventReceipt;
use punch_core::{FiledRequest, RefusedAttempt, RequestView};
use punch_model::geofence::LatLon;
use punch_model::messages::{self, Locale};
use punch_model::rules::field_work::{Date, FieldSite, FieldWorkRequest};
use punch_model::rules::makeup::{self, FaultCitation, MakeUpRequest};
use std::time::SystemTime;

use crate::client::PunchClient;
use crate::error::PunchError;
use crate::messages::Message;
use crate::types::{Evaluation, PunchKind};
use crate::types::{Signed, instant, millis};

/// A file named by a make-up request (from `attach`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AttachmentRef {
    /// Hex SHA-256 of the file.
    pub sha256: String,
    pub size_bytes: i64,
    pub media_type: String,
}

/// What a make-up request asks for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MakeUpRequestInput {
    pub kind: PunchKind,
    /// When the punch should have been.
    pub intended_time: SystemTime,
    #[uniffi(default = None)]
    pub site_id: Option<String>,
    pub reason: String,
    #[uniffi(default = [])]
    pub attachments: Vec<AttachmentRef>,
    /// `RefusedAttemptInfo.event_id` of the attempt this is about.
    #[uniffi(default = None)]
    pub refused_attempt_id: Option<String>,
    /// A fault event that explains the request (`FaultInfo.reference`).
    #[uniffi(default = None)]
    pub fault: Option<FaultRef>,
}

/// Where a fault event sits in a device's chain: what a make-up request cites.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FaultRef {
    pub device_id: String,
    pub seq: i64,
}

/// A proposed field-work site: a circle, for a range of days.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FieldWorkInput {
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
    #[uniffi(default = None)]
    pub address: Option<String>,
    /// First and last day, `YYYY-MM-DD`, in the policy's zone.
    pub from_date: String,
    pub to_date: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RequestStatus {
    Pending,
    Approved,
    Denied,
    /// Refused by the employer's rules on the server (no manager needed).
    Refused,
}

/// A request this device filed, and where it stands.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RequestInfo {
    pub event_id: String,
    pub seq: i64,
    pub filed_at: SystemTime,
    pub status: RequestStatus,
    /// The refusal's code when refused.
    pub detail: Option<String>,
    /// The manager's comment.
    pub comment: Option<String>,
    pub decided_at: Option<SystemTime>,
    /// The status as a message (`localized_text` renders it).
    pub status_message: Message,
    /// Exactly one of these is set.
    pub make_up: Option<MakeUpRequestInput>,
    pub field_work: Option<FieldWorkInput>,
}

/// A punch the rules refused, kept as evidence.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RefusedAttemptInfo {
    pub event_id: String,
    pub seq: i64,
    pub wall_time: SystemTime,
    pub kind: PunchKind,
    /// As judged; only the verdict when `unreadable` says why not.
    pub evaluation: Evaluation,
    /// Why its sealed payload cannot be opened on this phone (data key
    /// lost or rotated): the server still holds and reads it.
    pub unreadable: Option<String>,
}

/// A field site approved for this employee.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FieldSiteInfo {
    /// The id punches there are attributed to (`field:<request id>`).
    pub site_id: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
    pub from_date: String,
    pub to_date: String,
}

/// A durable, signed, chained request.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestReceipt {
    pub event_id: String,
    pub seq: i64,
    pub wall_time: SystemTime,
    pub record_hash: String,
}

impl From<EventReceipt> for RequestReceipt {
    fn from(r: EventReceipt) -> Self {
        RequestReceipt {
            event_id: r.event_id.to_string(),
            seq: r.seq.signed(),
            wall_time: instant(r.wall_time_ms),
            record_hash: r.record_hash,
        }
    }
}

fn date(text: &str, field: &str) -> Result<Date, PunchError> {
    text.trim().parse().map_err(|e| PunchError::InvalidInput {
        detail: format!("{field} is not a YYYY-MM-DD date ({e})."),
    })
}

impl TryFrom<MakeUpRequestInput> for MakeUpRequest {
    type Error = PunchError;
    fn try_from(r: MakeUpRequestInput) -> Result<Self, PunchError> {
        let refused_attempt = match r.refused_attempt_id {
            Some(id) => Some(id.trim().parse().map_err(|_| PunchError::InvalidInput {
                detail: "The refused attempt id is not a UUID.".to_string(),
            })?),
            None => None,
        };
        Ok(MakeUpRequest {
            kind: r.kind.into(),
            intended_time_ms: millis(r.intended_time),
            site_id: r.site_id,
            reason: r.reason,
            attachments: r.attachments.into_iter().map(attachment).collect(),
            refused_attempt,
            fault: r.fault.map(FaultCitation::try_from).transpose()?,
        })
    }
}

impl From<MakeUpRequest> for MakeUpRequestInput {
    fn from(r: MakeUpRequest) -> Self {
        MakeUpRequestInput {
            kind: r.kind.into(),
            intended_time: instant(r.intended_time_ms),
            site_id: r.site_id,
            reason: r.reason,
            attachments: r.attachments.into_iter().map(AttachmentRef::from).collect(),
            refused_attempt_id: r.refused_attempt.map(|u| u.to_string()),
            fault: r.fault.map(FaultRef::from),
        }
    }
}

impl TryFrom<FaultRef> for FaultCitation {
    type Error = PunchError;
    fn try_from(r: FaultRef) -> Result<Self, PunchError> {
        Ok(FaultCitation {
            device_id: r.device_id,
            seq: u64::try_from(r.seq)
                .map_err(|_| PunchError::invalid("The fault's seq is negative."))?,
        })
    }
}

impl From<FaultCitation> for FaultRef {
    fn from(c: FaultCitation) -> Self {
        FaultRef {
            device_id: c.device_id,
            seq: c.seq.signed(),
        }
    }
}

/// A file as the core names it.
pub(crate) fn attachment(a: AttachmentRef) -> makeup::Attachment {
    makeup::Attachment {
        sha256: a.sha256,
        size_bytes: u64::try_from(a.size_bytes).unwrap_or(0),
        media_type: a.media_type,
    }
}

impl From<makeup::Attachment> for AttachmentRef {
    fn from(a: makeup::Attachment) -> Self {
        AttachmentRef {
            sha256: a.sha256,
            size_bytes: a.size_bytes.signed(),
            media_type: a.media_type,
        }
    }
}

impl TryFrom<FieldWorkInput> for FieldWorkRequest {
    type Error = PunchError;
    fn try_from(f: FieldWorkInput) -> Result<Self, PunchError> {
        Ok(FieldWorkRequest {
            center: LatLon {
                lat: f.lat,
                lon: f.lon,
            },
            radius_m: f.radius_m,
            address: f.address,
            from_date: date(&f.from_date, "from_date")?,
            to_date: date(&f.to_date, "to_date")?,
            reason: f.reason,
        })
    }
}

impl From<FieldWorkRequest> for FieldWorkInput {
    fn from(f: FieldWorkRequest) -> Self {
        FieldWorkInput {
            lat: f.center.lat,
            lon: f.center.lon,
            radius_m: f.radius_m,
            address: f.address,
            from_date: f.from_date.to_string(),
            to_date: f.to_date.to_string(),
            reason: f.reason,
        }
    }
}

fn status(s: makeup::RequestStatus) -> RequestStatus {
    match s {
        makeup::RequestStatus::Pending => RequestStatus::Pending,
        makeup::RequestStatus::Approved => RequestStatus::Approved,
        makeup::RequestStatus::Denied => RequestStatus::Denied,
        makeup::RequestStatus::Refused => RequestStatus::Refused,
    }
}

impl From<RequestView> for RequestInfo {
    fn from(r: RequestView) -> Self {
        let status_message = messages::request_status_message(
            r.status,
            r.comment.as_deref(),
            r.detail.as_deref(),
            Locale::English,
        )
        .into();
        let (make_up, field_work) = match r.request {
            FiledRequest::MakeUp(m) => (Some(m.into()), None),
            FiledRequest::FieldWork(f) => (None, Some(f.into())),
        };
        RequestInfo {
            event_id: r.event_id,
            seq: r.seq.signed(),
            filed_at: instant(r.filed_at_ms),
            status: status(r.status),
            detail: r.detail,
            comment: r.comment,
            decided_at: r.decided_at_ms.map(instant),
            status_message,
            make_up,
            field_work,
        }
    }
}

impl From<RefusedAttempt> for RefusedAttemptInfo {
    fn from(a: RefusedAttempt) -> Self {
        RefusedAttemptInfo {
            event_id: a.event_id,
            seq: a.seq.signed(),
            wall_time: instant(a.wall_time_ms),
            kind: a.refused.kind.into(),
            evaluation: a.refused.evaluation.into(),
            unreadable: a.unreadable,
        }
    }
}

impl From<FieldSite> for FieldSiteInfo {
    fn from(s: FieldSite) -> Self {
        FieldSiteInfo {
            site_id: s.site_id(),
            name: s.name,
            lat: s.center.lat,
            lon: s.center.lon,
            radius_m: s.radius_m,
            from_date: s.from_date.to_string(),
            to_date: s.to_date.to_string(),
        }
    }
}

#[uniffi::export]
impl PunchClient {
    /// Files a make-up request (补卡); the policy's limits are judged now,
    /// offline. Refused: `PunchError.RequestRefused` with the rule's code.
    pub async fn file_make_up_request(
        &self,
        request: MakeUpRequestInput,
    ) -> Result<RequestReceipt, PunchError> {
        self.run_for_user(move |engine| {
            let request = MakeUpRequest::try_from(request)?;
            Ok(engine.file_make_up_request(request)?.into())
        })
        .await
    }

    /// Proposes a field-work site (外勤报备) for a manager to approve.
    pub async fn propose_field_work(
        &self,
        proposal: FieldWorkInput,
    ) -> Result<RequestReceipt, PunchError> {
        self.run_for_user(move |engine| {
            let proposal = FieldWorkRequest::try_from(proposal)?;
            Ok(engine.propose_field_work(proposal)?.into())
        })
        .await
    }

    /// Keeps a file for a make-up request (or a fault report) until the
    /// server has it.
    pub async fn attach(
        &self,
        body: Vec<u8>,
        media_type: String,
    ) -> Result<AttachmentRef, PunchError> {
        self.run(move |engine| Ok(engine.attach(body, &media_type)?.into()))
            .await
    }

    /// The requests this device filed, oldest first, with their status.
    pub async fn requests(&self) -> Result<Vec<RequestInfo>, PunchError> {
        self.run(move |engine| {
            Ok(engine
                .requests()?
                .into_iter()
                .map(RequestInfo::from)
                .collect())
        })
        .await
    }

    /// The punches the rules refused, kept as evidence, oldest first.
    pub async fn refused_attempts(&self) -> Result<Vec<RefusedAttemptInfo>, PunchError> {
        self.run(move |engine| {
            Ok(engine
                .refused_attempts()?
                .into_iter()
                .map(RefusedAttemptInfo::from)
                .collect())
        })
        .await
    }

    /// The field sites approved for this employee.
    pub fn field_sites(&self) -> Vec<FieldSiteInfo> {
        self.engine()
            .field_sites()
            .into_iter()
            .map(FieldSiteInfo::from)
            .collect()
    }
}
