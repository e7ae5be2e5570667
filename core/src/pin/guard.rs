//! The PIN rules on a device: set, change, verify, reset, each judged
//! against the employee's lock state (monotonic and anchored time, see
//! `punch_model::pin::lockout`) and leaving its events. PIN work takes turns
//! (one mutex, never held across platform code): parallel guesses cannot
//! slip past the failure count.

use std::sync::Mutex;

use punch_model::ledger::trusted_time::anchored_time_ms;
use punch_model::pin::{
    LockVerdict, PinEvent, PinEventKind, PinSettings, ResetToken, SignedResetToken, TimeNow,
    TokenError, Verifier, check_new_pin,
};

use super::error::PinError;
use crate::clock::ClockReading;
use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::recorder;
use crate::store::PinRow;
use punch_model::ledger::event::ChainEvent;

/// What the app shows about an employee's PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinStatus {
    /// The policy requires a PIN (or the platform's "user verified") to punch.
    pub required: bool,
    /// A PIN has been chosen.
    pub is_set: bool,
    /// Tries before the next lock (0 while locked).
    pub tries_left: u32,
    /// While locked: how long still, and when it ends (trusted time, for display).
    pub locked_for_ms: Option<u64>,
    /// While locked: when the lock ends, on trusted time (for display).
    pub locked_until_ms: Option<i64>,
    /// The PIN is older than the policy allows: choose a new one.
    pub must_change: bool,
}

/// A verification good for punches until the monotonic time `until_ms` of `boot_id`.
#[derive(Debug, Clone)]
struct Grant {
    employee_id: String,
    boot_id: String,
    until_ms: u64,
}

#[derive(Default)]
pub(crate) struct PinGuard {
    turn: Mutex<()>,
    grant: Mutex<Option<Grant>>,
}

pub(crate) fn time_now(device: &DeviceContext, reading: &ClockReading) -> Result<TimeNow> {
    let anchor = device.db.anchor()?;
    let anchored_ms = anchor
        .as_ref()
        .and_then(|a| anchored_time_ms(a, &reading.boot_id, reading.monotonic_ms).ok());
    Ok(TimeNow {
        boot_id: reading.boot_id.clone(),
        monotonic_ms: reading.monotonic_ms,
        anchored_ms,
        trusted_ms: device.trusted_now_at(reading)?,
    })
}

fn verifier_of(row: &PinRow) -> Result<Option<Verifier>> {
    row.verifier
        .as_deref()
        .map(|json| {
            serde_json::from_str(json)
                .map_err(|e| PunchError::CorruptState(format!("PIN verifier: {e}")))
        })
        .transpose()
}

/// The installed policy's PIN settings, and the version of that policy the
/// PIN events are chained under (each PIN call is judged under one policy).
pub(crate) struct PinRules {
    pub settings: PinSettings,
    pub policy_version: u64,
}

/// The rules read as their settings (the lockout maths takes settings).
impl std::ops::Deref for PinRules {
    type Target = PinSettings;

    fn deref(&self) -> &PinSettings {
        &self.settings
    }
}

/// Saves the row, then signs and chains each event: the lock state is
/// durable first (it is what guards the PIN); the events are the audit
/// trail the server judges again.
fn save(
    device: &DeviceContext,
    policy_version: u64,
    employee_id: &str,
    row: &PinRow,
    events: Vec<PinEvent>,
) -> Result<()> {
    device.db.save_pin_row(employee_id, row)?;
    for e in events {
        recorder::record_event(device, policy_version, &ChainEvent::Pin(e))?;
    }
    Ok(())
}

fn event(kind: PinEventKind, employee_id: &str, row: &PinRow) -> PinEvent {
    PinEvent {
        failures: row.lock.failures,
        locks: row.lock.locks,
        ..PinEvent::new(kind, employee_id)
    }
}

fn expired(settings: &PinSettings, row: &PinRow, now: &TimeNow) -> bool {
    match (settings.max_age_days, row.set_at_ms) {
        (Some(days), Some(set)) => {
            now.trusted_ms.saturating_sub(set) > i64::from(days).saturating_mul(86_400_000)
        }
        _ => false,
    }
}

