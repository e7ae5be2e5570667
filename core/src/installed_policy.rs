//! The policy in force: verified (pinned server key), never rolled back,
//! never expired by trusted time, persisted, and prepared for evaluation.
//!
//! Preparing a large policy (indexes, geodesics) costs tens of milliseconds
//! and megabytes, so opening the engine reads only the stored version: the
//! body is parsed and prepared on the first evaluate or punch. An app that
//! opens the engine to show its status or to sync pays nothing for it.

use std::sync::{Arc, Mutex};

use punch_model::ledger::signing;
use punch_model::rules::policy::{Policy, PreparedPolicy};

use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::store::{Db, PolicyRow, Store};

/// What the engine holds of the policy.
enum Slot {
    Empty,
    /// Stored in the database, not prepared yet.
    Stored {
        version: u64,
    },
    Ready(Arc<PreparedPolicy>),
}

impl Slot {
    fn version(&self) -> Option<u64> {
        match self {
            Slot::Empty => None,
            Slot::Stored { version } => Some(*version),
            Slot::Ready(p) => Some(p.policy.version),
        }
    }
}

pub(crate) struct InstalledPolicy {
    slot: Mutex<Slot>,
    /// With a server configured, every policy must be signed by this key.
    pinned_key: Option<Vec<u8>>,
}

impl InstalledPolicy {
    /// The policy stored in `store`, if any: only its version is read now.
    pub fn load(store: &Store, pinned_key: Option<Vec<u8>>) -> Result<InstalledPolicy> {
        let slot = match store.policy_version()? {
            Some(version) => Slot::Stored { version },
            None => Slot::Empty,
        };
        Ok(InstalledPolicy {
            slot: Mutex::new(slot),
            pinned_key,
        })
    }

    /// The prepared policy, preparing the stored one on first use. The slot
    /// lock is held while preparing so concurrent first callers prepare once
    /// (they would wait for the policy anyway); lock order as in `install`.
    pub fn current(&self, db: &Db) -> Result<Arc<PreparedPolicy>> {
        let mut slot = self.slot();
        match &*slot {
            Slot::Ready(p) => Ok(p.clone()),
            Slot::Empty => Err(PunchError::NoPolicy),
            Slot::Stored { .. } => {
                let row = db.lock().policy()?.ok_or(PunchError::NoPolicy)?;
                let prepared = Arc::new(PreparedPolicy::new(Policy::from_json(&row.body)?)?);
                *slot = Slot::Ready(prepared.clone());
                Ok(prepared)
            }
        }
    }

    pub fn version(&self) -> Option<u64> {
        self.slot().version()
    }

    /// The pinned server key (it also signs PIN reset tokens).
    pub fn pinned_key(&self) -> Option<&[u8]> {
        self.pinned_key.as_deref()
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
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
        if let Some(installed) = slot.version()
            && version < installed
        {
            return Err(PunchError::PolicyRollback {
                offered: version,
                installed,
            });
        }
        let row = PolicyRow {
            version,
            body: body.to_vec(),
            signature: signature.map(<[u8]>::to_vec),
        };
        device.db.lock().save_policy(&row, now.wall_time_ms)?;
        *slot = Slot::Ready(prepared);
        Ok(version)
    }
}
