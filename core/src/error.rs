//! The one error an app sees. Internal failures (SQLite, the network, the
//! platform's key) are mapped to these variants here, in one place, so every
//! variant says what the app can do and no library type leaks into it.

use punch_model::ledger::chain::ChainProblem;
use punch_model::ledger::signing::SignerError;
use punch_model::rules::evaluate::Evaluation;
use punch_model::rules::evidence::EvidenceError;
use punch_model::rules::field_work::FieldWorkError;
use punch_model::rules::makeup::MakeUpRefusal;
use punch_model::rules::policy::PolicyError;

use crate::net::transport::TransportError;
use crate::sync::SyncError;

// Exhaustive on purpose: the bindings map every variant without a
// wildcard, so a new one fails their build instead of reaching apps unmapped.
#[derive(Debug, thiserror::Error)]
pub enum PunchError {
    #[error("invalid evidence: {0}")]
    Evidence(#[from] EvidenceError),
    #[error("invalid policy: {0}")]
    Policy(#[from] PolicyError),
    #[error("no server is configured for this engine")]
    NotConfigured,
    #[error("sync: {0}")]
    Sync(#[from] SyncError),
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
    #[error("other punches kept being stored at the same moment; try again")]
    Busy,
    #[error("database: {0}")]
    Storage(String),
    #[error("database schema version {found} is newer than this library supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("stored data is corrupt at record {seq}: {problem}")]
    Corrupt { seq: u64, problem: ChainProblem },
    #[error("stored data is corrupt: {0}")]
    CorruptState(String),
    #[error(
        "the employee has not acknowledged privacy notice {version:?}; show it and call acknowledge_notice"
    )]
    NoticeNotAcknowledged { version: String },
    #[error(
        "record {seq} keeps all its evidence, or its hidden evidence was purged: nothing to reveal"
    )]
    NothingToReveal { seq: u64 },
    /// The platform cannot unwrap the data key (see `data_key`): stored
    /// records are kept and still upload; new punches wait for
    /// `rotate_data_key`.
    #[error(
        "the data key is unavailable ({detail}); stored records still upload; call rotate_data_key to punch again"
    )]
    DataKeyUnavailable { detail: String },
    #[error("PIN: {0}")]
    Pin(#[from] crate::pin::PinError),
    /// A make-up request the policy's limits refuse (see its `code()`).
    #[error("make-up request refused: {0}")]
    MakeUp(#[from] MakeUpRefusal),
    #[error("field-work proposal refused: {0}")]
    FieldWork(#[from] FieldWorkError),
    /// A make-up request names a refused attempt or a file this device does not hold.
    #[error("unknown {what} {id:?} on this device")]
    UnknownReference { what: &'static str, id: String },
    #[error("personal addendum refused: {0}")]
    Addendum(String),
    #[error("this device's keys have signed records already and cannot be replaced")]
    KeysInUse,
    /// Enrollment stopped here, before anything was sent (see `EnrollError`).
    #[error("enrollment: {0}")]
    Enrollment(#[from] EnrollError),
}

pub type Result<T> = std::result::Result<T, PunchError>;

impl From<rusqlite::Error> for PunchError {
    fn from(e: rusqlite::Error) -> Self {
        PunchError::Storage(e.to_string())
    }
}

impl From<punch_sqlite::MigrateError> for PunchError {
    fn from(e: punch_sqlite::MigrateError) -> Self {
        match e {
            punch_sqlite::MigrateError::SchemaTooNew { found, supported } => {
                PunchError::SchemaTooNew { found, supported }
            }
            other => PunchError::Storage(other.to_string()),
        }
    }
}

impl From<TransportError> for PunchError {
    fn from(e: TransportError) -> Self {
        PunchError::Sync(SyncError::Network {
            message: e.to_string(),
        })
    }
}

/// Why the engine will not enroll with the keys it has (nothing is sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrollError {
    /// The employer's policy needs the key attested (`min_assurance`) and
    /// the platform gave no attestation: enrolling would only be refused,
    /// or — under a lax server — pass as a software key unnoticed.
    #[error(
        "the employer requires the {role:?} key attested at {required:?} or better, and the platform gave no attestation for it"
    )]
    AttestationRequired {
        role: punch_model::ledger::key_rotation::KeyRole,
        required: punch_model::rules::assurance::AssuranceLevel,
    },
    /// The server offered no attestation challenge (a server from before
    /// attestation): platform keys cannot be attested for it.
    #[error("the server offers no attestation challenge")]
    NoChallenge,
}
