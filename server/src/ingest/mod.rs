//! Upload ingest: every record is verified against the device's key and the
//! server's chain head, then stored exactly once with the server's judgement
//! of its time. Refused records are kept as evidence, never dropped.
//!
//! Read top-down: [`ingest_checked`] opens a batch and takes its records
//! in seq order; `judge` decides each one step by step (re-sends in
//! `resent`, time in `time`, punches in `punch`, events in `event`), and
//! `record` applies each verdict and writes the batch once.

use std::collections::HashMap;

use punch_model::ledger::chain_walk::ChainCursor;
use punch_model::ledger::event::ChainEntry;
use punch_model::rules::assurance::AssuranceLevel;
use punch_model::rules::field_work::FieldSite;
use punch_model::rules::shift::OpenShift;
use punch_model::wire::{RecordResult, UploadRecord};

use crate::error::{Result, ServerError};
use crate::policy_cache::PolicyCache;
use crate::store::{DeviceInfo, StoreTx, StoredEvent, StoredPunchInfo};
use crate::time_token::TimeTokens;

mod event;
mod judge;
mod precheck;
mod punch;
mod record;
mod resent;
mod time;

pub use precheck::{SignatureChecks, check_signatures};

/// What one upload did.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestOutcome {
    /// In seq order (the order records were processed); records held
    /// behind a pending key rotation are not answered.
    pub results: Vec<RecordResult>,
    /// The seq of a key rotation waiting for HR: later records wait too.
    pub key_rotation_pending: Option<u64>,
    pub head_seq: u64,
    /// Hex SHA-256 of the head record (the genesis hash before the first).
    pub head_hash: String,
}

/// One upload being judged: the device's state as the batch moves it.
struct Batch<'a> {
    tx: &'a dyn StoreTx,
    tokens: &'a TimeTokens,
    /// Published policies, prepared once per process.
    policies: &'a PolicyCache,
    /// The signatures checked before the lock were checked with the punch
    /// key in force.
    signatures_count: bool,
    device_id: &'a str,
    employee_id: &'a str,
    device: &'a DeviceInfo,
    /// The punch key in force (a rotation in this batch replaces it).
    punch_key: Vec<u8>,
    /// Signs key rotations.
    channel_key: &'a [u8],
    /// What a rotation taken in this batch proved (written with the head).
    punch_key_assurance: Option<AssuranceLevel>,
    /// A rotation in this batch put a new punch key in force: signatures
    /// checked before the lock (with the old one) no longer count.
    rotated_here: bool,
    /// A rotation waiting for HR (from before or in this batch): its seq.
    rotation_pending: Option<u64>,
    /// What the device's enrollment proved (stamped on each punch).
    assurance: AssuranceLevel,
    /// The shift occurrence each employee is clocked in to on this device
    /// as the device itself could read it, from its own punches (read when
    /// their first punch of the batch comes, kept current as the batch
    /// accepts): what the device's own verdict is held to. A kiosk's
    /// punches name many. The server's reading is across devices
    /// (`punch::employee_open_shift`).
    open_shifts: HashMap<String, Option<OpenShift>>,
    /// Each employee's clock-ins and -outs stored on every device, from
    /// their first punch this batch judges on (read once per employee).
    clock_punches: HashMap<String, punch::StoredClock>,
    /// The chain's head as this batch moves it, and the acknowledged break
    /// it may start a new segment at.
    cursor: ChainCursor,
    /// The acknowledged break a record of this batch started.
    applied_break: Option<i64>,
    now_ms: i64,
    /// The batch itself.
    records: &'a [UploadRecord],
    /// Bytes stored at the seqs this batch re-sends (one query up front).
    stored: HashMap<u64, Vec<u8>>,
    /// Heads the device stated at this batch's new seqs (one query up front;
    /// statements are only written by authentication, never during ingest).
    stated: HashMap<u64, String>,
    /// Seqs accepted earlier in this batch: index into `records`.
    accepted_here: HashMap<u64, usize>,
    /// Where the batch's punch ids are already stored (one query up front,
    /// kept current as this batch accepts).
    locations: HashMap<String, (String, u64)>,
    /// Events accepted earlier in this batch (a request's limits count them).
    events_here: Vec<StoredEvent>,
    /// The employee's approved field sites, read when a punch names one.
    field_sites: Option<Vec<FieldSite>>,
    /// Punches accepted so far (written together at the end): index into
    /// `records`.
    accepted: Vec<(Box<StoredPunchInfo>, usize)>,
}

