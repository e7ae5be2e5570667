//! The server judges a device's PIN events again: it replays them (per
//! device and employee, in chain order, on trusted time) into the lock the
//! device should have had, and flags an event that contradicts it — an
//! `unlocked` before the lock could have ended, a new PIN set while locked
//! without a reset. The lock an employee is under is derived the same way,
//! from every device's events, so the server knows it whatever a phone keeps.

use punch_model::ledger::event::ChainEvent;
use punch_model::pin::{PinEvent, PinEventKind, PinVerified};

use crate::error::{Result, ServerError};
use crate::store::{EventFilter, StoreTx, StoredEvent};

/// Flag on an event the replay contradicts (`events.status`).
pub const SUSPECT: &str = "suspect";

/// A PIN entry of the chain: an event (set, failed, locked...) or a
/// verification that succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinEntry {
    Event(PinEvent),
    Verified(PinVerified),
}

impl PinEntry {
    pub fn of(event: &ChainEvent) -> Option<PinEntry> {
        match event {
            ChainEvent::Pin(p) => Some(PinEntry::Event(p.clone())),
            ChainEvent::PinVerified(v) => Some(PinEntry::Verified(v.clone())),
            _ => None,
        }
    }

    fn employee_id(&self) -> &str {
        match self {
            PinEntry::Event(e) => &e.employee_id,
            PinEntry::Verified(v) => &v.employee_id,
        }
    }
}

/// What the events say about one employee's PIN.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DerivedLock {
    pub failures: u32,
    pub locks: u32,
    /// Server time the last lock ends (None: not locked, or its start unanchored).
    pub locked_until_ms: Option<i64>,
    /// The commitment of the verifier the device's events last set (None:
    /// none yet, or set by an app version that did not commit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verifier: Option<String>,
    /// The device commits and chains its successes (an app version that
    /// does): from then on its counts must follow from its own events.
    #[serde(skip)]
    pub bound: bool,
}

impl DerivedLock {
    fn still_locked(&self, at_ms: Option<i64>) -> Option<i64> {
        match (self.locked_until_ms, at_ms) {
            (Some(until), Some(t)) if t < until => Some(until - t),
            _ => None,
        }
    }

    /// Judges `entry` at trusted time `at_ms` against the state so far, then
    /// applies it. Some(why) when the entry contradicts the replay.
    pub fn apply_entry(&mut self, entry: &PinEntry, at_ms: Option<i64>) -> Option<String> {
        match entry {
            PinEntry::Event(e) => self.apply(e, at_ms),
            PinEntry::Verified(v) => self.apply_verified(v, at_ms),
        }
    }

    /// A success: it must come while the replay is open, clear the count the
    /// replay holds, and match the verifier the events set. Either way the
    /// count is clear after it (as on the device).
    fn apply_verified(&mut self, v: &PinVerified, at_ms: Option<i64>) -> Option<String> {
        let mut why = Vec::new();
        if let Some(left) = self.still_locked(at_ms) {
            why.push(format!(
                "PIN verified while the device's own events lock it ({left} ms left)"
            ));
        }
        if self.bound && (v.failures, v.locks) != (self.failures, self.locks) {
            why.push(format!(
                "the success cleared {} failures and {} locks, the device's events hold {} and {}: \
                 its lock state was changed outside the app",
                v.failures, v.locks, self.failures, self.locks
            ));
        }
        match &self.verifier {
            Some(set) if *set != v.verifier => why.push(
                "PIN verified against a verifier the device's own events never set: \
                 its verifier was replaced outside the app"
                    .into(),
            ),
            Some(_) => {}
            // Set by an app version that did not commit: the first success
            // names the verifier in force from then on.
            None => self.verifier = Some(v.verifier.clone()),
        }
        self.bound = true;
        self.failures = 0;
        self.locks = 0;
        self.locked_until_ms = None;
        (!why.is_empty()).then(|| why.join("; "))
    }

