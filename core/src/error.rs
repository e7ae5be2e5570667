//! The error a caller of the engine sees.

use crate::chain::ChainProblem;
use crate::evaluate::Evaluation;
use crate::evidence::EvidenceError;
use crate::policy::PolicyError;
use crate::signer::SignerError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PunchError {
    #[error("invalid evidence: {0}")]
    Evidence(#[from] EvidenceError),
    #[error("invalid policy: {0}")]
    Policy(#[from] PolicyError),
    #[error("no server is configured for this engine")]
    NotConfigured,
    #[error("sync: {0}")]
    Sync(#[from] crate::sync::SyncError),
    #[error("policy signature does not verify with the pinned server key")]
    PolicySignature,
    #[error("no policy installed yet: sync or install one first")]
    NoPolicy,
    #[error("policy version {offered} is older than the installed {installed} (rollback refused)")]
    PolicyRollback { offered: u64, installed: u64 },
    #[error("no employee is bound to this device yet")]
    NoEmployee,
    #[error("this device is bound to employee {bound:?}, not {requested:?}")]
    EmployeeMismatch { bound: String, requested: String },
    #[error("punch refused: {}", .0.reasons.join("; "))]
    Refused(Box<Evaluation>),
    #[error("device key: {0}")]
    Signer(#[from] SignerError),
    #[error("the signer's public key is not the key this device was created with")]
    DeviceKeyMismatch,
    #[error("database: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("database schema version {found} is newer than this library supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("stored data is corrupt at record {seq}: {problem}")]
    Corrupt { seq: u64, problem: ChainProblem },
    #[error("stored data is corrupt: {0}")]
    CorruptState(String),
}

pub type Result<T> = std::result::Result<T, PunchError>;
