//! The everyday exceptions of attendance, filed from the phone: make-up
//! requests (补卡) for a missed or refused punch, with files and a link to
//! the refused attempt, and field-work proposals (外勤报备). Each is judged
//! at once against the policy's limits, then signed and chained like a
//! punch (`recorder::record_event`); the server judges it again, a manager
//! decides, and the decision comes back on sync (`sync::requests_fetch`).
//! `service` is what the engine delegates to.

mod attachments;
mod field_work;
mod forgotten;
mod make_up;
mod service;

use attachments::attach;
use field_work::propose_field_work;
pub use forgotten::{ForgottenNotice, make_up_for};
use make_up::file_make_up;
pub(crate) use service::ExceptionService;

use punch_model::ledger::event::{ChainEntry, ChainEvent, EventRecord, kind_column_of, types};
use punch_model::ledger::refused::RefusedPunch;
use punch_model::ledger::sealed::unseal_event;
use punch_model::rules::field_work::FieldWorkRequest;
use punch_model::rules::makeup::{MakeUpRequest, RequestStatus};

use crate::device::DeviceContext;
use crate::error::Result;
use crate::store::Sealing;

/// What a request asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum FiledRequest {
    /// A make-up request (补卡).
    MakeUp(MakeUpRequest),
    /// A field-work proposal (外勤报备).
    FieldWork(FieldWorkRequest),
}

/// A request this device filed, and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestView {
    /// The request's (or attempt's) event id.
    pub event_id: String,
    /// Its record's position in the chain.
    pub seq: u64,
    /// When it was filed (the record's wall time).
    pub filed_at_ms: i64,
    /// What it asks for.
    pub request: FiledRequest,
    /// `Pending` until the server says otherwise.
    pub status: RequestStatus,
    /// The refusal's code when the server's limits refused it.
    pub detail: Option<String>,
    /// The manager's comment, once decided.
    pub comment: Option<String>,
    /// When the manager decided.
    pub decided_at_ms: Option<i64>,
}

/// A punch the rules refused, as kept in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusedAttempt {
    /// The attempt's event id.
    pub event_id: String,
    /// Its record's position in the chain.
    pub seq: u64,
    /// When the attempt was made (its record's wall time).
    pub wall_time_ms: i64,
    /// As judged (its sealed payload opened), or only its clear part (kind
    /// and verdict) when the payload cannot be opened here.
    pub refused: RefusedPunch,
    /// Why the attempt's sealed payload cannot be opened on this phone (the
    /// data key was lost, or rotated since): `refused` then has no evidence
    /// or reasons. The record itself still verifies and uploads, and the
    /// server opens it with the key escrowed to it.
    pub unreadable: Option<String>,
}

/// The device's own events of one type, parsed, oldest first.
fn own_events(device: &DeviceContext, type_name: &str) -> Result<Vec<(u64, ChainEntry)>> {
    let rows = device.db.events_of_kind(&kind_column_of(type_name))?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            ChainEntry::from_bytes(&row.record)
                .ok()
                .map(|e| (row.seq, e))
        })
        .collect())
}

fn status_of(text: &str) -> RequestStatus {
    match text {
        "approved" => RequestStatus::Approved,
        "denied" => RequestStatus::Denied,
        "refused" => RequestStatus::Refused,
        _ => RequestStatus::Pending,
    }
}

/// Every request this device filed, oldest first, with its status.
fn requests(device: &DeviceContext) -> Result<Vec<RequestView>> {
    let mut out = Vec::new();
    for type_name in [types::MAKE_UP_REQUEST, types::FIELD_WORK_REQUEST] {
        for (seq, entry) in own_events(device, type_name)? {
            let ChainEntry::Event(event) = entry else {
                continue;
            };
            let request = match event.event {
                ChainEvent::MakeUpRequest(r) => FiledRequest::MakeUp(r),
                ChainEvent::FieldWorkRequest(r) => FiledRequest::FieldWork(r),
                _ => continue,
            };
            let event_id = event.event_id.to_string();
            let known = device.db.request_status(&event_id)?;
            out.push(RequestView {
                seq,
                filed_at_ms: event.wall_time_ms,
                request,
                status: known
                    .as_ref()
                    .map_or(RequestStatus::Pending, |k| status_of(&k.status)),
                detail: known.as_ref().and_then(|k| k.detail.clone()),
                comment: known.as_ref().and_then(|k| k.comment.clone()),
                decided_at_ms: known.and_then(|k| k.decided_at_ms),
                event_id,
            });
        }
    }
    out.sort_by_key(|r| r.seq);
    Ok(out)
}

/// Every refused punch kept on this device, oldest first, opened with the
/// data key where sealed. One that does not open is listed with its clear
/// part and says why: a lost key never hides the others.
fn refused_attempts(device: &DeviceContext) -> Result<Vec<RefusedAttempt>> {
    let sealing = device.db.sealing();
    Ok(own_events(device, types::REFUSED_PUNCH)?
        .into_iter()
        .filter_map(|(seq, entry)| match entry {
            ChainEntry::Event(e) => {
                let (opened, unreadable) = open_event(&sealing, *e);
                match opened.event {
                    ChainEvent::RefusedPunch(refused) => Some(RefusedAttempt {
                        event_id: opened.event_id.to_string(),
                        seq,
                        wall_time_ms: opened.wall_time_ms,
                        refused: *refused,
                        unreadable,
                    }),
                    _ => None,
                }
            }
            ChainEntry::Punch(_) => None,
        })
        .collect())
}

/// The event with its sealed payload opened, or as it is with why it would
/// not open.
pub(crate) fn open_event(sealing: &Sealing, event: EventRecord) -> (EventRecord, Option<String>) {
    if event.sealed().is_none() {
        return (event, None);
    }
    match sealing {
        Sealing::Ready(key) => match unseal_event(key, &event) {
            Ok(opened) => (opened, None),
            Err(e) => (event, Some(e.to_string())),
        },
        Sealing::Unavailable { reason, .. } => (event, Some(reason.clone())),
        Sealing::Off => (
            event,
            Some("the payload is sealed but no key wrapper is configured".into()),
        ),
    }
}

/// Whether any filed request still waits for a decision (sync asks then).
pub(crate) fn any_undecided(device: &DeviceContext) -> Result<bool> {
    Ok(requests(device)?
        .iter()
        .any(|r| r.status == RequestStatus::Pending))
}
