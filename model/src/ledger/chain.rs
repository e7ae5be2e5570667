//! Chain verification: every record's signature, sequence and link to the
//! previous record's hash. Shared by the device (self-check) and the server.

use serde::{Deserialize, Serialize};

use crate::ledger::event::ChainEntry;
use crate::ledger::signing;

/// Why a record does not continue the chain.
// Exhaustive on purpose: the bindings map every variant without a
// wildcard, so a new one fails their build instead of reaching apps unmapped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "problem")]
pub enum ChainProblem {
    #[error("signature does not verify over the stored bytes")]
    BadSignature,
    #[error("bytes are not a punch record: {detail}")]
    Unparseable { detail: String },
    #[error("record belongs to device {found:?}")]
    WrongDevice { found: String },
    #[error("sequence gap: expected {expected}, found {found}")]
    Gap { expected: u64, found: u64 },
    #[error("stored sequence {stored} but the signed record says {inside}")]
    SeqMismatch { stored: u64, inside: u64 },
    #[error("previous-hash link broken: expected {expected}, record says {found}")]
    PrevHashMismatch { expected: String, found: String },
    #[error("stored hash does not match the record bytes")]
    HashMismatch,
    #[error("records after {found} are missing (the head was {recorded})")]
    MissingTail { recorded: u64, found: u64 },
    /// A value the store copied out of the signed bytes was edited.
    #[error("stored {column} is {stored:?} but the signed record says {signed:?}")]
    CopiedColumnMismatch {
        column: String,
        stored: String,
        signed: String,
    },
}

/// Values a store keeps beside the signed bytes (for indexes and lists).
/// Each must say what the signed record says: [`ChainWalk`](crate::ledger::chain_walk::ChainWalk)
/// reports any that does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopiedColumns<'a> {
    pub punch_id: &'a str,
    pub kind: &'a str,
    pub wall_time_ms: i64,
    pub decision: &'a str,
}

impl CopiedColumns<'_> {
    /// Every column that differs from `record`, as problems.
    pub fn mismatches(&self, record: &ChainEntry) -> Vec<ChainProblem> {
        let signed = [
            ("punch_id", record.id().to_string()),
            ("kind", record.kind_column()),
            ("wall_time_ms", record.wall_time_ms().to_string()),
            ("decision", record.decision_column()),
        ];
        let stored = [
            self.punch_id.to_string(),
            self.kind.to_string(),
            self.wall_time_ms.to_string(),
            self.decision.to_string(),
        ];
        signed
            .into_iter()
            .zip(stored)
            .filter(|((_, signed), stored)| signed != stored)
            .map(
                |((column, signed), stored)| ChainProblem::CopiedColumnMismatch {
                    column: column.to_string(),
                    stored,
                    signed,
                },
            )
            .collect()
    }
}

/// One place the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBreak {
    pub seq: u64,
    #[serde(flatten)]
    pub problem: ChainProblem,
}

/// An acknowledged break a link made use of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedBreak {
    pub id: i64,
    pub anchor_seq: u64,
    /// The first link of the new segment.
    pub start_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    pub records: u64,
    pub head_seq: u64,
    pub breaks: Vec<ChainBreak>,
    /// The employer's acknowledged breaks a record started a new segment at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_breaks: Vec<AppliedBreak>,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.breaks.is_empty()
    }
}

/// Checks that `bytes`/`signature` are the record `expected_seq` of
/// `device_id`, signed by `public_key`, following `expected_prev_hash` (hex).
pub fn verify_link(
    public_key: &[u8],
    device_id: &str,
    expected_seq: u64,
    expected_prev_hash: &str,
    bytes: &[u8],
    signature: &[u8],
) -> Result<ChainEntry, ChainProblem> {
    verify_signature(public_key, device_id, bytes, signature)?;
    verify_continuity(device_id, expected_seq, expected_prev_hash, bytes)
}

/// The signature half of [`verify_link`]: independent of chain state, so a
/// server may check a batch's signatures in parallel before taking its lock.
pub fn verify_signature(
    public_key: &[u8],
    device_id: &str,
    bytes: &[u8],
    signature: &[u8],
) -> Result<(), ChainProblem> {
    if signing::verify(public_key, bytes, signature).is_ok() {
        return Ok(());
    }
    // Not ours: say whose it claims to be if that explains the failure.
    Err(match ChainEntry::from_bytes(bytes) {
        Ok(r) if r.device_id() != device_id => ChainProblem::WrongDevice {
            found: r.device_id().to_string(),
        },
        _ => ChainProblem::BadSignature,
    })
}

/// The chain half of [`verify_link`], for bytes whose signature was checked.
pub fn verify_continuity(
    device_id: &str,
    expected_seq: u64,
    expected_prev_hash: &str,
    bytes: &[u8],
) -> Result<ChainEntry, ChainProblem> {
    let record = ChainEntry::from_bytes(bytes).map_err(|e| ChainProblem::Unparseable {
        detail: e.to_string(),
    })?;
    check_continuity(&record, device_id, expected_seq, expected_prev_hash)?;
    Ok(record)
}

/// [`verify_continuity`] of a record already parsed (a server parses a
/// batch's records once, on all cores, before taking its lock).
pub fn check_continuity(
    record: &ChainEntry,
    device_id: &str,
    expected_seq: u64,
    expected_prev_hash: &str,
) -> Result<(), ChainProblem> {
    if record.device_id() != device_id {
        return Err(ChainProblem::WrongDevice {
            found: record.device_id().to_string(),
        });
    }
    if record.seq() != expected_seq {
        return Err(ChainProblem::Gap {
            expected: expected_seq,
            found: record.seq(),
        });
    }
    if record.prev_hash() != expected_prev_hash {
        return Err(ChainProblem::PrevHashMismatch {
            expected: expected_prev_hash.to_string(),
            found: record.prev_hash().to_string(),
        });
    }
    Ok(())
}