/// Where an employee's verifier comes from: the device's own store (a
/// phone) or the signed policy (a kiosk).
pub(crate) enum VerifierSource<'a> {
    Stored,
    Given(&'a Verifier),
}

impl PinGuard {
    fn lock_turn(&self) -> std::sync::MutexGuard<'_, ()> {
        self.turn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Loads the row and judges its lock now, saving the checkpoint (and an
    /// `unlocked` event when the lock just ran out).
    fn judged(
        device: &DeviceContext,
        settings: &PinRules,
        employee_id: &str,
        now: &TimeNow,
    ) -> Result<(PinRow, LockVerdict)> {
        let mut row = device.db.pin_row(employee_id)?;
        let before = row.lock.clone();
        let verdict = row.lock.judge(settings, now);
        if row.lock != before {
            let events: Vec<PinEvent> = match verdict {
                LockVerdict::JustUnlocked { .. } => {
                    vec![event(PinEventKind::Unlocked, employee_id, &row)]
                }
                _ => Vec::new(),
            };
            save(device, settings.policy_version, employee_id, &row, events)?;
        }
        Ok((row, verdict))
    }

    pub fn status(
        &self,
        device: &DeviceContext,
        settings: &PinRules,
        employee_id: &str,
        source: VerifierSource<'_>,
    ) -> Result<PinStatus> {
        let _turn = self.lock_turn();
        let now = time_now(device, &device.now())?;
        let (row, verdict) = Self::judged(device, settings, employee_id, &now)?;
        let is_set = match source {
            VerifierSource::Stored => row.verifier.is_some(),
            VerifierSource::Given(_) => true,
        };
        let (tries_left, locked_for_ms, locked_until_ms) = match verdict {
            LockVerdict::Open { tries_left } | LockVerdict::JustUnlocked { tries_left } => {
                (tries_left, None, None)
            }
            LockVerdict::Locked {
                remaining_ms,
                ends_at_ms,
            } => (0, Some(remaining_ms), Some(ends_at_ms)),
        };
        Ok(PinStatus {
            required: settings.required,
            is_set,
            tries_left,
            locked_for_ms,
            locked_until_ms,
            must_change: is_set && expired(settings, &row, &now),
        })
    }

    /// Sets the first PIN (or the one after a reset).
    pub fn set(
        &self,
        device: &DeviceContext,
        settings: &PinRules,
        employee_id: &str,
        pin: &str,
        birthday: Option<&str>,
    ) -> Result<()> {
        let _turn = self.lock_turn();
        let now = time_now(device, &device.now())?;
        let mut row = device.db.pin_row(employee_id)?;
        if row.verifier.is_some() {
            return Err(PinError::AlreadySet.into());
        }
        Self::store_new(
            device,
            settings,
            employee_id,
            &mut row,
            pin,
            birthday,
            &now,
            PinEventKind::Set,
            None,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn store_new(
        device: &DeviceContext,
        settings: &PinRules,
        employee_id: &str,
        row: &mut PinRow,
        pin: &str,
        birthday: Option<&str>,
        now: &TimeNow,
        kind: PinEventKind,
        before: Option<PinEvent>,
    ) -> Result<()> {
        check_new_pin(
            pin,
            settings.min_length,
            Some(employee_id),
            birthday.filter(|_| settings.ban_birthday),
        )
        .map_err(PinError::Rejected)?;
        let verifier = Verifier::derive(pin, settings.pbkdf2_iterations)
            .map_err(|e| PunchError::CorruptState(e.to_string()))?;
        let stored = serde_json::to_string(&verifier)
            .map_err(|e| PunchError::CorruptState(e.to_string()))?;
        // The event commits to the verifier: later verifications name it.
        let committed = punch_model::pin::commitment(&stored);
        row.verifier = Some(stored);
        row.set_at_ms = Some(now.trusted_ms);
        let mut events: Vec<PinEvent> = before.into_iter().collect();
        events.push(PinEvent {
            verifier: Some(committed),
            ..event(kind, employee_id, row)
        });
        save(device, settings.policy_version, employee_id, row, events)
    }

    /// Checks `pin`: a success clears the count and grants punches for
    /// `verified_for_s`; a failure counts toward the lock.
    pub fn verify(
        &self,
        device: &DeviceContext,
        settings: &PinRules,
        employee_id: &str,
        pin: &str,
        source: VerifierSource<'_>,
    ) -> Result<()> {
        let _turn = self.lock_turn();
        let reading = device.now();
        let now = time_now(device, &reading)?;
        let (mut row, verdict) = Self::judged(device, settings, employee_id, &now)?;
        if let LockVerdict::Locked {
            remaining_ms,
            ends_at_ms,
        } = verdict
        {
            return Err(PinError::Locked {
                remaining_ms,
                ends_at_ms,
            }
            .into());
        }
        let verifier = match source {
            VerifierSource::Given(v) => v.clone(),
            VerifierSource::Stored => verifier_of(&row)?.ok_or(PinError::NotSet)?,
        };
        let matches = verifier
            .matches(pin)
            .map_err(|e| PunchError::CorruptState(e.to_string()))?;
        if matches {
            let (failures, locks) = (row.lock.failures, row.lock.locks);
            row.lock.clear();
            if failures > 0 || locks > 0 {
                device.db.save_pin_row(employee_id, &row)?;
            }
            // Chained like a failure: the verifier it matched and the count
            // it cleared, for the server to check against the device's own
            // events (a kiosk's verifiers are the signed policy's).
            if let (VerifierSource::Stored, Some(stored)) = (&source, row.verifier.as_deref()) {
                let verified = punch_model::pin::PinVerified {
                    employee_id: employee_id.to_string(),
                    verifier: punch_model::pin::commitment(stored),
                    failures,
                    locks,
                };
                recorder::record_event(
                    device,
                    settings.policy_version,
                    &ChainEvent::PinVerified(verified),
                )?;
            }
            if matches!(source, VerifierSource::Stored) && expired(settings, &row, &now) {
                return Err(PinError::MustChange.into());
            }
            self.grant(settings, employee_id, &reading);
            return Ok(());
        }
        Err(Self::count_failure(
            device,
            settings,
            employee_id,
            &mut row,
            &now,
        )?)
    }

    /// Counts a failure (a wrong PIN, a bad reset token) and says what to tell the user.
    fn count_failure(
        device: &DeviceContext,
        settings: &PinRules,
        employee_id: &str,
        row: &mut PinRow,
        now: &TimeNow,
    ) -> Result<PunchError> {
        let locked = row.lock.fail(settings, now);
        let mut events = vec![event(PinEventKind::Failed, employee_id, row)];
        if let Some(ms) = locked {
            events.push(PinEvent {
                lock_ms: Some(ms),
                ..event(PinEventKind::Locked, employee_id, row)
            });
        }
        save(device, settings.policy_version, employee_id, row, events)?;
        Ok(match locked {
            Some(ms) => PinError::Locked {
                remaining_ms: ms,
                ends_at_ms: now
                    .trusted_ms
                    .saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)),
            },
            None => PinError::Wrong {
                tries_left: settings.max_failures.saturating_sub(row.lock.failures),
            },
        }
        .into())
    }

    /// Changes the PIN: the current one is verified first (and counts).
    #[allow(clippy::too_many_arguments)]
    pub fn change(
        &self,
        device: &DeviceContext,
        settings: &PinRules,
        employee_id: &str,
        old: &str,
        new: &str,
        birthday: Option<&str>,
    ) -> Result<()> {
        match self.verify(device, settings, employee_id, old, VerifierSource::Stored) {
            Ok(()) | Err(PunchError::Pin(PinError::MustChange)) => {}
            Err(e) => return Err(e),
        }
        if old == new {
            return Err(PinError::Rejected(punch_model::pin::PinRejected::Unchanged).into());
        }
        let _turn = self.lock_turn();
        let now = time_now(device, &device.now())?;
        let mut row = device.db.pin_row(employee_id)?;
        Self::store_new(
            device,
            settings,
            employee_id,
            &mut row,
            new,
            birthday,
            &now,
            PinEventKind::Changed,
            None,
        )
    }

    /// Applies a server-signed reset token and sets `new_pin`. The token is
    /// checked offline against the pinned key; a bad one counts as a failure.
    /// Allowed while locked: that is what a reset is for.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_reset(
        &self,
        device: &DeviceContext,
        settings: &PinRules,
        pinned_key: &[u8],
        employee_id: &str,
        token: &SignedResetToken,
        new_pin: &str,
        birthday: Option<&str>,
    ) -> Result<ResetToken> {
        let _turn = self.lock_turn();
        let now = time_now(device, &device.now())?;
        let (mut row, _) = Self::judged(device, settings, employee_id, &now)?;
        let checked = match token.verify(pinned_key, &device.device_id, employee_id, now.trusted_ms)
        {
            Ok(t) if device.db.pin_token_used(&t.token_id)? => Err(TokenError::Reused),
            other => other,
        };
        let token = match checked {
            Ok(t) => t,
            Err(e) => {
                Self::count_failure(device, settings, employee_id, &mut row, &now)?;
                return Err(PinError::Token(e).into());
            }
        };
        check_new_pin(
            new_pin,
            settings.min_length,
            Some(employee_id),
            birthday.filter(|_| settings.ban_birthday),
        )
        .map_err(PinError::Rejected)?;
        if !device.db.use_pin_token(&token.token_id, now.trusted_ms)? {
            return Err(PinError::Token(TokenError::Reused).into());
        }
        row.lock.clear();
        let reset = PinEvent {
            reset_path: Some(token.path),
            token_id: Some(token.token_id.clone()),
            ..event(PinEventKind::Reset, employee_id, &row)
        };
        Self::store_new(
            device,
            settings,
            employee_id,
            &mut row,
            new_pin,
            birthday,
            &now,
            PinEventKind::Set,
            Some(reset),
        )?;
        Ok(token)
    }

