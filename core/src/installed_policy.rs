//! The policy in force: verified (pinned server key), never rolled back,
//! never expired by trusted time, persisted, and prepared once for evaluation.

use std::sync::{Arc, Mutex};

use punch_model::ledger::signing;
use punch_model::rules::policy::{Policy, PreparedPolicy};

use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::store::{PolicyRow, Store};

pub(crate) struct InstalledPolicy {
    current: Mutex<Option<Arc<PreparedPolicy>>>,
    /// With a server configured, every policy must be signed by this key.
    pinned_key: Option<Vec<u8>>,
}

impl InstalledPolicy {
    /// The policy stored in `store`, if any.
    pub fn load(store: &Store, pinned_key: Option<Vec<u8>>) -> Result<InstalledPolicy> {
        let current = match store.policy()? {
            Some(row) => Some(Arc::new(PreparedPolicy::new(Policy::from_json(
                &row.body,
            )?)?)),
            None => None,
        };
        Ok(InstalledPolicy {
            current: Mutex::new(current),
            pinned_key,
        })
    }

    pub fn current(&self) -> Result<Arc<PreparedPolicy>> {
        self.slot().clone().ok_or(PunchError::NoPolicy)
    }

    pub fn version(&self) -> Option<u64> {
        self.slot().as_ref().map(|p| p.policy.version)
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Arc<PreparedPolicy>>> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Verifies, checks and installs a policy. Refused: a bad or missing
    /// signature (when a key is pinned), a lower version than the installed
    /// one (rollback), an expired one (freeze, judged by trusted time).
    pub fn install(
        &self,
        device: &DeviceContext,
        body: &[u8],
        signature: Option<&[u8]>,
    ) -> Result<u64> {
        if let Some(key) = &self.pinned_key {
            let sig = signature.ok_or(PunchError::PolicySignature)?;
            signing::verify(key, body, sig).map_err(|_| PunchError::PolicySignature)?;
        }
        let policy = Policy::from_json(body)?;
        let version = policy.version;
        let now = device.now();
        policy.check_not_expired(device.trusted_now_at(&now)?)?;
        // Preparing (indexes, geodesics) is the slow part: no lock held.
        let prepared = Arc::new(PreparedPolicy::new(policy)?);
        // Lock order: policy slot, then database; nothing takes them reversed.
        let mut slot = self.slot();
        if let Some(current) = slot.as_ref()
            && version < current.policy.version
        {
            return Err(PunchError::PolicyRollback {
                offered: version,
                installed: current.policy.version,
            });
        }
        let row = PolicyRow {
            version,
            body: body.to_vec(),
            signature: signature.map(<[u8]>::to_vec),
        };
        device.db.lock().save_policy(&row, now.wall_time_ms)?;
        *slot = Some(prepared);
        Ok(version)
    }
}
