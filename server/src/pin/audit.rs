//! The server judges a device's PIN events again: it replays them (per
//! device and employee, in chain order, on trusted time) into the lock the
//! device should have had, and flags an event that contradicts it — an
//! `unlocked` before the lock could have ended, a new PIN set while locked
//! without a reset. The lock an employee is under is derived the same way,
//! from every device's events, so the server knows it whatever a phone keeps.

use punch_model::pin::{PinEvent, PinEventKind};

use crate::error::{Result, ServerError};
use crate::store::{EventFilter, StoreTx, StoredEvent};

/// Flag on an event the replay contradicts (`events.status`).
pub const SUSPECT: &str = "suspect";

/// What the events say about one employee's PIN.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DerivedLock {
    pub failures: u32,
    pub locks: u32,
    /// Server time the last lock ends (None: not locked, or its start unanchored).
    pub locked_until_ms: Option<i64>,
}

impl DerivedLock {
    /// Judges `event` at trusted time `at_ms` against the state so far, then
    /// applies it. Some(why) when the event contradicts the replay.
    pub fn apply(&mut self, event: &PinEvent, at_ms: Option<i64>) -> Option<String> {
        let still_locked = match (self.locked_until_ms, at_ms) {
            (Some(until), Some(t)) if t < until => Some(until - t),
            _ => None,
        };
        let verdict = match (event.kind, still_locked) {
            (PinEventKind::Unlocked, Some(left)) => Some(format!(
                "unlocked {left} ms before the lock could end (by server time)"
            )),
            (PinEventKind::Set | PinEventKind::Changed, Some(left)) => Some(format!(
                "PIN {} while locked ({left} ms left) without a reset",
                punch_model::text::serde_name(&event.kind)
            )),
            _ => None,
        };
        match event.kind {
            PinEventKind::Failed => self.failures = event.failures,
            PinEventKind::Locked => {
                self.failures = 0;
                self.locks = event.locks;
                self.locked_until_ms = at_ms
                    .zip(event.lock_ms)
                    .map(|(t, ms)| t.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)));
            }
            PinEventKind::Unlocked => self.locked_until_ms = None,
            PinEventKind::Reset => *self = DerivedLock::default(),
            PinEventKind::Set | PinEventKind::Changed | PinEventKind::UserVerified => {
                // A set right after a reset, or a success: nothing locks.
                if verdict.is_none() {
                    self.failures = event.failures;
                    self.locks = event.locks;
                }
            }
        }
        verdict
    }
}

fn pin_body(e: &StoredEvent) -> Result<PinEvent> {
    let event: punch_model::ledger::event::ChainEvent = serde_json::from_str(&e.body)
        .map_err(|err| ServerError::Corrupt(format!("stored PIN event: {err}")))?;
    match event {
        punch_model::ledger::event::ChainEvent::Pin(p) => Ok(p),
        _ => Err(ServerError::Corrupt(
            "stored PIN event of another type".into(),
        )),
    }
}

/// The replay of `employee_id`'s PIN events from `events` (in order).
fn replay<'a>(
    events: impl Iterator<Item = &'a StoredEvent>,
    employee_id: &str,
) -> Result<DerivedLock> {
    let mut lock = DerivedLock::default();
    for e in events.filter(|e| e.event_type == punch_model::ledger::event::types::PIN) {
        let p = pin_body(e)?;
        if p.employee_id == employee_id {
            lock.apply(&p, e.trusted_time_ms);
        }
    }
    Ok(lock)
}

/// Ingest's judgement of a new PIN event from `device_id`: its status and
/// detail when the replay of the device's earlier ones contradicts it.
pub fn judge_new(
    tx: &dyn StoreTx,
    device_id: &str,
    event: &PinEvent,
    at_ms: Option<i64>,
    batch: &[StoredEvent],
) -> Result<Option<(String, String)>> {
    let mut stored = tx.events(&EventFilter {
        employee_id: None,
        device_id: Some(device_id),
        event_type: Some(punch_model::ledger::event::types::PIN),
        status: None,
    })?;
    stored.sort_by_key(|e| e.seq);
    let earlier = stored
        .iter()
        .chain(batch.iter().filter(|e| e.device_id == device_id));
    let mut lock = replay(earlier, &event.employee_id)?;
    Ok(lock
        .apply(event, at_ms)
        .map(|why| (SUSPECT.to_string(), why)))
}

/// The lock an employee is under by the server's replay of every device's
/// PIN events (a reinstalled app keeps nothing; the server still knows).
pub fn lock_of(tx: &dyn StoreTx, employee_id: &str) -> Result<DerivedLock> {
    let mut events = tx.events(&EventFilter {
        employee_id: None,
        device_id: None,
        event_type: Some(punch_model::ledger::event::types::PIN),
        status: None,
    })?;
    events.sort_by_key(|e| (e.trusted_time_ms.unwrap_or(e.wall_time_ms), e.seq));
    replay(events.iter(), employee_id)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
