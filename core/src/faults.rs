//! Fault reports (`punch_model::ledger::fault`): the faults the engine sees
//! itself, and the ones the employee describes, as signed chain events
//! uploaded like punches.
//!
//! The engine learns of a fault where it already looks: the evidence of a
//! punch (no fix, the placeholder BSSID of a missing permission, no Wi-Fi
//! under a policy with Wi-Fi sites), the clock against the anchor at the
//! punch, the sync outcome (failing for longer than the policy allows),
//! and the errors of a punch, a sync or an enrollment (storage full, the
//! key invalidated, attestation refused). Each kind is recorded once per
//! episode: it opens when first seen and closes when the condition is seen
//! gone, so a phone without location all week makes one event, not one per
//! punch.
//!
//! Recording never fails the operation that saw the fault: every error here
//! is swallowed, and a fault that cannot be recorded yet (no employee, no
//! policy, the disk full) waits in the saved state, or in memory when even
//! that cannot be written, for the next chance. Fault events are signed by
//! the channel key (`key_rotation::signing_role`): it never needs the user
//! (a background sync records them) and it still signs after the platform
//! invalidated the punch key.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use punch_model::ledger::event::{ChainEntry, ChainEvent, kind_column_of, types};
use punch_model::ledger::fault::{FaultKind, FaultReport, FaultSource};
use punch_model::ledger::key_rotation::KeyRole;
use punch_model::ledger::signing::SignerError;
use punch_model::ledger::trusted_time::{RecordClock, TimeVerdict, judge_clock};
use punch_model::rules::evidence::{EvidenceFlag, ValidEvidence};
use punch_model::rules::makeup::{Attachment, FaultCitation};
use punch_model::rules::policy::PreparedPolicy;
use punch_model::wire::ErrorCode;

use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::installed_policy::InstalledPolicy;
use crate::recorder::{self, EventReceipt};
use crate::sync::{SyncError, SyncReport};

/// A fault event this device recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultEvent {
    /// The event's id.
    pub event_id: String,
    /// The device that holds it: with `seq`, what a make-up request cites.
    pub device_id: String,
    /// Its record's position in the chain.
    pub seq: u64,
    /// When it was recorded (the record's wall time).
    pub wall_time_ms: i64,
    /// What was seen or described.
    pub report: FaultReport,
}

impl FaultEvent {
    /// How a make-up request names this fault.
    pub fn citation(&self) -> FaultCitation {
        FaultCitation {
            device_id: self.device_id.clone(),
            seq: self.seq,
        }
    }
}

/// A fault seen, waiting to be recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Seen {
    kind: FaultKind,
    text: String,
}

/// What the engine remembers between calls (`store::faults`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct FaultState {
    /// Kinds whose episode is open: recorded already, until seen gone.
    #[serde(default)]
    open: Vec<FaultKind>,
    /// When uploads started failing (wall ms), while they fail.
    #[serde(default)]
    upload_failing_since_ms: Option<i64>,
    /// Seen but not recorded yet (no employee or policy yet, or a failure).
    #[serde(default)]
    pending: Vec<Seen>,
}

impl FaultState {
    fn seen(&mut self, kind: FaultKind, text: String) {
        if !self.open.contains(&kind) {
            self.open.push(kind);
            self.pending.push(Seen { kind, text });
        }
    }

    fn gone(&mut self, kind: FaultKind) {
        self.open.retain(|k| *k != kind);
    }
}

/// What one call saw: kinds present (with what was seen) and kinds gone.
#[derive(Debug, Default)]
struct Observation {
    present: Vec<(FaultKind, String)>,
    gone: Vec<FaultKind>,
}

impl Observation {
    fn either(&mut self, kind: FaultKind, present: Option<String>) {
        match present {
            Some(text) => self.present.push((kind, text)),
            None => self.gone.push(kind),
        }
    }
}

