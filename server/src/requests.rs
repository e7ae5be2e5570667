//! Make-up requests (补卡) and field-work proposals (外勤报备) on the
//! server: judged again on upload (the policy's limits, on trusted time),
//! decided by a manager, told back to the device, and — for approved field
//! work — signed into the employee's personal addendum.

use punch_model::ledger::event::ChainEvent;
use punch_model::ledger::signing::Signer;
use punch_model::rules::field_work::{FieldSite, PersonalAddendum, day_of, policy_zone};
use punch_model::rules::makeup::{self, RequestStatus};
use punch_model::rules::policy::Policy;
use punch_model::text::serde_name;
use punch_model::wire::{RequestDecision, SignedAddendum};

use crate::error::{Result, ServerError};
use crate::policy_publish;
use crate::store::{AttachmentRow, EventDecision, EventFilter, StoreTx, StoredEvent};

pub const MAKE_UP: &str = "make_up_request";
pub const FIELD_WORK: &str = "field_work_request";

/// The status a new request gets on upload: pending for a manager, or
/// refused by the limits (with the refusal's code).
pub fn judge_new(
    tx: &dyn StoreTx,
    policy: &Policy,
    employee_id: &str,
    event: &ChainEvent,
    filed_at_ms: i64,
    earlier_in_batch: &[StoredEvent],
) -> Result<Option<(RequestStatus, Option<String>)>> {
    Ok(match event {
        ChainEvent::MakeUpRequest(request) => {
            let mut earlier = tx.events().list(&EventFilter {
                employee_id: Some(employee_id),
                event_type: Some(MAKE_UP),
                ..EventFilter::default()
            })?;
            earlier.extend(earlier_in_batch.iter().cloned());
            let intended: Vec<i64> = earlier
                .iter()
                .filter(|e| e.event_type == MAKE_UP && counts_against_limit(e))
                .filter_map(|e| match parse(e) {
                    Some(ChainEvent::MakeUpRequest(r)) => Some(r.intended_time_ms),
                    _ => None,
                })
                .collect();
            let zone = policy_zone(policy);
            match makeup::check_request(&policy.make_up, request, filed_at_ms, &zone, &intended) {
                Ok(()) => Some((RequestStatus::Pending, None)),
                Err(refusal) => Some((RequestStatus::Refused, Some(refusal.code().to_string()))),
            }
        }
        ChainEvent::FieldWorkRequest(proposal) => match proposal.validate() {
            Ok(()) => Some((RequestStatus::Pending, None)),
            Err(e) => Some((RequestStatus::Refused, Some(e.code().to_string()))),
        },
        _ => None,
    })
}

/// Refused requests do not use up the month's allowance; denied ones do
/// (a manager saw them).
fn counts_against_limit(e: &StoredEvent) -> bool {
    e.status.as_deref() != Some("refused")
}

/// The event a stored row holds.
pub fn parse(e: &StoredEvent) -> Option<ChainEvent> {
    serde_json::from_str(&e.body).ok()
}

/// Requests (both kinds), optionally narrowed.
pub fn list(
    tx: &dyn StoreTx,
    employee_id: Option<&str>,
    status: Option<&str>,
) -> Result<Vec<StoredEvent>> {
    let mut out = Vec::new();
    for kind in [MAKE_UP, FIELD_WORK] {
        out.extend(tx.events().list(&EventFilter {
            employee_id,
            event_type: Some(kind),
            status,
            ..EventFilter::default()
        })?);
    }
    out.sort_by_key(|e| (e.received_at_ms, e.seq));
    Ok(out)
}

/// Which request a decision is about: its id, and — only where an older
/// database holds several rows with that id — the (device, seq) of one.
#[derive(Debug, Clone, Copy)]
pub struct RequestRef<'a> {
    pub event_id: &'a str,
    pub at: Option<(&'a str, u64)>,
}