    /// Judges `event` at trusted time `at_ms` against the state so far, then
    /// applies it. Some(why) when the event contradicts the replay.
    pub fn apply(&mut self, event: &PinEvent, at_ms: Option<i64>) -> Option<String> {
        let still_locked = self.still_locked(at_ms);
        let verdict = match (event.kind, still_locked) {
            (PinEventKind::Unlocked, Some(left)) => Some(format!(
                "unlocked {left} ms before the lock could end (by server time)"
            )),
            (PinEventKind::Set | PinEventKind::Changed, Some(left)) => Some(format!(
                "PIN {} while locked ({left} ms left) without a reset",
                punch_model::text::serde_name(&event.kind)
            )),
            (PinEventKind::Failed, Some(left)) => Some(format!(
                "PIN tried while the device's own events lock it ({left} ms left)"
            )),
            // One more failure, or the one that starts the next lock.
            (PinEventKind::Failed, None)
                if self.bound
                    && (event.failures, event.locks) != (self.failures + 1, self.locks)
                    && (event.failures, event.locks) != (0, self.locks + 1) =>
            {
                Some(format!(
                    "{} failures and {} locks do not follow the device's own events ({} and {}): \
                     its lock state was changed outside the app",
                    event.failures, event.locks, self.failures, self.locks
                ))
            }
            _ => None,
        };
        match event.kind {
            PinEventKind::Failed => {
                self.failures = event.failures;
                self.locks = event.locks;
            }
            PinEventKind::Locked => {
                self.failures = 0;
                self.locks = event.locks;
                self.locked_until_ms = at_ms
                    .zip(event.lock_ms)
                    .map(|(t, ms)| t.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)));
            }
            PinEventKind::Unlocked => self.locked_until_ms = None,
            PinEventKind::Reset => {
                let bound = self.bound;
                *self = DerivedLock {
                    bound,
                    ..DerivedLock::default()
                };
            }
            PinEventKind::Set | PinEventKind::Changed | PinEventKind::UserVerified => {
                // A set right after a reset, or a success: nothing locks.
                if verdict.is_none() {
                    self.failures = event.failures;
                    self.locks = event.locks;
                }
                if let Some(committed) = &event.verifier {
                    self.verifier = Some(committed.clone());
                    self.bound = true;
                }
            }
        }
        verdict
    }
}

fn pin_entry(e: &StoredEvent) -> Result<PinEntry> {
    let event: ChainEvent = serde_json::from_str(&e.body)
        .map_err(|err| ServerError::Corrupt(format!("stored PIN event: {err}")))?;
    PinEntry::of(&event)
        .ok_or_else(|| ServerError::Corrupt("stored PIN event of another type".into()))
}

/// The replay of `employee_id`'s PIN entries from `events` (in order).
fn replay<'a>(
    events: impl Iterator<Item = &'a StoredEvent>,
    employee_id: &str,
) -> Result<DerivedLock> {
    let mut lock = DerivedLock::default();
    for e in events.filter(|e| e.event_type == punch_model::ledger::event::types::PIN) {
        let p = pin_entry(e)?;
        if p.employee_id() == employee_id {
            lock.apply_entry(&p, e.trusted_time_ms);
        }
    }
    Ok(lock)
}

/// Ingest's judgement of a new PIN event from `device_id`: its status and
/// detail when the replay of the device's earlier ones contradicts it.
pub fn judge_new(
    tx: &dyn StoreTx,
    device_id: &str,
    event: &PinEntry,
    at_ms: Option<i64>,
    batch: &[StoredEvent],
) -> Result<Option<(String, String)>> {
    let mut stored = tx.events().list(&EventFilter {
        employee_id: None,
        device_id: Some(device_id),
        event_type: Some(punch_model::ledger::event::types::PIN),
        status: None,
    })?;
    stored.sort_by_key(|e| e.seq);
    let earlier = stored
        .iter()
        .chain(batch.iter().filter(|e| e.device_id == device_id));
    let mut lock = replay(earlier, event.employee_id())?;
    Ok(lock
        .apply_entry(event, at_ms)
        .map(|why| (SUSPECT.to_string(), why)))
}

