//! `PunchEngine`: the one entry point an app holds. Opened on a database
//! path, shared between threads; every punch is on disk before `punch` returns.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;
use uuid::Uuid;

use crate::chain::{ChainReport, ChainWalker};
use crate::clock::{Clock, ClockReading, SystemClock};
use crate::error::{PunchError, Result};
use crate::evaluate::{Decision, Evaluation, PreviousFix, evaluate};
use crate::evidence::{Evidence, ValidEvidence};
use crate::policy::{Policy, PreparedPolicy};
use crate::record::{
    GENESIS_HASH, PunchKind, PunchRecord, RECORD_FORMAT, RecordedEvidence, TimeAnchor,
};
use crate::signer::{Signer, SoftwareSigner, sha256};
use crate::store::{self, DeviceRow, NewPunchRow, PolicyRow, StoredPunch};
use crate::sync::{META_ANCHOR, ServerConfig, SyncListener};
use crate::transport::Transport;

const META_HEAD_SEQ: &str = "head_seq";
const META_LAST_FIX: &str = "last_fix";

/// How to open an engine; the defaults suit a plain Rust host.
pub struct EngineOptions {
    /// A platform key (Keystore / Secure Enclave); None keeps a software key in the database.
    pub signer: Option<Arc<dyn Signer>>,
    pub clock: Arc<dyn Clock>,
    /// The server to enroll with and sync to; None for a local-only engine.
    pub server: Option<ServerConfig>,
    /// HTTP for sync; None uses the built-in reqwest transport.
    pub transport: Option<Arc<dyn Transport>>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            signer: None,
            clock: Arc::new(SystemClock::default()),
            server: None,
            transport: None,
        }
    }
}

/// Who this device is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub device_id: String,
    /// P-256 SubjectPublicKeyInfo DER.
    pub public_key_spki: Vec<u8>,
    pub employee_id: Option<String>,
}

/// What `punch` returns once the record is durable.
#[derive(Debug, Clone, PartialEq)]
pub struct PunchReceipt {
    pub punch_id: Uuid,
    pub seq: u64,
    pub kind: PunchKind,
    pub wall_time_ms: i64,
    pub evaluation: Evaluation,
    /// Hex SHA-256 of the stored record bytes.
    pub record_hash: String,
}

pub(crate) struct Inner {
    pub(crate) conn: Connection,
    policy: Option<Arc<PreparedPolicy>>,
}

pub struct PunchEngine {
    inner: Mutex<Inner>,
    pub(crate) signer: Arc<dyn Signer>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) device_id: String,
    pub(crate) public_key: Vec<u8>,
    pub(crate) software_key: bool,
    pub(crate) server: Option<ServerConfig>,
    pub(crate) transport: Mutex<Option<Arc<dyn Transport>>>,
    /// One upload at a time.
    pub(crate) sync_lock: Mutex<()>,
    /// Serialises read-modify-write of the persisted sync state.
    pub(crate) state_lock: Mutex<()>,
    pub(crate) listener: Mutex<Option<Arc<dyn SyncListener>>>,
    /// The newest policy version the server mentioned.
    pub(crate) policy_hint: Mutex<Option<u64>>,
    pub(crate) wakeup: crate::background::Wakeup,
}