impl<'a> RequestRef<'a> {
    pub fn id(event_id: &'a str) -> RequestRef<'a> {
        RequestRef { event_id, at: None }
    }
}

/// The one request row `r` names: not found, or a conflict when the id is
/// shared and no (device, seq) picks one (never a guess).
pub fn find(tx: &dyn StoreTx, r: RequestRef<'_>) -> Result<StoredEvent> {
    let rows = tx.events().events_by_id(r.event_id)?;
    let mut rows: Vec<StoredEvent> = match r.at {
        Some((device, seq)) => rows
            .into_iter()
            .filter(|e| e.device_id == device && e.seq == seq)
            .collect(),
        None => rows,
    };
    match rows.len() {
        0 => Err(ServerError::NotFound(format!("no request {}", r.event_id))),
        1 => Ok(rows.remove(0)),
        n => Err(ServerError::Conflict(format!(
            "{n} requests carry id {}: name the device_id and seq of one",
            r.event_id
        ))),
    }
}

/// A manager's decision on a pending request (found with [`find`]): only
/// that row changes. Answers the row as decided.
pub fn decide(
    tx: &dyn StoreTx,
    event: &StoredEvent,
    approve: bool,
    decided_by: &str,
    comment: &str,
    now_ms: i64,
) -> Result<StoredEvent> {
    let event_id = &event.event_id;
    if event.event_type != MAKE_UP && event.event_type != FIELD_WORK {
        return Err(ServerError::Invalid(format!(
            "{event_id} is a {}, not a request",
            event.event_type
        )));
    }
    let status = if approve {
        RequestStatus::Approved
    } else {
        RequestStatus::Denied
    };
    let status = serde_name(&status);
    let decided = tx.events().decide_event(
        &event.device_id,
        event.seq,
        &EventDecision {
            status: &status,
            decided_by,
            comment,
            at_ms: now_ms,
        },
    )?;
    if !decided {
        return Err(ServerError::Conflict(format!(
            "request {event_id} is {}, not pending",
            event.status.as_deref().unwrap_or("unknown")
        )));
    }
    find(
        tx,
        RequestRef {
            event_id,
            at: Some((&event.device_id, event.seq)),
        },
    )
    .map_err(|_| ServerError::Corrupt(format!("request {event_id} vanished")))
}

/// The approved field sites of an employee.
pub fn field_sites(tx: &dyn StoreTx, employee_id: &str) -> Result<Vec<FieldSite>> {
    let approved = tx.events().list(&EventFilter {
        employee_id: Some(employee_id),
        event_type: Some(FIELD_WORK),
        status: Some("approved"),
        ..EventFilter::default()
    })?;
    Ok(approved
        .iter()
        .filter_map(|e| match (parse(e), e.event_id.parse()) {
            (Some(ChainEvent::FieldWorkRequest(p)), Ok(request_id)) => Some(FieldSite {
                request_id,
                name: p.address.clone().unwrap_or_else(|| "field work".into()),
                center: p.center,
                radius_m: p.radius_m,
                from_date: p.from_date,
                to_date: p.to_date,
            }),
            _ => None,
        })
        .collect())
}

/// Where the device's requests stand, for its next sync.
pub fn decisions_for(tx: &dyn StoreTx, device_id: &str) -> Result<Vec<RequestDecision>> {
    let mut out = Vec::new();
    for kind in [MAKE_UP, FIELD_WORK] {
        for e in tx.events().list(&EventFilter {
            device_id: Some(device_id),
            event_type: Some(kind),
            ..EventFilter::default()
        })? {
            out.push(RequestDecision {
                event_id: e.event_id,
                status: e.status.unwrap_or_else(|| "pending".into()),
                detail: e.status_detail,
                comment: e.comment,
                decided_at_ms: e.decided_at_ms,
            });
        }
    }
    Ok(out)
}

/// The employee's field sites that have not ended by `now_ms`'s day,
/// signed with the policy key (the key the app pins).
pub fn signed_addendum(
    tx: &dyn StoreTx,
    employee_id: &str,
    now_ms: i64,
) -> Result<Option<SignedAddendum>> {
    let sites = field_sites(tx, employee_id)?;
    let zone = match tx.policies().latest_policy()? {
        Some(row) => policy_zone(
            &Policy::from_json(&row.body)
                .map_err(|e| ServerError::Corrupt(format!("latest policy: {e}")))?,
        ),
        None => return Ok(None),
    };
    let today = day_of(now_ms, &zone)
        .ok_or_else(|| ServerError::Corrupt(format!("server time {now_ms} is out of range")))?;
    let field_sites: Vec<FieldSite> = sites.into_iter().filter(|s| s.to_date >= today).collect();
    if field_sites.is_empty() {
        return Ok(None);
    }
    let addendum = PersonalAddendum {
        employee_id: employee_id.to_string(),
        issued_at_ms: now_ms,
        field_sites,
    };
    let body = serde_json::to_vec(&addendum)
        .map_err(|e| ServerError::Corrupt(format!("addendum: {e}")))?;
    let signature = policy_publish::policy_signer(tx)?
        .sign(&body)
        .map_err(|e| ServerError::Crypto(e.to_string()))?;
    Ok(Some(SignedAddendum { body, signature }))
}

/// Stores a make-up request's file: only one a request of this employee
/// names, at the size it names and within the policy's limit. The outer
/// error is the store's; the inner one says why the file is refused.
pub fn store_attachment(
    tx: &dyn StoreTx,
    employee_id: &str,
    sha256: &str,
    body: Vec<u8>,
    now_ms: i64,
) -> Result<std::result::Result<(), String>> {
    // A fault report's files go up the same way as a request's.
    let mut filed = Vec::new();
    for kind in [MAKE_UP, punch_model::ledger::fault::EVENT_TYPE] {
        filed.extend(tx.events().list(&EventFilter {
            employee_id: Some(employee_id),
            event_type: Some(kind),
            ..EventFilter::default()
        })?);
    }
    let named = filed.iter().find_map(|e| match parse(e) {
        Some(ChainEvent::MakeUpRequest(r)) => {
            r.attachments.into_iter().find(|a| a.sha256 == sha256)
        }
        Some(ChainEvent::Fault(f)) => f.attachments.into_iter().find(|a| a.sha256 == sha256),
        _ => None,
    });
    let Some(named) = named else {
        return Ok(Err(format!(
            "no make-up request or fault report of {employee_id} names {sha256}"
        )));
    };
    if named.size_bytes != body.len() as u64 {
        return Ok(Err(format!(
            "the request names {} bytes, {} arrived",
            named.size_bytes,
            body.len()
        )));
    }
    let limit = match tx.policies().latest_policy()? {
        Some(row) => {
            Policy::from_json(&row.body)
                .map_err(|e| ServerError::Corrupt(format!("latest policy: {e}")))?
                .make_up
                .max_attachment_bytes
        }
        None => 0,
    };
    if named.size_bytes > limit {
        return Ok(Err(format!(
            "{} bytes is over the limit of {limit}",
            named.size_bytes
        )));
    }
    tx.events().insert_attachment(&AttachmentRow {
        sha256: sha256.to_string(),
        employee_id: employee_id.to_string(),
        body,
        received_at_ms: now_ms,
    })?;
    Ok(Ok(()))
}
