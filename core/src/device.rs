//! Who this device is and what it holds: the database, the key, the clocks.
//! Shared by the punch path and the sync loop; every call into platform
//! code (the signer, the clock) happens here without the database lock held.

use std::sync::Arc;

use punch_model::ledger::signing::{self, Signer, SignerError};
use punch_model::ledger::trusted_time;

use crate::clock::{Clock, ClockReading};
use crate::error::{PunchError, Result};
use crate::store::Db;

pub(crate) struct DeviceContext {
    pub db: Arc<Db>,
    pub signer: Arc<dyn Signer>,
    pub clock: Arc<dyn Clock>,
    pub device_id: String,
    /// P-256 SubjectPublicKeyInfo DER of the device key.
    pub public_key: Vec<u8>,
    /// True when the key is the built-in software key (kept in the database).
    pub software_key: bool,
    /// Punches take turns; nothing but the punch path takes this lock.
    pub punch_turn: std::sync::Mutex<()>,
}

impl DeviceContext {
    /// The platform's clocks, read with no lock held.
    pub fn now(&self) -> ClockReading {
        self.clock.now()
    }

    /// Signs `message` with the device key. A platform signer's answer is
    /// checked against the enrolled key before anything uses it: a broken or
    /// swapped key becomes a local error, not a record the server refuses.
    pub fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, SignerError> {
        let signature = self.signer.sign(message)?;
        if !self.software_key {
            signing::verify(&self.public_key, message, &signature).map_err(|_| {
                SignerError::Signing(
                    "the platform signer's signature does not verify with the device key".into(),
                )
            })?;
        }
        Ok(signature)
    }

    /// Now by the best clock available (see [`trusted_time::trusted_now_ms`]),
    /// given a clock reading taken beforehand.
    pub fn trusted_now_at(&self, now: &ClockReading) -> Result<i64> {
        let anchor = self.db.lock().anchor()?;
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
        let store = self.db.lock();
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
    }

    /// The employee this device is bound to, if enrolled.
    pub fn employee_id(&self) -> Result<Option<String>> {
        let store = self.db.lock();
        Ok(store
            .device()?
            .ok_or_else(|| PunchError::CorruptState("device row vanished".into()))?
            .employee_id)
    }
}