impl PunchEngine {
    /// Opens (or creates) the device database at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<PunchEngine> {
        Self::open_with(path, EngineOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, options: EngineOptions) -> Result<PunchEngine> {
        let conn = store::open(path.as_ref())?;
        let now = options.clock.now().wall_time_ms;
        let (device, signer) = match store::load_device(&conn)? {
            Some(row) => {
                let signer: Arc<dyn Signer> = match (&options.signer, &row.key_pkcs8) {
                    (Some(s), _) => s.clone(),
                    (None, Some(pkcs8)) => Arc::new(SoftwareSigner::from_pkcs8(pkcs8)?),
                    (None, None) => {
                        return Err(PunchError::CorruptState(
                            "device key is held by a platform signer, but none was given".into(),
                        ));
                    }
                };
                if signer.public_key_spki()? != row.public_key {
                    return Err(PunchError::DeviceKeyMismatch);
                }
                (row, signer)
            }
            None => {
                let (signer, pkcs8): (Arc<dyn Signer>, Option<Vec<u8>>) = match &options.signer {
                    Some(s) => (s.clone(), None),
                    None => {
                        let (s, pkcs8) = SoftwareSigner::generate()?;
                        (Arc::new(s), Some(pkcs8))
                    }
                };
                let row = DeviceRow {
                    device_id: Uuid::new_v4().to_string(),
                    public_key: signer.public_key_spki()?,
                    key_pkcs8: pkcs8,
                    employee_id: None,
                };
                store::insert_device(&conn, &row, now)?;
                (row, signer)
            }
        };
        let policy = match store::load_policy(&conn)? {
            Some(row) => {
                let policy = Policy::from_json(&row.body)?;
                Some(Arc::new(PreparedPolicy::new(policy)?))
            }
            None => None,
        };
        if let Some(server) = &options.server {
            crate::transport::check_url_allowed(&server.base_url)?;
            crate::signer::point_from_public_key(&server.policy_public_key)?;
        }
        Ok(PunchEngine {
            inner: Mutex::new(Inner { conn, policy }),
            signer,
            clock: options.clock,
            device_id: device.device_id,
            public_key: device.public_key,
            software_key: device.key_pkcs8.is_some(),
            server: options.server,
            transport: Mutex::new(options.transport),
            sync_lock: Mutex::new(()),
            state_lock: Mutex::new(()),
            listener: Mutex::new(None),
            policy_hint: Mutex::new(None),
            wakeup: crate::background::Wakeup::default(),
        })
    }

