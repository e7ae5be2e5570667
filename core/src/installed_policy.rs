//! The policy in force: verified (pinned server key), never rolled back,
//! never expired by trusted time, persisted, and prepared for evaluation.
//!
//! Preparing a large policy (indexes, geodesics) costs tens of milliseconds
//! and megabytes, so opening the engine reads only the stored version: the
//! policy is loaded on the first evaluate or punch, and an app that opens
//! the engine to show its status or to sync pays nothing for it. That load
//! reads the policy's prepared form, kept beside it since it was installed
//! (`policy_snapshot`), so the first punch screen after an app start does
//! not prepare the policy again; only a missing or doubtful prepared form
//! means preparing from the signed body (and keeping the result).

use std::sync::{Arc, Mutex};

use punch_model::ledger::record::Uuid;
use punch_model::ledger::signing;
use punch_model::rules::field_work::{self, FieldSite, PersonalAddendum};
use punch_model::rules::policy::{Policy, PreparedPolicy};
use punch_model::wire::SignedAddendum;

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

/// The employee's approved field sites and the policy prepared with the
/// ones active last time (re-prepared only when the active set changes).
#[derive(Default)]
struct FieldSites {
    sites: Vec<FieldSite>,
    prepared: Option<(Vec<Uuid>, u64, Arc<PreparedPolicy>)>,
}

pub(crate) struct InstalledPolicy {
    slot: Mutex<Slot>,
    field: Mutex<FieldSites>,
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
        // Verified when installed; a row that no longer parses is ignored.
        let sites = store
            .addendum()?
            .and_then(|(body, _)| serde_json::from_slice::<PersonalAddendum>(&body).ok())
            .map(|a| a.field_sites)
            .unwrap_or_default();
        Ok(InstalledPolicy {
            slot: Mutex::new(slot),
            field: Mutex::new(FieldSites {
                sites,
                prepared: None,
            }),
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
            Slot::Stored { version } => {
                let version = *version;
                let kept = db.prepared_policy()?;
                let prepared = match kept
                    .filter(|row| row.version == version)
                    .and_then(|row| PreparedPolicy::from_snapshot(&row.snapshot, version).ok())
                {
                    Some(prepared) => Arc::new(prepared),
                    None => Self::prepare_stored(db)?,
                };
                *slot = Slot::Ready(prepared.clone());
                Ok(prepared)
            }
        }
    }

    /// Prepares the stored policy from its signed body and keeps the
    /// prepared form for the next start (best effort: failing to keep it
    /// only costs the next start this preparation again).
    fn prepare_stored(db: &Db) -> Result<Arc<PreparedPolicy>> {
        let row = db.policy()?.ok_or(PunchError::NoPolicy)?;
        let prepared = PreparedPolicy::new(Policy::from_json(&row.body)?)?;
        if let Ok(snapshot) = prepared.snapshot() {
            let _ = db.save_prepared_policy(prepared.policy.version, &snapshot);
        }
        Ok(Arc::new(prepared))
    }

    pub fn version(&self) -> Option<u64> {
        self.slot().version()
    }

    /// The pinned server key (it also signs PIN reset tokens).
    pub fn pinned_key(&self) -> Option<&[u8]> {
        self.pinned_key.as_deref()
    }

    /// The policy to judge a punch at trusted time now: the installed one,
    /// with the employee's field sites active today added.
    pub fn current_for(&self, device: &DeviceContext) -> Result<Arc<PreparedPolicy>> {
        let base = self.current(&device.db)?;
        let mut field = self.field.lock().unwrap_or_else(|e| e.into_inner());
        if field.sites.is_empty() {
            return Ok(base);
        }
        let now = device.now();
        let trusted = device.trusted_now_at(&now)?;
        let active = field_work::active_at(&base.policy, &field.sites, trusted);
        let ids: Vec<Uuid> = active.iter().map(|s| s.request_id).collect();
        if ids.is_empty() {
            return Ok(base);
        }
        if let Some((cached, version, prepared)) = &field.prepared
            && *cached == ids
            && *version == base.policy.version
        {
            return Ok(prepared.clone());
        }
        let prepared = Arc::new(field_work::prepare_with(&base, &active)?);
        field.prepared = Some((ids, base.policy.version, prepared.clone()));
        Ok(prepared)
    }

    /// The employee's field sites now installed.
    pub fn field_sites(&self) -> Vec<FieldSite> {
        let field = self.field.lock().unwrap_or_else(|e| e.into_inner());
        field.sites.clone()
    }

    /// Verifies (pinned policy key, this device's employee) and installs
    /// the personal addendum; None removes it (nothing approved any more).
    pub fn install_addendum(
        &self,
        device: &DeviceContext,
        signed: Option<&SignedAddendum>,
    ) -> Result<()> {
        let sites = match signed {
            Some(signed) => {
                let key = self.pinned_key.as_ref().ok_or(PunchError::NotConfigured)?;
                signing::verify(key, &signed.body, &signed.signature)
                    .map_err(|_| PunchError::Addendum("signature does not verify".into()))?;
                let addendum: PersonalAddendum = serde_json::from_slice(&signed.body)
                    .map_err(|e| PunchError::Addendum(format!("malformed: {e}")))?;
                let employee = device.employee_id()?;
                if employee.as_deref() != Some(addendum.employee_id.as_str()) {
                    return Err(PunchError::Addendum(format!(
                        "it is for employee {:?}",
                        addendum.employee_id
                    )));
                }
                addendum.field_sites
            }
            None => Vec::new(),
        };
        // Lock order: field sites, then database.
        let mut field = self.field.lock().unwrap_or_else(|e| e.into_inner());
        device.db.save_addendum(
            signed.map(|s| (s.body.as_slice(), s.signature.as_slice())),
            device.now().wall_time_ms,
        )?;
        field.sites = sites;
        field.prepared = None;
        Ok(())
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
        let snapshot = prepared.snapshot().ok();
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
        device
            .db
            .save_policy(&row, snapshot.as_deref(), now.wall_time_ms)?;
        *slot = Slot::Ready(prepared);
        Ok(version)
    }
}
