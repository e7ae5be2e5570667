//! What can be known of each record before the write lock, on all cores:
//! none of it depends on chain state.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use punch_model::ledger::chain::{self, ChainProblem};
use punch_model::ledger::event::ChainEntry;
use punch_model::ledger::key_rotation::{KeyRole, signing_role};
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
    /// Which of the device's keys must have signed it.
    pub(super) role: KeyRole,
    /// The record parsed (or why it does not parse).
    pub(super) entry: std::result::Result<ChainEntry, String>,
    /// Hex SHA-256 of its bytes.
    pub(super) hash: String,
}

impl Prechecked {
    fn of(public_key: &[u8], device_id: &str, up: &UploadRecord) -> Prechecked {
        let entry = ChainEntry::from_bytes(&up.record).map_err(|e| e.to_string());
        // A record that parsed declares its format in a field just read; only
        // one that did not is scanned again for it.
        let format = match &entry {
            Ok(ChainEntry::Punch(p)) => Some(u64::from(p.format)),
            Ok(ChainEntry::Event(e)) => Some(u64::from(e.format)),
            Err(_) => declared_format(&up.record),
        };
        Prechecked {
            signature: chain::verify_signature(public_key, device_id, &up.record, &up.signature),
            format,
            role: signing_role(&up.record),
            entry,
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

/// Batches being checked right now, across the process.
static CHECKING: AtomicUsize = AtomicUsize::new(0);

/// Counts a batch in [`CHECKING`] while it is checked.
struct Checking;

impl Checking {
    /// How many batches were being checked before this one.
    fn start() -> (Checking, usize) {
        (Checking, CHECKING.fetch_add(1, Ordering::Relaxed))
    }
}

impl Drop for Checking {
    fn drop(&mut self) {
        CHECKING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Checks every record of a batch with `public_key`, on the cores other
/// batches leave idle: under load each batch takes one, since a thread
/// started per batch only adds scheduling to cores already busy.
pub fn check_signatures(
    public_key: &[u8],
    device_id: &str,
    records: &[UploadRecord],
) -> SignatureChecks {
    let (_checking, others) = Checking::start();
    // Asked once: the answer reads the cgroup's files each time.
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let threads = cores.saturating_sub(others).max(1);
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