    /// The platform's biometric or device credential succeeded: recorded,
    /// and punches are granted as after a PIN (not while the PIN is older
    /// than `max_age_days`: it must be changed first).
    pub fn user_verified(
        &self,
        device: &DeviceContext,
        settings: &PinRules,
        employee_id: &str,
    ) -> Result<()> {
        let _turn = self.lock_turn();
        let reading = device.now();
        let row = device.db.pin_row(employee_id)?;
        // The periodic change binds whoever proves the holder: an old PIN
        // must be changed before the next punch, prompt or no prompt.
        if row.verifier.is_some() && expired(settings, &row, &time_now(device, &reading)?) {
            return Err(PinError::MustChange.into());
        }
        save(
            device,
            settings.policy_version,
            employee_id,
            &row,
            vec![event(PinEventKind::UserVerified, employee_id, &row)],
        )?;
        self.grant(settings, employee_id, &reading);
        Ok(())
    }

    fn grant(&self, settings: &PinSettings, employee_id: &str, at: &ClockReading) {
        *self.grant.lock().unwrap_or_else(|e| e.into_inner()) = Some(Grant {
            employee_id: employee_id.into(),
            boot_id: at.boot_id.clone(),
            until_ms: at
                .monotonic_ms
                .saturating_add(settings.verified_for_s.saturating_mul(1000)),
        });
    }

    /// Uses up a grant for `employee_id` (one punch per verification).
    pub fn take_grant(&self, employee_id: &str, at: &ClockReading) -> bool {
        let grant = self.grant.lock().unwrap_or_else(|e| e.into_inner()).take();
        grant.is_some_and(|g| {
            g.employee_id == employee_id && g.boot_id == at.boot_id && at.monotonic_ms <= g.until_ms
        })
    }
}
