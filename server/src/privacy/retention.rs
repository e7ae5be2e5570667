//! Server retention, per kind of data, set by the employer: a purge job
//! (`punch-server admin purge`, run it from cron or a systemd timer) that
//! removes what is older than each kind's limit and keeps every hash, so
//! each device's chain still verifies ([`verify_chain`]), and reports what
//! it removed.

use serde::{Deserialize, Serialize};

use punch_model::ledger::chain::ChainReport;
use punch_model::ledger::chain_walk::{self, ChainWalk, Link, LinkBody};
use punch_model::wire::RejectReason;

use crate::chain_reset;
use crate::error::{Result, ServerError};
use crate::store::{PurgeKind, StoreTx};

const DAY_MS: i64 = 86_400_000;

/// Days each kind is kept (None: for ever).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Accepted records' signed bytes: the fix, Wi-Fi and addresses (the
    /// punch's time, kind, verdict and site stay in its row).
    pub exact_location_days: Option<u32>,
    /// Refused records' bytes (the evidence table's raw records).
    pub raw_evidence_days: Option<u32>,
    /// Punch rows (what payroll needs: set this to the legal minimum).
    pub punch_days: Option<u32>,
    /// Heads devices stated and outcomes of revealed evidence.
    pub audit_days: Option<u32>,
    /// Photos taken at punches (their hash stays in the signed record);
    /// None: as long as `exact_location_days` (a face is as personal as a fix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo_days: Option<u32>,
}

/// What one purge removed, by kind (rows), and the cut-off times used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    pub now_ms: i64,
    pub record_bytes: u64,
    pub rejected_bytes: u64,
    pub punches: u64,
    pub head_statements: u64,
    pub revelations: u64,
    /// Punch photos' bytes removed.
    pub photos: u64,
}

/// The meta key the employer's retention is stored under.
pub const RETENTION_META: &str = "privacy_retention";

pub fn load(tx: &dyn StoreTx) -> Result<Retention> {
    match tx.meta().get(RETENTION_META)? {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| ServerError::Corrupt(format!("stored retention: {e}"))),
        None => Ok(Retention::default()),
    }
}

pub fn save(tx: &dyn StoreTx, retention: &Retention) -> Result<()> {
    let bytes = serde_json::to_vec(retention).map_err(|e| ServerError::Invalid(e.to_string()))?;
    tx.meta().set(RETENTION_META, &bytes)
}

/// Purges everything `retention` no longer allows at `now_ms`.
pub fn purge(tx: &dyn StoreTx, retention: &Retention, now_ms: i64) -> Result<RetentionReport> {
    let before = |days: u32| now_ms.saturating_sub(i64::from(days).saturating_mul(DAY_MS));
    let run = |days: Option<u32>, kind: PurgeKind| -> Result<u64> {
        days.map_or(Ok(0), |d| tx.privacy().purge(kind, before(d)))
    };
    Ok(RetentionReport {
        now_ms,
        record_bytes: run(retention.exact_location_days, PurgeKind::RecordBytes)?,
        rejected_bytes: run(retention.raw_evidence_days, PurgeKind::RejectedBytes)?,
        punches: run(retention.punch_days, PurgeKind::Punches)?,
        head_statements: run(retention.audit_days, PurgeKind::HeadStatements)?,
        revelations: run(retention.audit_days, PurgeKind::Revelations)?,
        photos: retention
            .photo_days
            .or(retention.exact_location_days)
            .map_or(Ok(0), |d| tx.photos().purge_photos(before(d)))?,
    })
}

/// Re-checks a device's stored chain: signatures and links where the bytes
/// are kept, the kept hash where retention purged them, refusals the head
/// moved past and the employer's acknowledged breaks, in sequence order.
pub fn verify_chain(tx: &dyn StoreTx, device_id: &str) -> Result<ChainReport> {
    let device = tx
        .devices()
        .device(device_id)?
        .ok_or_else(|| ServerError::UnknownDevice(device_id.to_string()))?;
    let corrupt = |e: hex::FromHexError| ServerError::Corrupt(e.to_string());
    let rows = tx.chain().chain_rows(device_id)?;
    let hashes = rows
        .iter()
        .map(|row| hex::decode(&row.hash).map_err(corrupt))
        .collect::<Result<Vec<_>>>()?;
    // Every refusal is a few columns (no bytes); those made after the link
    // verified are links the head moved past.
    let refused = tx
        .refusals()
        .refused_of(device_id, usize::try_from(i64::MAX).unwrap_or(usize::MAX))?
        .into_iter()
        .filter(|r| RejectReason::from_name(&r.reason).is_some_and(RejectReason::is_link))
        .map(|r| Ok((r.seq, hex::decode(&r.hash).map_err(corrupt)?)))
        .collect::<Result<Vec<_>>>()?;
    let breaks = tx
        .people()
        .chain_acks(device_id)?
        .iter()
        .map(chain_reset::acknowledged_break)
        .collect();
    let stored = rows.iter().zip(&hashes).map(|(row, hash)| Link {
        seq: row.seq,
        body: if row.record.is_empty() {
            LinkBody::Purged { hash }
        } else {
            LinkBody::Stored {
                bytes: &row.record,
                signature: &row.signature,
                hash,
                copied: None,
            }
        },
    });
    let refused = refused.iter().map(|(seq, hash)| Link {
        seq: *seq,
        body: LinkBody::Refused { hash },
    });
    let walk = ChainWalk::new(&device.public_key, device_id)
        .with_channel_key(device.channel_key())
        .with_breaks(breaks);
    let report = chain_walk::walk(walk, stored.chain(refused), Some(device.head_seq));
    // A passkey's records are signed by WebAuthn assertions (`browser`).
    Ok(if device.platform == crate::browser::PLATFORM {
        crate::browser::settle_signatures(report, &rows)
    } else {
        report
    })
}
