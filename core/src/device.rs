//! Who this device is and what it holds: the database, the key, the clocks.
//! Shared by the punch path and the sync loop; every call into platform
//! code (the signer, the clock) happens here without the database lock held.

use std::sync::{Arc, RwLock};

use punch_model::ledger::key_rotation::KeyRole;
use punch_model::ledger::signing::SignerError;
use punch_model::ledger::trusted_time;

use punch_model::rules::evidence::ValidEvidence;

use crate::clock::{Clock, ClockReading};
use crate::clock_mask::ClockMask;
use crate::error::{PunchError, Result};
use crate::keys::KeySet;
use crate::store::Db;

/// Who this device is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The id the server knows this device by.
    pub device_id: String,
    /// The punch key in force, P-256 SubjectPublicKeyInfo DER.
    pub public_key_spki: Vec<u8>,
    /// The channel key (the punch key too on a device from before the split).
    pub channel_key_spki: Vec<u8>,
    /// The employee bound at enrollment (None before).
    pub employee_id: Option<String>,
}

pub(crate) struct DeviceContext {
    pub db: Arc<Db>,
    /// Masks the clock readings records and anchors carry (`clock_mask`).
    mask: ClockMask,
    /// The keys in force; replaced whole at enrollment and at a rotation.
    keys: RwLock<Arc<KeySet>>,
    pub clock: Arc<dyn Clock>,
    pub device_id: String,
    /// Punches take turns; nothing but the punch path takes this lock.
    pub punch_turn: std::sync::Mutex<()>,
}

impl DeviceContext {
    pub fn new(
        db: Arc<Db>,
        mask: ClockMask,
        keys: KeySet,
        clock: Arc<dyn Clock>,
        device_id: String,
    ) -> Self {
        DeviceContext {
            db,
            mask,
            keys: RwLock::new(Arc::new(keys)),
            clock,
            device_id,
            punch_turn: std::sync::Mutex::new(()),
        }
    }

    /// The platform's clocks, read with no lock held, masked as every
    /// record and anchor carries them (`clock_mask`).
    pub fn now(&self) -> ClockReading {
        self.mask.mask(self.clock.now())
    }

    /// The evidence with its fix's age measured now on the monotonic clock.
    pub fn aged(&self, valid: &ValidEvidence) -> ValidEvidence {
        let raw = self.clock.now();
        let mut shifted = valid.clone();
        if let Some(fix) = shifted.gps.as_mut() {
            fix.elapsed_realtime_ms = fix
                .elapsed_realtime_ms
                .map(|at| self.mask.shift(&raw.boot_id, at));
        }
        shifted.aged_at(self.mask.mask(raw).monotonic_ms)
    }

    /// The keys in force now (a snapshot: signing happens without the lock).
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_keys(&self, keys: KeySet) {
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
    }

    /// Signs `message` with the key of `role` (checked, see `HeldKey::sign`).
    pub fn sign(&self, role: KeyRole, message: &[u8]) -> std::result::Result<Vec<u8>, SignerError> {
        let keys = self.keys();
        match role {
            KeyRole::Punch => keys.punch.sign(message),
            KeyRole::Channel => keys.channel.sign(message),
        }
    }

    /// Who this device is now: its id, keys and employee.
    pub fn info(&self) -> Result<DeviceInfo> {
        let keys = self.keys();
        Ok(DeviceInfo {
            device_id: self.device_id.clone(),
            public_key_spki: keys.punch.public_key.clone(),
            channel_key_spki: keys.channel.public_key.clone(),
            employee_id: self.employee_id()?,
        })
    }

    /// Now by the best clock available: anchored server time within this
    /// boot, else the device's wall clock, never earlier than the last
    /// server time seen (see [`trusted_time::trusted_now_ms`]).
    pub fn trusted_now_ms(&self) -> i64 {
        let now = self.now();
        self.trusted_now_at(&now).unwrap_or(now.wall_time_ms)
    }

    /// Now by the best clock available (see [`trusted_time::trusted_now_ms`]),
    /// given a clock reading taken beforehand.
    pub fn trusted_now_at(&self, now: &ClockReading) -> Result<i64> {
        let anchor = self.db.anchor()?;
        Ok(trusted_time::trusted_now_ms(
            anchor.as_ref(),
            now.wall_time_ms,
            &now.boot_id,
            now.monotonic_ms,
        ))
    }
}

impl DeviceContext {
    /// Binds this device to an employee; once bound, only the same id is accepted.
    pub fn bind_employee(&self, employee_id: &str) -> Result<()> {
        self.db.with_store(|store| {
            let row = store
                .device()?
                .ok_or_else(|| PunchError::CorruptState("device row vanished".into()))?;
            match row.employee_id {
                Some(bound) if bound != employee_id => Err(PunchError::EmployeeMismatch {
                    bound,
                    requested: employee_id.to_string(),
                }),
                Some(_) => Ok(()),
                None => store.set_employee(employee_id),
            }
        })
    }

    /// The employee this device is bound to, if enrolled.
    pub fn employee_id(&self) -> Result<Option<String>> {
        Ok(self
            .db
            .device()?
            .ok_or_else(|| PunchError::CorruptState("device row vanished".into()))?
            .employee_id)
    }
}