/// The fault log of one engine: the sync service and the engine share it.
pub(crate) struct FaultLog {
    device: Arc<DeviceContext>,
    policy: Arc<InstalledPolicy>,
    /// One observation at a time (read, change, record, save).
    turn: Mutex<()>,
    /// Faults seen while the saved state could not be written (the disk full).
    unsaved: Mutex<Vec<Seen>>,
}

impl FaultLog {
    pub(crate) fn new(device: Arc<DeviceContext>, policy: Arc<InstalledPolicy>) -> FaultLog {
        FaultLog {
            device,
            policy,
            turn: Mutex::new(()),
            unsaved: Mutex::new(Vec::new()),
        }
    }

    /// After a punch (stored, refused or failed): what its evidence, the
    /// clock and its outcome say. Returns whether a fault was recorded.
    pub(crate) fn after_punch<T>(
        &self,
        policy: &PreparedPolicy,
        valid: &ValidEvidence,
        outcome: &Result<T>,
    ) -> bool {
        let mut seen = Observation::default();
        evidence_faults(policy, valid, &mut seen);
        if let Some(moved) = self.clock_moved(policy) {
            seen.either(FaultKind::ClockMoved, moved);
        }
        match outcome {
            // Stored or refused: the store and the key both work.
            Ok(_) | Err(PunchError::Refused(_)) => {
                seen.gone.push(FaultKind::StorageFull);
                seen.gone.push(FaultKind::KeyInvalidated);
            }
            Err(e) => error_faults(e, &mut seen),
        }
        self.observe(seen)
    }

    /// After a sync: uploads failing for longer than the policy allows, or
    /// working again; a local error (the disk full). Returns whether a
    /// fault was recorded.
    pub(crate) fn after_sync(&self, outcome: &Result<SyncReport>) -> bool {
        let mut seen = Observation::default();
        let report = match outcome {
            Ok(report) => report,
            Err(e) => {
                error_faults(e, &mut seen);
                return self.observe(seen);
            }
        };
        if report.deferred {
            // Nothing was tried: nothing learned.
            return self.flush_only();
        }
        let now = self.device.now().wall_time_ms;
        let limit_ms = self
            .policy
            .current(&self.device.db)
            .map(|p| p.policy.settings.faults().upload_failing_after_ms())
            .unwrap_or_else(|_| {
                punch_model::ledger::fault::FaultSettings::default().upload_failing_after_ms()
            });
        self.observe_with(seen, |state, seen| match &report.error {
            None => {
                state.upload_failing_since_ms = None;
                seen.gone.push(FaultKind::UploadFailing);
            }
            Some(error) => {
                let since = *state.upload_failing_since_ms.get_or_insert(now);
                if now.saturating_sub(since) >= limit_ms {
                    seen.present.push((
                        FaultKind::UploadFailing,
                        format!(
                            "failing for {} min: {error}",
                            now.saturating_sub(since) / 60_000
                        ),
                    ));
                }
            }
        })
    }

    /// After an enrollment that failed: the server refusing the platform's
    /// attestation is recorded once the device is enrolled and has a policy.
    pub(crate) fn after_enroll<T>(&self, outcome: &Result<T>) -> bool {
        let mut seen = Observation::default();
        match outcome {
            Err(e) => error_faults(e, &mut seen),
            Ok(_) => seen.gone.push(FaultKind::AttestationRefused),
        }
        self.observe(seen)
    }

    /// Records what is waiting (after a policy arrived, an enrollment...).
    pub(crate) fn flush_only(&self) -> bool {
        self.observe(Observation::default())
    }

    fn observe(&self, seen: Observation) -> bool {
        self.observe_with(seen, |_, _| {})
    }