/// The lock an employee is under by the server's replay of every device's
/// PIN events (a reinstalled app keeps nothing; the server still knows):
/// their own devices' and the kiosks' (which name whoever typed), never
/// everyone's.
pub fn lock_of(tx: &dyn StoreTx, employee_id: &str) -> Result<DerivedLock> {
    let mut events = tx
        .events()
        .of_employee_and_kiosks(employee_id, punch_model::ledger::event::types::PIN)?;
    events.sort_by_key(|e| (e.trusted_time_ms.unwrap_or(e.wall_time_ms), e.seq));
    replay(events.iter(), employee_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{BindDevice, ServerStore, StoreExt, sqlite::SqliteStore};

    /// A stored PIN event of `kind` for `employee` from `device_id` (bound to
    /// `account`), at server time `at_ms`.
    fn stored(
        device_id: &str,
        seq: u64,
        account: &str,
        event: PinEvent,
        at_ms: i64,
    ) -> StoredEvent {
        StoredEvent {
            device_id: device_id.into(),
            seq,
            event_id: format!("{device_id}-{seq}"),
            employee_id: account.into(),
            event_type: punch_model::ledger::event::types::PIN.into(),
            body: serde_json::to_string(&ChainEvent::Pin(event)).unwrap(),
            wall_time_ms: at_ms,
            trusted_time_ms: Some(at_ms),
            record: b"r".to_vec(),
            signature: b"s".to_vec(),
            hash: format!("h-{device_id}-{seq}"),
            received_at_ms: at_ms,
            status: None,
            status_detail: None,
            decided_by: None,
            decided_at_ms: None,
            comment: None,
        }
    }

    #[test]
    fn one_employees_lock_reads_their_own_and_the_kiosks_events_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        let locked = |employee: &str, lock_ms: u64| PinEvent {
            lock_ms: Some(lock_ms),
            ..PinEvent::new(PinEventKind::Locked, employee)
        };
        store
            .write(|tx| {
                for (device_id, account) in [("d1", "e1"), ("d2", "e2"), ("k1", "kiosk:hq")] {
                    tx.enrollment().upsert_employee(account, account, 0)?;
                    tx.devices().bind_device(&BindDevice {
                        device_id,
                        employee_id: account,
                        public_key: b"pk",
                        key_storage: "tee",
                        platform: "android",
                        assurance: "software",
                        attestation: None,
                        channel_key: None,
                        channel_assurance: None,
                        channel_attestation: None,
                        now_ms: 0,
                    })?;
                }
                tx.events()
                    .insert_event(&stored("d1", 1, "e1", locked("e1", 1_800_000), 1_000))?;
                // On the kiosk, e1 typed a wrong PIN later: the newer lock.
                tx.events().insert_event(&stored(
                    "k1",
                    1,
                    "kiosk:hq",
                    locked("e1", 60_000),
                    5_000,
                ))?;
                for seq in 1..=40 {
                    tx.events().insert_event(&stored(
                        "d2",
                        seq,
                        "e2",
                        locked("e2", 1_000),
                        10_000,
                    ))?;
                }
                Ok(())
            })
            .unwrap();
        let before = store.rows_read();
        let lock = store.read(|tx| lock_of(tx, "e1")).unwrap();
        assert_eq!(lock.locked_until_ms, Some(65_000));
        assert_eq!(
            store.rows_read() - before,
            2,
            "e1's own and the kiosk's events, never e2's"
        );
    }

    fn ev(kind: PinEventKind, lock_ms: Option<u64>) -> PinEvent {
        PinEvent {
            lock_ms,
            ..PinEvent::new(kind, "e1")
        }
    }

    #[test]
    fn an_early_unlock_and_a_set_while_locked_are_suspect() {
        let mut l = DerivedLock::default();
        assert_eq!(
            l.apply(&ev(PinEventKind::Locked, Some(1_800_000)), Some(0)),
            None
        );
        assert_eq!(l.locked_until_ms, Some(1_800_000));
        assert!(
            l.apply(&ev(PinEventKind::Set, None), Some(60_000))
                .is_some()
        );
        assert!(
            l.apply(&ev(PinEventKind::Unlocked, None), Some(60_000))
                .is_some()
        );
        let mut l = DerivedLock::default();
        l.apply(&ev(PinEventKind::Locked, Some(1_800_000)), Some(0));
        assert_eq!(
            l.apply(&ev(PinEventKind::Unlocked, None), Some(1_800_000)),
            None
        );
        // A reset lifts the lock: the new PIN that follows is fine.
        l.apply(&ev(PinEventKind::Locked, Some(3_600_000)), Some(2_000_000));
        assert_eq!(
            l.apply(&ev(PinEventKind::Reset, None), Some(2_000_001)),
            None
        );
        assert_eq!(l.apply(&ev(PinEventKind::Set, None), Some(2_000_002)), None);
        assert_eq!(l.locked_until_ms, None);
    }

    fn verified(verifier: &str, failures: u32, locks: u32) -> PinEntry {
        PinEntry::Verified(PinVerified {
            employee_id: "e1".into(),
            verifier: verifier.into(),
            failures,
            locks,
        })
    }

    #[test]
    fn successes_bind_to_the_set_verifier_and_to_the_count() {
        let a = "a".repeat(64);
        let mut l = DerivedLock::default();
        let set = PinEvent {
            verifier: Some(a.clone()),
            ..ev(PinEventKind::Set, None)
        };
        assert_eq!(l.apply(&set, Some(0)), None);
        assert_eq!(l.apply_entry(&verified(&a, 0, 0), Some(1)), None);
        let failed = |f: u32, locks: u32| PinEvent {
            failures: f,
            locks,
            ..ev(PinEventKind::Failed, None)
        };
        assert_eq!(l.apply(&failed(1, 0), Some(2)), None);
        assert_eq!(l.apply(&failed(2, 0), Some(3)), None);
        // The count went back (a reset row): suspect.
        assert!(l.apply(&failed(1, 0), Some(4)).is_some());
        // A success must clear what the events hold, against the set verifier.
        assert!(l.apply_entry(&verified(&a, 0, 0), Some(5)).is_some());
        assert_eq!(l.apply(&failed(1, 0), Some(6)), None);
        assert!(
            l.apply_entry(&verified(&"b".repeat(64), 1, 0), Some(7))
                .is_some()
        );
    }

    #[test]
    fn an_app_that_never_committed_is_not_held_to_counts() {
        let mut l = DerivedLock::default();
        l.apply(&ev(PinEventKind::Set, None), Some(0));
        // An old app's success wrote no event: its next failure starts at 1.
        let failed = PinEvent {
            failures: 3,
            ..ev(PinEventKind::Failed, None)
        };
        l.apply(&failed, Some(1));
        let again = PinEvent {
            failures: 1,
            ..ev(PinEventKind::Failed, None)
        };
        assert_eq!(l.apply(&again, Some(2)), None);
    }
}
