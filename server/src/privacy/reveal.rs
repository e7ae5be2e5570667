//! An employee reveals the exact evidence behind a minimised record: the
//! server checks it against the signed commitment, re-judges the record on
//! it under the policy the record names, and keeps only the outcome (the
//! review flags), never the revealed evidence.

use punch_model::ledger::minimise::OpeningError;
use punch_model::ledger::record::PunchRecord;
use punch_model::ledger::review::{ReviewFlag, review_opening};
use punch_model::rules::policy::{Policy, PreparedPolicy};

use crate::error::{Result, ServerError};
use crate::privacy::keys;
use crate::store::{DeviceInfo, Revelation, StoreTx};

/// Why a revelation settles nothing.
#[derive(Debug, thiserror::Error)]
pub enum RevealRefusal {
    #[error("no record of this device at seq {0}")]
    NoRecord(u64),
    #[error(transparent)]
    Opening(#[from] OpeningError),
    #[error("record {0} is sealed with a data key this server was never given")]
    Sealed(u64),
}

/// Checks and re-judges; stores the outcome for a manager.
pub fn reveal(
    tx: &dyn StoreTx,
    device: &DeviceInfo,
    seq: u64,
    opening: &[u8],
    now_ms: i64,
) -> Result<std::result::Result<Vec<ReviewFlag>, RevealRefusal>> {
    let Some(bytes) = tx
        .chain()
        .punch_bytes(&device.device_id, seq)?
        .filter(|b| !b.is_empty())
    else {
        return Ok(Err(RevealRefusal::NoRecord(seq)));
    };
    let corrupt = |e: String| ServerError::Corrupt(format!("stored record {seq}: {e}"));
    let record = PunchRecord::from_bytes(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let row = tx
        .policies()
        .policy(record.policy_version)?
        .ok_or_else(|| corrupt("its policy version is gone".into()))?;
    let policy = Policy::from_json(&row.body)
        .and_then(PreparedPolicy::new)
        .map_err(|e| corrupt(e.to_string()))?;
    let Some(record) = keys::open_record(tx, &device.device_id, &record)? else {
        return Ok(Err(RevealRefusal::Sealed(seq)));
    };
    let flags = match review_opening(&policy, &record, opening) {
        Ok(flags) => flags,
        Err(e) => return Ok(Err(e.into())),
    };
    let review_flags =
        serde_json::to_string(&flags).map_err(|e| ServerError::Corrupt(e.to_string()))?;
    tx.privacy().record_revelation(&Revelation {
        device_id: device.device_id.clone(),
        seq,
        employee_id: record.employee_id.clone(),
        review_flags,
        revealed_at_ms: now_ms,
    })?;
    Ok(Ok(flags))
}
