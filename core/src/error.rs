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
/// Everything the engine returns as an error; each variant's message says
/// what happened and, where the app can act, what to do.
pub enum PunchError {
    #[error("invalid evidence: {0}")]
    /// The platform's evidence is malformed.
    Evidence(#[from] EvidenceError),
    #[error("invalid policy: {0}")]
    /// The policy is malformed, expired or refused.
    Policy(#[from] PolicyError),
    #[error("no server is configured for this engine")]
    /// The call needs a server and none is configured.
    NotConfigured,
    #[error("sync: {0}")]
    /// The server exchange failed.
    Sync(#[from] SyncError),
    #[error("policy signature does not verify with the pinned server key")]
    /// The policy's signature does not verify with the pinned key.
    PolicySignature,
    #[error("no policy installed yet: sync or install one first")]
    /// No policy is installed yet.
    NoPolicy,
    #[error("policy version {offered} is older than the installed {installed} (rollback refused)")]
    /// A policy older than the installed one (a rollback).
    PolicyRollback {
        /// The refused version.
        offered: u64,
        /// The version in force.
        installed: u64,
    },
    #[error("no employee is bound to this device yet")]
    /// The device is not bound to an employee yet.
    NoEmployee,
    #[error("this device is bound to employee {bound:?}, not {requested:?}")]
    /// The device is bound to another employee.
    EmployeeMismatch {
        /// The employee the device is bound to.
        bound: String,
        /// The employee asked for.
        requested: String,
    },
    #[error("punch refused: {}", .0.reasons.join("; "))]
    /// The rules refused the punch (stored as evidence); the evaluation says why.
    Refused(Box<Evaluation>),
    #[error("device key: {0}")]
    /// The platform signer failed.
    Signer(#[from] SignerError),
    #[error("the signer's public key is not the key this device was created with")]
    /// The platform signer holds another key than the device's.
    DeviceKeyMismatch,
    #[error("other punches kept being stored at the same moment; try again")]
    /// The punch could not be stored in a few tries, or a signer re-entered the engine.
    Busy,
    #[error("database: {0}")]
    /// The database failed.
    Storage(String),
    #[error("database schema version {found} is newer than this library supports ({supported})")]
    /// The database was written by a newer library.
    SchemaTooNew {
        /// Its schema version.
        found: i64,
        /// The newest this library reads.
        supported: i64,
    },
    #[error("stored data is corrupt at record {seq}: {problem}")]
    /// A stored record fails its checks.
    Corrupt {
        /// The record.
        seq: u64,
        /// What is wrong with it.
        problem: ChainProblem,
    },
    #[error("stored data is corrupt: {0}")]
    /// Other stored state is unreadable.
    CorruptState(String),
    #[error(
        "the employee has not acknowledged privacy notice {version:?}; show it and call acknowledge_notice"
    )]
    /// The policy requires its privacy notice acknowledged first.
    NoticeNotAcknowledged {
        /// The notice to show.
        version: String,
    },
    #[error(
        "record {seq} keeps all its evidence, or its hidden evidence was purged: nothing to reveal"
    )]
    /// The record has no hidden evidence to reveal.
    NothingToReveal {
        /// The record.
        seq: u64,
    },
    /// The platform cannot unwrap the data key (see `data_key`): stored
    /// records are kept and still upload; new punches wait for
    /// `rotate_data_key`.
    #[error(
        "the data key is unavailable ({detail}); stored records still upload; call rotate_data_key to punch again"
    )]
    DataKeyUnavailable {
        /// What the platform said.
        detail: String,
    },
    #[error("PIN: {0}")]
    /// A PIN call did not go through.
    Pin(#[from] crate::pin::PinError),
    /// A make-up request the policy's limits refuse (see its `code()`).
    #[error("make-up request refused: {0}")]
    MakeUp(#[from] MakeUpRefusal),
    #[error("field-work proposal refused: {0}")]
    /// A field-work proposal the policy refuses.
    FieldWork(#[from] FieldWorkError),
    /// A fault report (or a make-up request's citation of one) is refused:
    /// an unknown kind, an oversized description...
    #[error("fault report refused: {0}")]
    Fault(#[from] punch_model::ledger::fault::FaultRefusal),
    /// A make-up request names a refused attempt or a file this device does not hold.
    #[error("unknown {what} {id:?} on this device")]
    UnknownReference {
        /// What kind of thing (`refused attempt`, `attachment`).
        what: &'static str,
        /// The id named.
        id: String,
    },
    #[error("personal addendum refused: {0}")]
    /// The personal addendum from the server does not verify.
    Addendum(String),
    #[error("this device's keys have signed records already and cannot be replaced")]
    /// The keys have signed records already: they cannot be replaced.
    KeysInUse,
    /// Enrollment stopped here, before anything was sent (see `EnrollError`).
    #[error("enrollment: {0}")]
    Enrollment(#[from] EnrollError),
    /// The policy requires a photo for this punch (`reasons` say why):
    /// nothing was stored; take one and punch again with it.
    #[error("a photo is required for this punch ({reasons:?}): take one and punch again")]
    PhotoRequired {
        /// Why (every punch, or the risks that fired).
        reasons: Vec<punch_model::rules::photo::PhotoReason>,
    },
    /// The photo given with a punch is unusable (too large, empty, not an
    /// image type): nothing was stored.
    #[error("photo refused: {0}")]
    Photo(#[from] punch_model::rules::photo::PhotoError),
}

/// The engine's result.
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
        PunchError::Sync(e.into())
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
        /// Which key.
        role: punch_model::ledger::key_rotation::KeyRole,
        /// The level the employer requires.
        required: punch_model::rules::assurance::AssuranceLevel,
    },
    /// The server offered no attestation challenge (a server from before
    /// attestation): platform keys cannot be attested for it.
    #[error("the server offers no attestation challenge")]
    NoChallenge,
}