    /// Applies `seen` (and what `more` adds from the saved state) to the
    /// episodes, records what opened, saves. Never fails: see the module.
    fn observe_with(
        &self,
        mut seen: Observation,
        more: impl FnOnce(&mut FaultState, &mut Observation),
    ) -> bool {
        let _turn = self.turn.lock().unwrap_or_else(|e| e.into_inner());
        let mut state: FaultState = self.device.db.fault_state().unwrap_or_default();
        more(&mut state, &mut seen);
        let mut unsaved = self.unsaved.lock().unwrap_or_else(|e| e.into_inner());
        for s in unsaved.drain(..) {
            state.seen(s.kind, s.text);
        }
        for kind in seen.gone {
            state.gone(kind);
        }
        let recording = self.recording();
        if recording != Some(false) {
            for (kind, text) in seen.present {
                state.seen(kind, text);
            }
        }
        let recorded = match recording {
            Some(true) => self.flush(&mut state),
            // Turned off: what waited is dropped, as if never seen.
            Some(false) => {
                state.pending.clear();
                state.open.clear();
                false
            }
            // No policy yet to say: kept until one does.
            None => false,
        };
        if self.device.db.save_fault_state(&state).is_err() {
            // Kept for the next call; the episodes restart from the saved state.
            unsaved.extend(state.pending);
        }
        recorded
    }

    /// Whether the installed policy asks phones to record the faults they
    /// see (`settings.faults`); None before any policy is installed.
    fn recording(&self) -> Option<bool> {
        match self.policy.current(&self.device.db) {
            Ok(p) => Some(p.policy.settings.faults.as_ref().is_some_and(|f| f.record)),
            // None installed, or unreadable: keep what was seen for later.
            Err(_) => None,
        }
    }

    /// Records the pending faults in order; stops at the first that fails.
    fn flush(&self, state: &mut FaultState) -> bool {
        let Some(version) = self.policy.version() else {
            return false;
        };
        if !matches!(self.device.employee_id(), Ok(Some(_))) {
            return false;
        }
        let mut recorded = false;
        while let Some(next) = state.pending.first() {
            let report = FaultReport {
                kind: next.kind,
                source: FaultSource::Engine,
                text: next.text.clone(),
                attachments: Vec::new(),
            };
            if record(&self.device, version, report).is_err() {
                break;
            }
            state.pending.remove(0);
            recorded = true;
        }
        recorded
    }

    /// Some(Some(skew)) when the wall clock is off the anchored time beyond
    /// the policy's tolerance, Some(None) when it agrees, None unanchored.
    fn clock_moved(&self, policy: &PreparedPolicy) -> Option<Option<String>> {
        let anchor = self.device.db.anchor().ok()??;
        let now = self.device.now();
        let clock = RecordClock {
            anchor: Some(&anchor),
            boot_id: &now.boot_id,
            monotonic_ms: now.monotonic_ms,
            wall_time_ms: now.wall_time_ms,
        };
        // Seconds to ms; the policy bounds it to 1..86,400 s.
        let max_skew_ms = (policy.policy.settings.max_clock_skew_s * 1000.0) as i64;
        match judge_clock(&clock, max_skew_ms) {
            TimeVerdict::Anchored {
                clock_moved,
                skew_ms,
                ..
            } => Some(clock_moved.then(|| format!("wall clock off by {skew_ms} ms"))),
            TimeVerdict::Unanchored { .. } => None,
        }
    }

    /// The employee describes a fault (`kind` by its wire name), with files
    /// kept by `attach` first. Checked, then signed and chained.
    pub(crate) fn report(
        &self,
        kind: &str,
        text: &str,
        attachments: Vec<Attachment>,
    ) -> Result<EventReceipt> {
        let report = FaultReport {
            kind: FaultKind::parse(kind)?,
            source: FaultSource::Employee,
            text: text.trim().to_string(),
            attachments,
        };
        report.check()?;
        for a in &report.attachments {
            if !self.device.db.has_attachment(&a.sha256)? {
                return Err(PunchError::UnknownReference {
                    what: "attachment",
                    id: a.sha256.clone(),
                });
            }
        }
        let version = self.policy.version().ok_or(PunchError::NoPolicy)?;
        record(&self.device, version, report)
    }

    /// Every fault event this device recorded, oldest first.
    pub(crate) fn faults(&self) -> Result<Vec<FaultEvent>> {
        fault_events(&self.device)
    }
}

