//! What can be known of each record before the write lock, on all cores:
//! none of it depends on chain state.

use punch_model::ledger::chain::{self, ChainProblem};
use punch_model::ledger::event::ChainEntry;
use punch_model::ledger::record::declared_format;
use punch_model::ledger::signing;
use punch_model::wire::UploadRecord;

/// What can be known of each record of a batch before the write lock (none
/// of it depends on chain state), worked out on all cores: its signature
/// under the device's punch key (ECDSA verification is most of the cost of
/// ingest), and its one parse and hash.
pub struct SignatureChecks {
    pub(super) public_key: Vec<u8>,
    pub(super) records: Vec<Prechecked>,
}

/// One record, checked before the lock.
#[derive(Clone)]
pub(super) struct Prechecked {
    pub(super) signature: std::result::Result<(), ChainProblem>,
    /// The format the record declares, if it declares one.
    pub(super) format: Option<u64>,
    /// The record parsed (or why it does not parse).
    pub(super) entry: std::result::Result<ChainEntry, String>,
    /// Hex SHA-256 of its bytes.
    pub(super) hash: String,
}

impl Prechecked {
    fn of(public_key: &[u8], device_id: &str, up: &UploadRecord) -> Prechecked {
        Prechecked {
            signature: chain::verify_signature(public_key, device_id, &up.record, &up.signature),
            format: declared_format(&up.record),
            entry: ChainEntry::from_bytes(&up.record).map_err(|e| e.to_string()),
            hash: hex::encode(signing::sha256(&up.record)),
        }
    }

    pub(super) fn punch_id(&self) -> Option<String> {
        match &self.entry {
            Ok(ChainEntry::Punch(record)) => Some(record.punch_id.to_string()),
            _ => None,
        }
    }
}

impl SignatureChecks {
    /// (verified, refused) signature counts.
    pub fn counts(&self) -> (u64, u64) {
        let ok = self.records.iter().filter(|r| r.signature.is_ok()).count() as u64;
        (ok, self.records.len() as u64 - ok)
    }
}

/// Checks every record of a batch with `public_key`, on all cores.
pub fn check_signatures(
    public_key: &[u8],
    device_id: &str,
    records: &[UploadRecord],
) -> SignatureChecks {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = records.len().div_ceil(threads).max(16);
    let check = |part: &[UploadRecord]| -> Vec<Prechecked> {
        part.iter()
            .map(|r| Prechecked::of(public_key, device_id, r))
            .collect()
    };
    let mut parts = records.chunks(chunk);
    // The first part on this thread: a batch of one spawns nothing.
    let first = parts.next().unwrap_or_default();
    let checked: Vec<Prechecked> = std::thread::scope(|scope| {
        let workers: Vec<_> = parts
            .map(|part| (part, scope.spawn(move || check(part))))
            .collect();
        let mut out = check(first);
        for (part, worker) in workers {
            // A worker only panics on a bug: check its part here instead.
            out.extend(worker.join().unwrap_or_else(|_| check(part)));
        }
        out
    });
    SignatureChecks {
        public_key: public_key.to_vec(),
        records: checked,
    }
}
