//! The employee's export (GDPR art. 15/20, PIPL art. 45): everything the
//! server holds about one employee, machine-readable (JSON) with a human
//! summary — punches with their evidence (sealed payloads opened), the
//! server's review decisions and revealed evidence, device bindings,
//! refused records kept as evidence, and requests with their decisions.
//! Only rows of that employee are read into it.

use serde::Serialize;
use serde_json::Value;

use punch_model::ledger::event::ChainEntry;
use punch_model::ledger::record::PunchRecord;

use crate::error::Result;
use crate::privacy::keys;
use crate::store::{DeviceInfo, EventFilter, Revelation, StoreTx, StoredEvent, StoredPunchInfo};

#[derive(Debug, Clone, Serialize)]
pub struct Export {
    pub employee_id: String,
    pub generated_at_ms: i64,
    /// A few lines a person can read.
    pub summary: String,
    pub devices: Vec<DeviceInfo>,
    pub punches: Vec<ExportedPunch>,
    pub revealed_evidence: Vec<Revelation>,
    pub refused_records: Vec<Value>,
    pub requests: Vec<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedPunch {
    #[serde(flatten)]
    pub info: StoredPunchInfo,
    /// The evidence and evaluation the record kept (None once retention
    /// purged the record's bytes).
    pub evidence: Option<Value>,
    pub evaluation: Option<Value>,
}

pub fn export(tx: &dyn StoreTx, employee_id: &str, now_ms: i64) -> Result<Export> {
    let devices: Vec<DeviceInfo> = tx.devices().devices_of(employee_id)?;
    let mut punches = Vec::new();
    for info in tx.punches().punches_of(employee_id)? {
        let record = tx
            .chain()
            .punch_bytes(&info.device_id, info.seq)?
            .and_then(|b| PunchRecord::from_bytes(&b).ok());
        let opened = match &record {
            Some(r) => keys::open_record(tx, &info.device_id, r)?,
            None => None,
        };
        let shown = opened.or(record);
        punches.push(ExportedPunch {
            evidence: shown
                .as_ref()
                .and_then(|r| serde_json::to_value(&r.evidence).ok()),
            evaluation: shown
                .as_ref()
                .and_then(|r| serde_json::to_value(&r.evaluation).ok()),
            info,
        });
    }
    let refused_records: Vec<Value> = tx
        .refusals()
        .rejected_about(employee_id)?
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "device_id": r.device_id, "seq": r.seq, "reason": r.reason,
                "detail": r.detail, "first_received_at_ms": r.first_received_at_ms,
                "record": String::from_utf8_lossy(&r.record),
            })
        })
        .collect();
    let mut requests = Vec::new();
    for event in tx.events().list(&EventFilter {
        employee_id: Some(employee_id),
        ..EventFilter::default()
    })? {
        requests.extend(exported_event(tx, &event)?);
    }
    let revealed_evidence = tx.privacy().revelations_of(employee_id)?;
    let flagged = punches
        .iter()
        .filter(|p| !p.info.review_flags.is_empty())
        .count();
    let summary = format!(
        "Data held about employee {employee_id}:\n\
         - {} device binding(s)\n\
         - {} punch(es), {flagged} with a review flag for a manager\n\
         - {} refused record(s) kept as evidence\n\
         - {} request(s) (make-up, field work, refused attempts)\n\
         - {} dispute(s) settled by revealed evidence (the evidence itself is not kept)",
        devices.len(),
        punches.len(),
        refused_records.len(),
        requests.len(),
        revealed_evidence.len(),
    );
    Ok(Export {
        employee_id: employee_id.to_string(),
        generated_at_ms: now_ms,
        summary,
        devices,
        punches,
        revealed_evidence,
        refused_records,
        requests,
    })
}

/// An event as the export shows it: a refused attempt's sealed payload
/// opened into its `body` with the escrowed key (`sealed_payload` says
/// whether it opened); other events as stored.
fn exported_event(tx: &dyn StoreTx, event: &StoredEvent) -> Result<Option<Value>> {
    let Ok(mut value) = serde_json::to_value(event) else {
        return Ok(None);
    };
    if let Ok(ChainEntry::Event(record)) = ChainEntry::from_bytes(&event.record)
        && record.sealed().is_some()
    {
        let opened = keys::open_event(tx, &event.device_id, &record)?
            .and_then(|opened| serde_json::to_string(&opened.event).ok());
        match opened {
            Some(body) => {
                value["body"] = Value::String(body);
                value["sealed_payload"] = Value::from("opened");
            }
            None => {
                value["sealed_payload"] =
                    Value::from("unreadable: sealed with a data key this server does not hold");
            }
        }
    }
    Ok(Some(value))
}
