//! The employee's side of privacy on the phone: acknowledging the policy's
//! notice, and the exact evidence behind a minimised record (its opening),
//! which only the employee may choose to reveal.

use punch_model::ledger::record::NoticeAck;
use punch_model::ledger::sealed::DataKey;
use punch_model::rules::policy::PolicyError;
use punch_model::rules::privacy::PrivacySettingsError;
use punch_model::wire::privacy::RevealResponse;

use std::sync::Arc;

use crate::data_key::{DataKeyStatus, KeyWrapper};
use crate::device::DeviceContext;
use crate::error::{PunchError, Result};
use crate::installed_policy::InstalledPolicy;
use crate::recorder::{SEALED_OPENING, opening_context};
use crate::store::Sealing;
use crate::sync::syncer::Syncer;

/// What a retention purge removed from the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurgeReport {
    /// Acknowledged records whose bytes were removed (their hashes stay).
    pub records: u64,
    /// Openings of evidence commitments removed with them.
    pub openings: u64,
}

/// The employee's privacy behind the engine: the notice, evidence
/// openings, the data key at rest, retention and the personal export.
pub(crate) struct PrivacyService {
    pub(crate) device: Arc<DeviceContext>,
    pub(crate) policy: Arc<InstalledPolicy>,
    pub(crate) sync: Arc<Syncer>,
    pub(crate) key_wrapper: Option<Arc<dyn KeyWrapper>>,
}

impl PrivacyService {
    /// The notice version the installed policy asks the employee to see,
    /// while it is not acknowledged (None: nothing to show).
    pub(crate) fn notice_required(&self) -> Result<Option<String>> {
        let policy = match self.policy.current(&self.device.db) {
            Ok(policy) => policy,
            Err(PunchError::NoPolicy) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(required) = policy.policy.settings.privacy().notice_version else {
            return Ok(None);
        };
        let acked = self.device.db.notice_ack()?;
        Ok((acked.map(|a| a.version).as_ref() != Some(&required)).then_some(required))
    }

    /// Records that the employee saw notice `version` (the app showed it);
    /// the next punch under a policy naming it carries the acknowledgement.
    pub(crate) fn acknowledge_notice(&self, version: &str) -> Result<()> {
        if version.is_empty() || version.len() > 64 || version.chars().any(char::is_control) {
            return Err(PolicyError::Privacy(PrivacySettingsError::BadNoticeVersion).into());
        }
        let ack = NoticeAck {
            version: version.to_string(),
            acknowledged_at_ms: self.device.trusted_now_ms(),
        };
        self.device.db.acknowledge_notice(&ack)
    }

    /// The opening of the evidence commitment of the record at `seq`: the
    /// exact evidence the policy kept off the record, for the employee to
    /// reveal (None: the record keeps all of it, or it was purged).
    pub(crate) fn evidence_opening(&self, seq: u64) -> Result<Option<Vec<u8>>> {
        self.device.db.with_store(|store| {
            let Some(stored) = store.evidence_opening(seq)? else {
                return Ok(None);
            };
            let Some(sealed) = stored.strip_prefix(SEALED_OPENING) else {
                return Ok(Some(stored));
            };
            match store.sealing() {
                Sealing::Ready(key) => key
                    .open_bytes(&opening_context(seq), sealed)
                    .map(Some)
                    .map_err(|e| PunchError::DataKeyUnavailable {
                        detail: e.to_string(),
                    }),
                Sealing::Unavailable { reason, .. } => {
                    Err(PunchError::DataKeyUnavailable { detail: reason })
                }
                Sealing::Off => Err(PunchError::DataKeyUnavailable {
                    detail: "the opening is sealed but no key wrapper is configured".into(),
                }),
            }
        })
    }

    /// Reveals the exact evidence of the record at `seq` to the server (the
    /// employee's choice, to settle a dispute): the server checks it against
    /// the signed commitment and answers what review finds on it.
    pub(crate) fn reveal_evidence(&self, seq: u64) -> Result<RevealResponse> {
        let opening = self
            .evidence_opening(seq)?
            .ok_or(PunchError::NothingToReveal { seq })?;
        self.sync.reveal(seq, opening)
    }
}

impl PrivacyService {
    pub(crate) fn data_key_status(&self) -> DataKeyStatus {
        match self.device.db.sealing() {
            Sealing::Off => DataKeyStatus::Off,
            Sealing::Ready(k) => DataKeyStatus::Ready { key_id: k.id() },
            Sealing::Unavailable { key_id, reason } => {
                DataKeyStatus::Unavailable { key_id, reason }
            }
        }
    }

    /// After the platform lost its key: a new data key for new records.
    /// Records sealed under the lost key stay stored, verified and uploaded
    /// (the server holds that key); only this phone can no longer read them.
    pub(crate) fn rotate_data_key(&self) -> Result<String> {
        let Some(wrapper) = self.key_wrapper.clone() else {
            return Err(PunchError::DataKeyUnavailable {
                detail: "no key wrapper is configured: records are not sealed".into(),
            });
        };
        let key = DataKey::generate().map_err(|e| PunchError::CorruptState(e.to_string()))?;
        // Foreign code, with no lock held.
        let wrapped = wrapper
            .wrap(key.as_bytes())
            .map_err(|e| PunchError::DataKeyUnavailable {
                detail: e.to_string(),
            })?;
        let id = key.id();
        self.device.db.with_store(|store| {
            store.save_wrapped_data_key(&id, &wrapped)?;
            store.set_sealing(Sealing::Ready(key));
            Ok(id)
        })
    }

    /// Purges records the server acknowledged more than the policy's
    /// `privacy.phone_retention_days` ago (by trusted time), keeping their
    /// hashes so the chain still verifies. Never a pending record, never the
    /// newest. Runs after every successful sync; a no-op without the setting.
    pub(crate) fn purge_expired(&self) -> Result<PurgeReport> {
        let days = match self.policy.current(&self.device.db) {
            Ok(policy) => policy.policy.settings.privacy().phone_retention_days,
            Err(PunchError::NoPolicy) => None,
            Err(e) => return Err(e),
        };
        let Some(days) = days else {
            return Ok(PurgeReport::default());
        };
        let before = self
            .device
            .trusted_now_ms()
            .saturating_sub(i64::from(days).saturating_mul(86_400_000));
        let (records, openings) = self.device.db.purge_acknowledged(before)?;
        Ok(PurgeReport { records, openings })
    }
}