    /// A poisoned lock only means another thread panicked mid-call; SQLite's
    /// transaction already rolled back, so the connection is still sound.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn device(&self) -> Result<DeviceInfo> {
        let inner = self.lock();
        let row = store::load_device(&inner.conn)?
            .ok_or_else(|| PunchError::CorruptState("device row vanished".into()))?;
        Ok(DeviceInfo {
            device_id: self.device_id.clone(),
            public_key_spki: self.public_key.clone(),
            employee_id: row.employee_id,
        })
    }

    /// Binds this device to an employee; once bound, only the same id is accepted.
    pub fn set_employee(&self, employee_id: &str) -> Result<()> {
        let inner = self.lock();
        let row = store::load_device(&inner.conn)?
            .ok_or_else(|| PunchError::CorruptState("device row vanished".into()))?;
        match row.employee_id {
            Some(bound) if bound != employee_id => Err(PunchError::EmployeeMismatch {
                bound,
                requested: employee_id.to_string(),
            }),
            Some(_) => Ok(()),
            None => store::set_employee(&inner.conn, employee_id),
        }
    }

    /// Installs a policy. With a server configured, `signature` must verify
    /// with the pinned policy key. Refused: a lower version than the installed
    /// one (rollback), and an expired one (freeze), judged by trusted time.
    pub fn install_policy_json(&self, body: &[u8], signature: Option<&[u8]>) -> Result<u64> {
        if let Some(server) = &self.server {
            let sig = signature.ok_or(PunchError::PolicySignature)?;
            crate::signer::verify(&server.policy_public_key, body, sig)
                .map_err(|_| PunchError::PolicySignature)?;
        }
        let policy = Policy::from_json(body)?;
        let version = policy.version;
        policy.check_not_expired(self.trusted_now_ms())?;
        let prepared = PreparedPolicy::new(policy)?;
        let now = self.clock.now().wall_time_ms;
        let mut inner = self.lock();
        if let Some(current) = &inner.policy
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
        store::save_policy(&inner.conn, &row, now)?;
        inner.policy = Some(Arc::new(prepared));
        Ok(version)
    }

    /// Now, by the best clock available: anchored server time within this
    /// boot, else the device's wall clock.
    /// After a reboot (no usable anchor) the wall clock is used, but never
    /// earlier than the last server time seen: winding the clock back cannot
    /// revive an expired policy.
    pub fn trusted_now_ms(&self) -> i64 {
        let anchor: Option<TimeAnchor> = store::get_meta(&self.lock().conn, META_ANCHOR)
            .ok()
            .flatten()
            .and_then(|t| serde_json::from_str(&t).ok());
        trusted_time_at(anchor.as_ref(), &self.clock.now())
    }

    pub fn policy_version(&self) -> Option<u64> {
        self.lock().policy.as_ref().map(|p| p.policy.version)
    }

    fn current_policy(&self) -> Result<Arc<PreparedPolicy>> {
        self.lock().policy.clone().ok_or(PunchError::NoPolicy)
    }

    /// Judges evidence without recording anything: instant feedback for the UI.
    pub fn evaluate(&self, evidence: &Evidence) -> Result<Evaluation> {
        let valid = evidence.validate()?;
        let policy = self.current_policy()?;
        let inner = self.lock();
        Ok(self.judge(&inner.conn, &policy, &valid)?.0)
    }

    /// The judgement a punch would get now, read through `conn` (inside the
    /// punch's write transaction, or plainly for a preview). The policy must
    /// not have expired by trusted time.
    fn judge(
        &self,
        conn: &Connection,
        policy: &PreparedPolicy,
        valid: &ValidEvidence,
    ) -> Result<(Evaluation, Option<TimeAnchor>, ClockReading)> {
        let anchor: Option<TimeAnchor> =
            store::get_meta(conn, META_ANCHOR)?.and_then(|t| serde_json::from_str(&t).ok());
        let now = self.clock.now();
        policy
            .policy
            .check_not_expired(trusted_time_at(anchor.as_ref(), &now))?;
        // A corrupt hint only disables the travel check; it never blocks a punch.
        let previous: Option<PreviousFix> =
            store::get_meta(conn, META_LAST_FIX)?.and_then(|t| serde_json::from_str(&t).ok());
        let evaluation = evaluate(policy, valid, now.wall_time_ms, previous.as_ref());
        Ok((evaluation, anchor, now))
    }

    /// Takes a punch: validates and judges the evidence, then signs and
    /// durably stores the record. A rejected punch is not stored; the error
    /// carries the full evaluation so the employee sees why.
    pub fn punch(&self, kind: PunchKind, evidence: &Evidence) -> Result<PunchReceipt> {
        let valid = evidence.validate()?;
        let policy = self.current_policy()?;
        let mut inner = self.lock();
        // Every read happens inside the one write transaction: one lock
        // round-trip per punch, and a consistent view of head, anchor and fix.
        let tx = inner
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let employee_id = store::load_device(&tx)?
            .and_then(|d| d.employee_id)
            .ok_or(PunchError::NoEmployee)?;
        let (evaluation, anchor, now) = self.judge(&tx, &policy, &valid)?;
        if evaluation.decision == Decision::Rejected {
            return Err(PunchError::Refused(Box::new(evaluation)));
        }
        let recorded = recorded_evidence(&valid, &policy, &evaluation);
        let (last, prev_hash) = match store::head(&tx)? {
            Some((seq, hash)) => (seq, hex::encode(hash)),
            None => (0, GENESIS_HASH.to_string()),
        };
        // Past the recorded head too: a deleted last record leaves a visible gap.
        let recorded_head: u64 = store::get_meta(&tx, META_HEAD_SEQ)?
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let seq = last.max(recorded_head).saturating_add(1);
        let record = PunchRecord {
            format: RECORD_FORMAT,
            punch_id: Uuid::new_v4(),
            device_id: self.device_id.clone(),
            employee_id,
            seq,
            kind,
            wall_time_ms: now.wall_time_ms,
            utc_offset_min: now.utc_offset_min,
            monotonic_ms: now.monotonic_ms,
            boot_id: now.boot_id.clone(),
            anchor,
            policy_version: policy.policy.version,
            evidence: recorded,
            evaluation,
            prev_hash,
        };
        let bytes = record
            .to_bytes()
            .map_err(|e| PunchError::CorruptState(format!("record encoding: {e}")))?;
        let signature = self.signer.sign(&bytes)?;
        let hash = sha256(&bytes);
        let punch_id = record.punch_id.to_string();
        let kind_text = enum_text(&record.kind);
        let decision_text = enum_text(&record.evaluation.decision);
        store::insert_punch(
            &tx,
            &NewPunchRow {
                seq,
                punch_id: &punch_id,
                record: &bytes,
                signature: &signature,
                hash: &hash,
                kind: &kind_text,
                wall_time_ms: record.wall_time_ms,
                decision: &decision_text,
            },
            now.wall_time_ms,
        )?;
        store::set_meta(&tx, META_HEAD_SEQ, &seq.to_string())?;
        if let Some(fix) = &record.evidence.gps {
            let last = PreviousFix {
                point: fix.point,
                accuracy_m: fix.accuracy_m,
                fix_time_ms: fix.fix_time_ms,
            };
            let text = serde_json::to_string(&last)
                .map_err(|e| PunchError::CorruptState(e.to_string()))?;
            store::set_meta(&tx, META_LAST_FIX, &text)?;
        }
        // synchronous=FULL: the WAL is fsynced before commit returns.
        tx.commit()?;
        drop(inner);
        self.wake_background();
        self.notify_status();
        Ok(PunchReceipt {
            punch_id: record.punch_id,
            seq,
            kind,
            wall_time_ms: record.wall_time_ms,
            evaluation: record.evaluation,
            record_hash: hex::encode(hash),
        })
    }

    /// Stored punches after `after_seq`, oldest first (the queue).
    pub fn punches(&self, after_seq: u64, limit: usize) -> Result<Vec<StoredPunch>> {
        store::punches_after(&self.lock().conn, after_seq, limit)
    }

    pub fn pending_count(&self) -> Result<u64> {
        store::count_by_state(&self.lock().conn, "pending")
    }

    /// Re-checks every stored record: hash, signature, sequence, links.
    pub fn verify_chain(&self) -> Result<ChainReport> {
        let inner = self.lock();
        let mut walker = ChainWalker::new(&self.public_key, &self.device_id);
        store::for_each_punch(&inner.conn, |p| {
            walker.next(p.seq, &p.record, &p.signature, &p.hash);
            Ok(())
        })?;
        let head = store::get_meta(&inner.conn, META_HEAD_SEQ)?.and_then(|t| t.parse().ok());
        Ok(walker.finish(head))
    }
}

