//! The audit trail: every action a person takes (approve, reject, reset,
//! rebind, export, policy publish, chain-break acknowledgement, sign-in) is
//! one append-only record of who, when, what and why, hash-chained like the
//! devices' punches so an edit by someone with database access shows.
//!
//! Each row's hash is SHA-256 over a JSON array of its fields (the detail
//! as the stored text) and the previous row's hash; [`verify`] recomputes
//! the chain. The chain is unkeyed, so someone with write access to the
//! database can edit a row and recompute every hash after it: the chain is
//! anchored outside the database instead. Every append logs the new head
//! (`audit head` lines with `audit_seq` and `audit_hash`: ship the log
//! elsewhere), `admin audit-verify` prints it, and [`verify_anchored`]
//! (`admin audit-verify --anchor SEQ:HASH`) checks that the row at an
//! anchor recorded earlier still has that hash — which a rewrite, and a
//! truncation below the anchor, cannot keep.

use punch_model::ledger::record::GENESIS_HASH;
use serde::Serialize;

use crate::error::{Result, ServerError};
use crate::store::StoreTx;
use crate::store::people::AuditRow;

/// What happened, as the caller describes it; the chain adds seq and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub actor: String,
    pub role: String,
    /// A stable verb: "punch.approve", "export.attendance", …
    pub action: String,
    /// What it was done to: "punch:DEVICE/SEQ", "employee:ID", …
    pub target: String,
    /// The person's stated reason or comment (may be empty).
    pub reason: String,
    /// Anything else worth keeping, as JSON.
    pub detail: serde_json::Value,
}

/// The hash a row must carry.
pub fn row_hash(row: &AuditRow) -> String {
    let fields = serde_json::json!([
        row.seq,
        row.at_ms,
        row.actor,
        row.role,
        row.action,
        row.target,
        row.reason,
        row.detail,
        row.prev_hash,
    ]);
    // A Value array of strings and integers serialises one way only.
    let bytes = serde_json::to_vec(&fields).unwrap_or_default();
    hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes))
}

/// Appends `entry` inside the caller's transaction (so the action and its
/// record commit together, or neither does).
pub fn append(tx: &dyn StoreTx, entry: &AuditEntry, now_ms: i64) -> Result<AuditRow> {
    let people = tx.people();
    let (seq, prev_hash) = match people.lock_audit_head()? {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let detail = serde_json::to_string(&entry.detail)
        .map_err(|e| ServerError::Invalid(format!("audit detail: {e}")))?;
    let mut row = AuditRow {
        seq,
        at_ms: now_ms,
        actor: entry.actor.clone(),
        role: entry.role.clone(),
        action: entry.action.clone(),
        target: entry.target.clone(),
        reason: entry.reason.clone(),
        detail,
        prev_hash,
        hash: String::new(),
    };
    row.hash = row_hash(&row);
    people.append_audit(&row)?;
    // The anchor outside the database (see the module docs).
    tracing::info!(audit_seq = row.seq, audit_hash = %row.hash, "audit head");
    Ok(row)
}

/// Where the chain stops being what was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditBreak {
    pub seq: u64,
    /// "hash" (the row was edited), "link" (its prev_hash is not the
    /// previous row's hash: a row was removed or inserted), "gap" (a seq is
    /// missing), "anchor" (the chain verifies, but not to a head recorded
    /// outside the database: rewritten or truncated).
    pub problem: String,
}

/// The outcome of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    pub rows: u64,
    pub head_seq: u64,
    pub head_hash: String,
    /// The first break, if any.
    pub broken: Option<AuditBreak>,
}

/// Rows read per query while verifying.
const PAGE: u32 = 1000;

/// Recomputes every hash and link from the first row.
pub fn verify(tx: &dyn StoreTx) -> Result<AuditVerification> {
    let mut expected_prev = GENESIS_HASH.to_string();
    let mut expected_seq = 1u64;
    let mut after = 0u64;
    loop {
        let rows = tx.people().audit_rows(after, PAGE)?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in &rows {
            let problem = if row.seq != expected_seq {
                Some("gap")
            } else if row.prev_hash != expected_prev {
                Some("link")
            } else if row_hash(row) != row.hash {
                Some("hash")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Ok(AuditVerification {
                    rows: expected_seq - 1,
                    head_seq: expected_seq - 1,
                    head_hash: expected_prev,
                    broken: Some(AuditBreak {
                        seq: row.seq,
                        problem: problem.into(),
                    }),
                });
            }
            expected_prev = row.hash.clone();
            expected_seq += 1;
        }
    }
    Ok(AuditVerification {
        rows: expected_seq - 1,
        head_seq: expected_seq - 1,
        head_hash: expected_prev,
        broken: None,
    })
}

/// [`verify`], and the row at `anchor` (seq, hash), recorded outside the
/// database earlier, must still carry that hash: a break `anchor` if it
/// does not or is gone.
pub fn verify_anchored(tx: &dyn StoreTx, anchor: (u64, &str)) -> Result<AuditVerification> {
    let mut v = verify(tx)?;
    if v.broken.is_some() {
        return Ok(v);
    }
    let (seq, hash) = anchor;
    let at = tx
        .people()
        .audit_rows(seq.saturating_sub(1), 1)?
        .into_iter()
        .next()
        .filter(|r| r.seq == seq);
    if at.is_none_or(|r| !r.hash.eq_ignore_ascii_case(hash.trim())) {
        v.broken = Some(AuditBreak {
            seq,
            problem: "anchor".into(),
        });
    }
    Ok(v)
}
