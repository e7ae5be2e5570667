//! An authentic, continuous event (a request, a refused attempt, a PIN
//! change, a key rotation, a fault report): stored with the status the
//! server gives it.

use punch_model::ledger::event::{ChainEvent, EventRecord};
use punch_model::ledger::key_rotation::KeyRotation;
use punch_model::rules::makeup::{FaultCitation, RequestStatus};
use punch_model::rules::policy::PreparedPolicy;
use punch_model::text::serde_name;
use punch_model::wire::{RejectReason, UploadRecord};

use super::Batch;
use super::judge::{Step, Verdict, refuse_link};
use super::time::JudgedTime;
use crate::error::ServerError;
use crate::faults;
use crate::key_rotation;
use crate::privacy::keys;
use crate::requests;
use crate::store::StoredEvent;

/// The status the server gives an event, and why.
type Status = Option<(String, Option<String>)>;

impl Batch<'_> {
    /// Stores an authentic, continuous event; a request gets the status the
    /// policy's limits give it, judged at the event's trusted time.
    pub(super) fn accept_event(
        &mut self,
        up: &UploadRecord,
        event: &EventRecord,
        policy: &PreparedPolicy,
        time: JudgedTime,
        hash: String,
    ) -> Step<Verdict> {
        // A sealed payload is range-checked once opened (its clear part was
        // checked before); one that does not open is kept as it is, the
        // employee's evidence.
        if let Some(opened) = keys::open_event(self.tx, self.device_id, event)?
            && let Err(check) = opened.check_ranges()
        {
            return refuse_link(RejectReason::OutOfRange, check.to_string());
        }
        // An event id names one request for its decision: a second row
        // with it (any device) is refused, as a reused punch id is.
        let event_id = event.event_id.to_string();
        let holder = match self.events_here.iter().find(|e| e.event_id == event_id) {
            Some(e) => Some((e.device_id.clone(), e.seq)),
            None => self.tx.events().event_id_holder(&event_id)?,
        };
        if let Some((device, seq)) = holder {
            return refuse_link(
                RejectReason::ConflictingDuplicate,
                format!("event id {event_id} is already stored as device {device} seq {seq}"),
            );
        }
        let status = self.event_status(event, policy, time.trusted_time_ms)?;
        let body = serde_json::to_string(&event.event)
            .map_err(|e| ServerError::Corrupt(format!("event body: {e}")))?;
        Ok(Verdict::AcceptedEvent(Box::new(StoredEvent {
            device_id: self.device_id.to_string(),
            seq: event.seq,
            event_id,
            employee_id: event.employee_id.clone(),
            event_type: event.event.type_name().to_string(),
            body,
            wall_time_ms: event.wall_time_ms,
            trusted_time_ms: time.trusted_time_ms,
            record: up.record.clone(),
            signature: up.signature.clone(),
            hash,
            received_at_ms: self.now_ms,
            status: status.as_ref().map(|(s, _)| s.clone()),
            status_detail: status.and_then(|(_, d)| d),
            decided_by: None,
            decided_at_ms: None,
            comment: None,
        })))
    }

    fn event_status(
        &mut self,
        event: &EventRecord,
        policy: &PreparedPolicy,
        trusted_time_ms: Option<i64>,
    ) -> Step<Status> {
        Ok(match &event.event {
            ChainEvent::KeyRotation(rotation) => self.take_rotation(event, rotation, policy)?,
            // PIN events and successes are judged again against the
            // device's earlier ones.
            ChainEvent::Pin(_) | ChainEvent::PinVerified(_) => {
                let entry = crate::pin::audit::PinEntry::of(&event.event)
                    .ok_or_else(|| ServerError::Corrupt("a PIN event that is not one".into()))?;
                crate::pin::audit::judge_new(
                    self.tx,
                    self.device_id,
                    &entry,
                    trusted_time_ms,
                    &self.events_here,
                )?
                .map(|(s, d)| (s, Some(d)))
            }
            other => {
                let judged = requests::judge_new(
                    self.tx,
                    &policy.policy,
                    self.employee_id,
                    other,
                    trusted_time_ms.unwrap_or(event.wall_time_ms),
                    &self.events_here,
                )?;
                match (judged, other) {
                    // Within the limits: the fault it cites must be the employee's.
                    (Some((RequestStatus::Pending, _)), ChainEvent::MakeUpRequest(r)) => {
                        Some(self.cited_fault(r.fault.as_ref())?)
                    }
                    (judged, _) => judged.map(|(s, d)| (serde_name(&s), d)),
                }
            }
        })
    }

    /// A pending make-up request's status once its cited fault (if any) is
    /// checked: refused with the reason when it is no fault of this employee.
    fn cited_fault(&self, citation: Option<&FaultCitation>) -> Step<(String, Option<String>)> {
        let refusal = match citation {
            Some(c) => {
                faults::check_citation(self.tx, self.employee_id, c, &self.events_here)?.err()
            }
            None => None,
        };
        Ok(match refusal {
            None => (serde_name(&RequestStatus::Pending), None),
            Some(r) => (
                serde_name(&RequestStatus::Refused),
                Some(r.code().to_string()),
            ),
        })
    }

    /// A key rotation approved at once puts its punch key in force for the
    /// rest of the batch; one waiting for HR holds the records after it.
    fn take_rotation(
        &mut self,
        event: &EventRecord,
        rotation: &KeyRotation,
        policy: &PreparedPolicy,
    ) -> Step<Status> {
        let judged = match key_rotation::judge(
            self.tx,
            self.device,
            &self.punch_key,
            &policy.policy.settings,
            event,
            rotation,
            self.now_ms,
        )? {
            Ok(judged) => judged,
            Err(detail) => return refuse_link(RejectReason::ChainBreak, detail),
        };
        if judged.status == key_rotation::APPROVED {
            self.punch_key = rotation.punch_key.clone();
            self.punch_key_assurance = Some(judged.proven.level);
            self.assurance = judged.proven.level;
            self.rotated_here = true;
        } else {
            self.rotation_pending = Some(event.seq);
        }
        Ok(Some((judged.status.to_string(), Some(judged.detail))))
    }
}
