//! Filing a make-up request: the policy's limits judged at once, on
//! trusted time and from this device's own earlier requests, then signed.

use punch_model::ledger::event::{ChainEntry, ChainEvent, types};
use punch_model::rules::field_work::policy_zone;
use punch_model::rules::makeup::{self, MakeUpRequest, RequestStatus};
use punch_model::rules::policy::PreparedPolicy;

use super::{own_events, refused_attempts, requests};
use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::recorder::{self, EventReceipt};

/// Checks `request` against the policy and what it points at, then records it.
pub(crate) fn file_make_up(
    device: &DeviceContext,
    policy: &PreparedPolicy,
    request: MakeUpRequest,
) -> Result<EventReceipt> {
    if let Some(attempt) = request.refused_attempt {
        let id = attempt.to_string();
        if !refused_attempts(device)?.iter().any(|a| a.event_id == id) {
            return Err(PunchError::UnknownReference {
                what: "refused attempt",
                id,
            });
        }
    }
    if let Some(fault) = &request.fault {
        crate::faults::check_citation(device, fault)?;
    }
    for a in &request.attachments {
        if !device.db.has_attachment(&a.sha256)? {
            return Err(PunchError::UnknownReference {
                what: "attachment",
                id: a.sha256.clone(),
            });
        }
    }
    // Refused requests do not use up the month (the server counts the same).
    let refused: Vec<String> = requests(device)?
        .into_iter()
        .filter(|r| r.status == RequestStatus::Refused)
        .map(|r| r.event_id)
        .collect();
    let earlier: Vec<i64> = own_events(device, types::MAKE_UP_REQUEST)?
        .into_iter()
        .filter_map(|(_, entry)| match entry {
            ChainEntry::Event(e) if !refused.contains(&e.event_id.to_string()) => match e.event {
                ChainEvent::MakeUpRequest(r) => Some(r.intended_time_ms),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let now = device.now();
    let trusted = device.trusted_now_at(&now)?;
    let zone = policy_zone(&policy.policy);
    makeup::check_request(&policy.policy.make_up, &request, trusted, &zone, &earlier)?;
    recorder::record_event(
        device,
        policy.policy.version,
        &ChainEvent::MakeUpRequest(request),
    )
}
