//! Chain verification: every record's signature, sequence and link to the
//! previous record's hash. Shared by the device (self-check) and the server.

use serde::{Deserialize, Serialize};

use crate::ledger::event::{ChainEntry, ChainEvent};
use crate::ledger::key_rotation::{KeyRole, signing_role};
use crate::ledger::record::GENESIS_HASH;
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
/// Each must say what the signed record says: [`ChainWalker::next`]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    pub records: u64,
    pub head_seq: u64,
    pub breaks: Vec<ChainBreak>,
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

/// Walks stored records in order, collecting every break.
pub struct ChainWalker<'a> {
    /// The punch key in force: the enrolled one, then each rotation's.
    punch_key: Vec<u8>,
    /// Signs rotations; None on a device enrolled with one key (it is both).
    channel_key: Option<&'a [u8]>,
    enrolled_key: &'a [u8],
    device_id: &'a str,
    expected_seq: u64,
    prev_hash: String,
    report: ChainReport,
    /// Acknowledged chain breaks: (start seq, anchored seq, anchored hash hex).
    segments: Vec<(u64, u64, String)>,
    /// Hashes seen at the anchored seqs.
    anchors_seen: Vec<(u64, String)>,
}

impl<'a> ChainWalker<'a> {
    /// Records the employer acknowledged breaks at: the record at each
    /// `start_seq` links to `anchored_hash`, which must be the hash of the
    /// record at `anchored_seq` (or the genesis hash at 0) — a new segment
    /// after refused records, not a break.
    pub fn with_segments(mut self, segments: Vec<(u64, u64, String)>) -> Self {
        self.segments = segments;
        self
    }

    /// The device's channel key: key rotations must verify with it. Without
    /// one, the enrolled punch key is taken as the channel key too (a device
    /// enrolled before the two keys).
    pub fn with_channel_key(mut self, channel_key: &'a [u8]) -> Self {
        self.channel_key = Some(channel_key);
        self
    }

    /// `punch_key` is the punch key the device enrolled with.
    pub fn new(punch_key: &'a [u8], device_id: &'a str) -> Self {
        ChainWalker {
            punch_key: punch_key.to_vec(),
            channel_key: None,
            enrolled_key: punch_key,
            device_id,
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            report: ChainReport {
                records: 0,
                head_seq: 0,
                breaks: Vec::new(),
            },
            segments: Vec::new(),
            anchors_seen: Vec::new(),
        }
    }

    /// Feeds the next stored row (its seq column, bytes, signature, stored
    /// hash, and the other values the store copied out of the bytes).
    pub fn next(
        &mut self,
        stored_seq: u64,
        bytes: &[u8],
        signature: &[u8],
        stored_hash: &[u8],
        copied: Option<&CopiedColumns<'_>>,
    ) {
        let mut add = |problem| {
            self.report.breaks.push(ChainBreak {
                seq: stored_seq,
                problem,
            })
        };
        if stored_seq != self.expected_seq {
            add(ChainProblem::Gap {
                expected: self.expected_seq,
                found: stored_seq,
            });
        }
        let hash = signing::sha256(bytes);
        if hash[..] != *stored_hash {
            add(ChainProblem::HashMismatch);
        }
        if let Some((_, anchored_seq, anchored_hash)) = self
            .segments
            .iter()
            .find(|(start, _, _)| *start == stored_seq)
        {
            let seen = if *anchored_seq == 0 {
                Some(GENESIS_HASH)
            } else {
                self.anchors_seen
                    .iter()
                    .find(|(seq, _)| seq == anchored_seq)
                    .map(|(_, h)| h.as_str())
            };
            if seen == Some(anchored_hash.as_str()) {
                self.prev_hash = anchored_hash.clone();
            }
        }
        let key: &[u8] = match signing_role(bytes) {
            KeyRole::Punch => &self.punch_key,
            KeyRole::Channel => self.channel_key.unwrap_or(self.enrolled_key),
        };
        match verify_link(
            key,
            self.device_id,
            stored_seq,
            &self.prev_hash,
            bytes,
            signature,
        ) {
            Ok(record) => {
                for problem in copied.map(|c| c.mismatches(&record)).unwrap_or_default() {
                    add(problem);
                }
                if let ChainEntry::Event(event) = &record
                    && let ChainEvent::KeyRotation(rotation) = &event.event
                {
                    self.punch_key = rotation.punch_key.clone();
                }
            }
            // A gap in the stored column was already reported above.
            Err(ChainProblem::Gap { found, .. }) => add(ChainProblem::SeqMismatch {
                stored: stored_seq,
                inside: found,
            }),
            Err(p) => add(p),
        }
        self.report.records += 1;
        self.report.head_seq = stored_seq;
        self.expected_seq = stored_seq.saturating_add(1);
        self.prev_hash = hex::encode(hash);
        if self.segments.iter().any(|(_, a, _)| *a == stored_seq) {
            self.anchors_seen.push((stored_seq, self.prev_hash.clone()));
        }
    }

    /// Feeds a record purged by retention: only its hash is kept, which the
    /// next record's signed link must name. Its own bytes are gone (the
    /// server acknowledged them), so only the sequence is checked here.
    pub fn purged(&mut self, stored_seq: u64, stored_hash: &[u8]) {
        if stored_seq != self.expected_seq {
            self.report.breaks.push(ChainBreak {
                seq: stored_seq,
                problem: ChainProblem::Gap {
                    expected: self.expected_seq,
                    found: stored_seq,
                },
            });
        }
        self.report.head_seq = stored_seq;
        self.expected_seq = stored_seq.saturating_add(1);
        self.prev_hash = hex::encode(stored_hash);
    }

    /// Ends the walk; `recorded_head` is the head seq kept beside the chain.
    pub fn finish(mut self, recorded_head: Option<u64>) -> ChainReport {
        if let Some(recorded) = recorded_head
            && recorded > self.report.head_seq
        {
            self.report.breaks.push(ChainBreak {
                seq: self.report.head_seq.saturating_add(1),
                problem: ChainProblem::MissingTail {
                    recorded,
                    found: self.report.head_seq,
                },
            });
        }
        self.report
    }
}