/// Processes one batch from an authenticated device, in seq order, inside
/// the caller's write transaction (all of it or none of it is stored).
/// `checks` come from [`check_signatures`] before the lock; their
/// signatures count only if they were checked with the device's punch key
/// in force now.
pub fn ingest_checked(
    tx: &dyn StoreTx,
    device_id: &str,
    records: &[UploadRecord],
    checks: &SignatureChecks,
    tokens: &TimeTokens,
    policies: &PolicyCache,
    now_ms: i64,
) -> Result<IngestOutcome> {
    // Re-read and lock inside the transaction: the head may have moved since
    // auth, and another server may be taking this device's batch right now
    // (it waits here until we commit, then sees our head).
    let device = tx
        .devices()
        .lock_device(device_id)?
        .ok_or_else(|| ServerError::UnknownDevice(device_id.to_string()))?;
    // An admin may have unbound it since the request was authenticated.
    if !device.is_bound() {
        return Err(ServerError::DeviceUnbound(device_id.to_string()));
    }
    let rechecked;
    let checks = if checks.records.len() == records.len() {
        checks
    } else {
        rechecked = check_signatures(device.current_punch_key(), device_id, records);
        &rechecked
    };
    // Attendance is read across each employee's devices: another device's
    // batch for the same people waits, and taking the locks in one order
    // keeps two kiosks from waiting on each other.
    let mut employees: Vec<&str> = checks
        .records
        .iter()
        .filter_map(|pre| match &pre.entry {
            Ok(ChainEntry::Punch(record)) => Some(record.employee_id.as_str()),
            _ => None,
        })
        .collect();
    employees.sort_unstable();
    employees.dedup();
    for employee_id in employees {
        tx.employee_devices().lock_employee(employee_id)?;
    }
    let mut batch = Batch::open(tx, &device, records, checks, tokens, policies, now_ms)?;
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by_key(|&i| records[i].seq);
    let mut results = Vec::with_capacity(order.len());
    for i in order {
        let Some(pre) = checks.records.get(i) else {
            break;
        };
        let verdict = batch.judge(&records[i], pre)?;
        match batch.record(i, pre, verdict)? {
            Some(result) => results.push(result),
            None => break,
        }
    }
    batch.write(results)
}

impl<'a> Batch<'a> {
    /// The batch at the locked `device`'s state, with what the judgement
    /// would otherwise ask record by record read up front.
    fn open(
        tx: &'a dyn StoreTx,
        device: &'a DeviceInfo,
        records: &'a [UploadRecord],
        checks: &SignatureChecks,
        tokens: &'a TimeTokens,
        policies: &'a PolicyCache,
        now_ms: i64,
    ) -> Result<Self> {
        // In three queries: bytes at re-sent seqs, heads the device stated
        // at new seqs, and where new punch ids already live.
        let resent: Vec<u64> = records
            .iter()
            .map(|r| r.seq)
            .filter(|&s| s >= 1 && s <= device.head_seq)
            .collect();
        let new_seqs: Vec<u64> = records
            .iter()
            .map(|r| r.seq)
            .filter(|&s| s > device.head_seq)
            .collect();
        let new_ids: Vec<String> = records
            .iter()
            .zip(&checks.records)
            .filter(|(r, _)| r.seq > device.head_seq)
            .filter_map(|(_, pre)| pre.punch_id())
            .collect();
        Ok(Batch {
            tx,
            tokens,
            policies,
            signatures_count: checks.public_key == device.current_punch_key(),
            device_id: &device.device_id,
            employee_id: &device.employee_id,
            device,
            punch_key: device.current_punch_key().to_vec(),
            punch_key_assurance: None,
            channel_key: device.channel_key(),
            rotated_here: false,
            rotation_pending: tx.ingest_batch().pending_rotation_seq(&device.device_id)?,
            // An unknown label (a newer server wrote it) counts as the weakest.
            assurance: AssuranceLevel::parse(&device.assurance).unwrap_or_default(),
            open_shifts: HashMap::new(),
            clock_punches: HashMap::new(),
            // HR acknowledged this device's broken chain: one jump is allowed.
            cursor: ChainCursor::at(
                device.head_seq,
                &device.head_hash,
                crate::chain_reset::pending(tx, device)?
                    .map(|ack| crate::chain_reset::acknowledged_break(&ack))
                    .into_iter()
                    .collect(),
            ),
            applied_break: None,
            now_ms,
            records,
            stored: tx.chain().punch_bytes_many(&device.device_id, &resent)?,
            accepted_here: HashMap::new(),
            locations: tx.punches().punch_locations(&new_ids)?,
            stated: tx
                .head_statements()
                .head_statements_many(&device.device_id, &new_seqs)?,
            events_here: Vec::new(),
            field_sites: None,
            accepted: Vec::new(),
        })
    }
}