/// Every fault event `device` recorded, oldest first.
fn fault_events(device: &DeviceContext) -> Result<Vec<FaultEvent>> {
    let rows = device.db.events_of_kind(&kind_column_of(types::FAULT))?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match ChainEntry::from_bytes(&row.record).ok()? {
            ChainEntry::Event(e) => match e.event {
                ChainEvent::Fault(report) => Some(FaultEvent {
                    event_id: e.event_id.to_string(),
                    device_id: e.device_id,
                    seq: row.seq,
                    wall_time_ms: e.wall_time_ms,
                    report,
                }),
                _ => None,
            },
            ChainEntry::Punch(_) => None,
        })
        .collect())
}

/// A make-up request citing a fault of this device must cite one it holds;
/// another device's fault is the server's to check.
pub(crate) fn check_citation(device: &DeviceContext, citation: &FaultCitation) -> Result<()> {
    if citation.device_id != device.device_id
        || fault_events(device)?.iter().any(|f| f.seq == citation.seq)
    {
        return Ok(());
    }
    Err(PunchError::UnknownReference {
        what: "fault",
        id: format!("{}/{}", citation.device_id, citation.seq),
    })
}

/// Signs (with the channel key), chains and stores one fault event.
fn record(device: &DeviceContext, version: u64, report: FaultReport) -> Result<EventReceipt> {
    recorder::record_event_by(
        device,
        KeyRole::Channel,
        version,
        &ChainEvent::Fault(report),
    )
}

/// What a punch's evidence says about location and Wi-Fi.
fn evidence_faults(policy: &PreparedPolicy, valid: &ValidEvidence, seen: &mut Observation) {
    // Android shows the placeholder BSSID when the app may not read location.
    let denied = valid.flags.contains(&EvidenceFlag::WifiPlaceholder);
    seen.either(
        FaultKind::LocationDenied,
        denied.then(|| "the Wi-Fi scan shows the platform's placeholder".to_string()),
    );
    seen.either(
        FaultKind::LocationUnavailable,
        (valid.gps.is_none() && !denied).then(|| "no usable location fix".to_string()),
    );
    // Wi-Fi matters only where the policy has Wi-Fi sites.
    if !policy.bssid_sites.is_empty() || !policy.ssid_sites.is_empty() {
        seen.either(
            FaultKind::WifiOff,
            (valid.wifi.is_empty() && !denied).then(|| "no access point seen".to_string()),
        );
    }
}

/// What an error says about the device.
fn error_faults(e: &PunchError, seen: &mut Observation) {
    match e {
        PunchError::Signer(SignerError::Invalidated) => seen
            .present
            .push((FaultKind::KeyInvalidated, e.to_string())),
        PunchError::Sync(SyncError::Refused {
            code: Some(ErrorCode::AttestationRefused),
            ..
        }) => seen
            .present
            .push((FaultKind::AttestationRefused, e.to_string())),
        e if is_storage_full(e) => seen.present.push((FaultKind::StorageFull, e.to_string())),
        _ => {}
    }
}

/// SQLite's SQLITE_FULL, as the store's errors carry it (its text: the
/// error type keeps only the message).
fn is_storage_full(e: &PunchError) -> bool {
    matches!(e, PunchError::Storage(text) if text.contains("database or disk is full"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_full_is_storage_full() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        assert!(is_storage_full(&PunchError::from(full)));
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(!is_storage_full(&PunchError::from(busy)));
    }

    #[test]
    fn an_episode_records_once_until_it_clears() {
        let mut state = FaultState::default();
        state.seen(FaultKind::WifiOff, "a".into());
        state.seen(FaultKind::WifiOff, "b".into());
        assert_eq!(state.pending.len(), 1);
        state.pending.clear();
        state.seen(FaultKind::WifiOff, "c".into());
        assert!(state.pending.is_empty(), "still the same episode");
        state.gone(FaultKind::WifiOff);
        state.seen(FaultKind::WifiOff, "d".into());
        assert_eq!(state.pending.len(), 1, "a new episode");
    }
}