/// Anchored server time within the anchor's boot; otherwise the wall clock,
/// but never earlier than the last server time seen.
pub(crate) fn trusted_time_at(
    anchor: Option<&TimeAnchor>,
    now: &crate::clock::ClockReading,
) -> i64 {
    match anchor {
        Some(a) if a.boot_id == now.boot_id && now.monotonic_ms >= a.monotonic_ms => {
            let elapsed = i64::try_from(now.monotonic_ms - a.monotonic_ms).unwrap_or(i64::MAX);
            a.server_time_ms.saturating_add(elapsed)
        }
        Some(a) => now.wall_time_ms.max(a.server_time_ms),
        None => now.wall_time_ms,
    }
}

/// The serde name of a unit enum variant ("clock_in", "review"...).
fn enum_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Keeps only the evidence a reviewer needs (privacy by minimisation).
fn recorded_evidence(
    valid: &ValidEvidence,
    policy: &PreparedPolicy,
    evaluation: &Evaluation,
) -> RecordedEvidence {
    let judged: Vec<&crate::policy::PreparedSite> = evaluation
        .sites
        .iter()
        .filter_map(|r| policy.sites.iter().find(|s| s.site.id == r.site_id))
        .collect();
    let wifi_matched = valid
        .wifi
        .iter()
        .filter(|w| {
            judged.iter().any(|s| {
                s.site.wifi.bssids.contains(&w.bssid)
                    || w.ssid
                        .as_ref()
                        .is_some_and(|x| s.site.wifi.ssids.contains(x))
            })
        })
        .map(|w| match &w.ssid {
            Some(ssid) => format!("{} {ssid}", w.bssid),
            None => w.bssid.to_string(),
        })
        .collect();
    let ip_matched = valid
        .ips
        .iter()
        .filter(|ip| {
            judged
                .iter()
                .any(|s| s.site.cidrs.iter().any(|c| c.contains(**ip)))
        })
        .map(|ip| ip.to_string())
        .collect();
    RecordedEvidence {
        gps: valid.gps.clone(),
        wifi_matched,
        wifi_seen: valid.wifi.len(),
        ip_matched,
        ip_seen: valid.ips.len(),
    }
}
