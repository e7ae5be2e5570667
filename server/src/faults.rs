//! Fault reports on the server (`punch_model::ledger::fault`): fault events
//! arrive in devices' chains and are kept like any event (per device and
//! employee, with the received time); terminals silent for longer than the
//! policy allows are computed from when each was last heard from; a
//! make-up request citing a fault is checked to cite one of the same
//! employee, and the reviewer sees the two together.

use punch_model::ledger::event::ChainEvent;
use punch_model::ledger::fault::{EVENT_TYPE, FaultRefusal, FaultSettings};
use punch_model::rules::makeup::FaultCitation;
use punch_model::rules::policy::Policy;
use serde::Serialize;

use crate::error::{Result, ServerError};
use crate::requests::parse;
use crate::store::faults::{SilentQuery, SilentTerminal};
use crate::store::{StoreTx, StoredEvent};

/// Whether `citation` names a fault event of `employee_id`, stored or
/// earlier in the same batch. The outer error is the store's.
pub fn check_citation(
    tx: &dyn StoreTx,
    employee_id: &str,
    citation: &FaultCitation,
    earlier_in_batch: &[StoredEvent],
) -> Result<std::result::Result<(), FaultRefusal>> {
    let here = earlier_in_batch
        .iter()
        .find(|e| e.device_id == citation.device_id && e.seq == citation.seq)
        .cloned();
    let cited = match here {
        Some(e) => Some(e),
        None => tx.faults().event_at(&citation.device_id, citation.seq)?,
    };
    Ok(match cited {
        Some(e) if e.event_type == EVENT_TYPE && e.employee_id == employee_id => Ok(()),
        Some(e) if e.event_type == EVENT_TYPE => Err(FaultRefusal::CitedFaultNotYours {
            device_id: citation.device_id.clone(),
            seq: citation.seq,
        }),
        _ => Err(FaultRefusal::CitedFaultNotFound {
            device_id: citation.device_id.clone(),
            seq: citation.seq,
        }),
    })
}

/// The fault a stored make-up request cites, if it cites one that exists.
pub fn cited_by(tx: &dyn StoreTx, request: &StoredEvent) -> Result<Option<StoredEvent>> {
    let Some(ChainEvent::MakeUpRequest(r)) = parse(request) else {
        return Ok(None);
    };
    let Some(c) = r.fault else {
        return Ok(None);
    };
    Ok(tx
        .faults()
        .event_at(&c.device_id, c.seq)?
        .filter(|e| e.event_type == EVENT_TYPE && e.employee_id == request.employee_id))
}

/// The latest policy's fault settings (the defaults before any policy).
pub fn settings(tx: &dyn StoreTx) -> Result<FaultSettings> {
    Ok(match tx.policies().latest_policy()? {
        Some(row) => Policy::from_json(&row.body)
            .map_err(|e| ServerError::Corrupt(format!("latest policy: {e}")))?
            .settings
            .faults(),
        None => FaultSettings::default(),
    })
}

/// A silent terminal as a fault: how long it has been silent, and the
/// limit it is over.
#[derive(Debug, Clone, Serialize)]
pub struct SilentFault {
    #[serde(flatten)]
    pub terminal: SilentTerminal,
    pub silent_for_h: i64,
    pub limit_h: u32,
}

/// Terminals silent for longer than the policy allows at `now_ms`, by
/// device id after `after`, of `team` if given: one page.
pub fn silent(
    tx: &dyn StoreTx,
    team: Option<String>,
    after: Option<String>,
    limit: usize,
    now_ms: i64,
) -> Result<Vec<SilentFault>> {
    let s = settings(tx)?;
    let rows = tx.faults().silent_terminals(&SilentQuery {
        phone_before_ms: now_ms.saturating_sub(s.silent_after_ms(false)),
        kiosk_before_ms: now_ms.saturating_sub(s.silent_after_ms(true)),
        team,
        after,
        limit,
    })?;
    Ok(rows
        .into_iter()
        .map(|terminal| {
            let limit_h = if terminal.terminal == "kiosk" {
                s.kiosk_silent_after_h
            } else {
                s.phone_silent_after_h
            };
            SilentFault {
                silent_for_h: now_ms.saturating_sub(terminal.last_seen_ms) / 3_600_000,
                limit_h,
                terminal,
            }
        })
        .collect())
}
