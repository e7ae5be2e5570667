//! punch-server: the reference punch server, the contract every employer
//! backend follows. Devices enroll with a one-time code, fetch a signed
//! policy and the server's time, and upload signed, hash-chained punch
//! records that are verified and stored exactly once, with the server's
//! judgement of when each punch really happened.
//!
//! In-process use (tests, demos): [`ServerHandle::start`] runs the HTTP
//! server on its own thread; [`Admin`] manages the same database. The
//! database is SQLite by default or PostgreSQL ([`DbUrl`]); any number of
//! server processes may share a PostgreSQL database.
//! The wire contract is `punch_model::wire`, documented in `openapi.json`.

mod admin;
mod admin_api;
mod api;
mod app;
// Unused since the modules went private, in files other work owns now:
// `expect` fails once they are used or gone, so these lines go with them.
// The store's and at-rest layer's docs also link to items now private to
// them (fine for readers of the code; `internal` shows none of it).
#[expect(dead_code, reason = "SealedStore::keys has no caller")]
#[allow(rustdoc::private_intra_doc_links)]
mod at_rest;
mod attestation;
mod audit;
mod auth;
mod browser;
mod chain_reset;
mod clock;
mod config;
mod device_approval;
mod enroll;
mod error;
mod evidence;
mod export;
mod faults;
mod forgotten;
#[expect(dead_code, reason = "heads::contradicts has no caller")]
mod heads;
mod ingest;
mod key_rotation;
mod limits;
mod metrics;
mod photos;
mod pin;
mod policy_cache;
mod policy_publish;
mod privacy;
mod requests;
mod server;
mod staff;
#[allow(rustdoc::private_intra_doc_links)]
mod store;
mod stored_hash;
mod time_token;
mod web;

// The public interface, by who needs it. Every module is private: what
// another crate may name is listed here (rustls's lib.rs is the model), so
// a change inside a module cannot widen the surface by accident.

// Running a server: the binary, the e2e crate (`tests/`), the CLI's demos.
pub use config::{LogFormat, Overrides, load as load_config};
pub use limits::{Limits, RateRule};
pub use pin::CodeDelivery;
pub use server::{ServerConfig, ServerHandle};

// Its database: the `admin` commands and everything that sets up a server.
pub use admin::Admin;
pub use at_rest::{AtRestError, AtRestKeys};
pub use attestation::{AttestationConfig, ExpiredRootPolicy};
pub use browser::revoke::PasskeyView;
pub use device_approval::DeviceSlots;
pub use error::{Result, ServerError};
pub use policy_publish::Schedule;
pub use privacy::retention::Retention;
pub use staff::account::NewStaff;
pub use staff::lifecycle::{Change as StaffChange, needs_totp_enrolment};
pub use staff::{Permission, Role};
pub use store::postgres::PostgresStore;
pub use store::sqlite::{SqliteStore, backup as backup_sqlite};
pub use store::{DbUrl, DeviceInfo, RejectedInfo, ServerStore, StoreExt, StoredPunchInfo};

/// The time every judgement uses (Unix ms), for callers that must agree
/// with the server on "now".
pub use clock::now_ms;

/// What one run of forgotten clock-out detection did (`Admin::detect_forgotten_clock_outs`).
pub use forgotten::SweepReport;

/// The HTTP API's own paths beyond `punch_model::wire`'s device routes:
/// operations, the reviewer page, the admin API. `openapi.json` documents
/// them; its test checks each against these.
pub mod routes {
    pub use crate::api::{PATH_HEALTHZ, PATH_METRICS, PATH_READYZ};
    /// Every (method, path) the server answers.
    pub use crate::app::routes as all;
    pub use crate::web::{PATH_PAGE, PATH_SCRIPT, PATH_STYLE};

    /// The admin API (`/admin/v1/…`) and its permission table.
    pub mod admin {
        pub use crate::admin_api::{
            AdminRoute, PATH_ACK_BREAK, PATH_ATTENDANCE, PATH_AUDIT, PATH_AUDIT_VERIFY,
            PATH_CHAIN_BREAKS, PATH_DEVICE_SLOTS, PATH_DEVICES, PATH_EMPLOYEES, PATH_EXTRA_DEVICE,
            PATH_FAULTS, PATH_FAULTS_SILENT, PATH_FORGOTTEN, PATH_KEY_ROTATION_DECISION,
            PATH_KEY_ROTATIONS, PATH_PASSKEY_REVOKE, PATH_PASSKEYS, PATH_PIN_RESET, PATH_PUBLISH,
            PATH_PUNCH, PATH_PUNCH_PHOTO, PATH_PUNCH_REVIEW, PATH_PUNCHES, PATH_REBIND,
            PATH_REQUEST_DECISION, PATH_REQUESTS, PATH_SESSION, PATH_SESSION_END, PATH_STAFF,
            PATH_STAFF_CHANGE, PATH_TOKEN_REVOKE, PATH_TOKENS, permission_of, routes,
        };
    }
}

/// The OpenAPI 3.1 document of the HTTP API.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// Internals the integration tests, the e2e crate's decoders and fuzz
/// targets, and the sync bench drive directly (below the HTTP API). Not
/// part of the interface: it changes with the code it reaches into.
#[doc(hidden)]
pub mod internal {
    pub use crate::api::AppState;

    pub mod browser {
        pub use crate::browser::passkey::verify_record;
        pub use crate::browser::refusal::MAX_UNVERIFIED_PER_HOUR;
    }
    pub mod at_rest {
        pub use crate::at_rest::open;
        pub mod value {
            pub use crate::at_rest::value::{sealed_with, text_bytes};
        }
    }
    pub mod attestation {
        pub use crate::attestation::{AttestationConfig, Proven, challenge_hash, verify};
    }
    pub mod audit {
        pub use crate::audit::row_hash;
    }
    pub mod auth {
        pub use crate::auth::{authenticate, parse_headers};
    }
    pub mod enroll {
        pub use crate::enroll::{EnrollRefusal, code_hash, enroll, generate_code, normalize_code};
    }
    pub mod evidence {
        pub use crate::evidence::MAX_EVIDENCE_PER_DAY;
    }
    pub mod forgotten {
        pub use crate::store::forgotten::{ForgottenFilter, ForgottenRow};
    }
    pub mod ingest {
        pub use crate::ingest::{check_signatures, ingest_checked};
    }
    pub mod limits {
        pub mod rate {
            pub use crate::limits::rate::{Bucket, hit, longest_window_ms};
        }
    }
    pub mod pin {
        pub mod sender {
            pub use crate::pin::sender::{CodeMessage, CodeSender, SmtpConfig, SmtpSender};
        }
    }
    pub mod server {
        pub use crate::server::{app_state, state_over};
    }
    pub mod staff {
        pub mod role {
            pub use crate::staff::role::allows;
        }
        pub mod totp {
            pub use crate::staff::totp::code_from_base32;
        }
    }
    pub mod store {
        pub use crate::store::{
            AttachmentRow, BindDevice, ChallengeRow, CodeRow, EventDecision, EventFilter, NewPunch,
            PinCodeRow, PinProfile, PolicyRow, PurgeKind, Revelation, StoredEvent, open,
        };
        /// The store contract suite's rows (`tests/store_contract.rs`).
        pub mod people {
            pub use crate::store::people::{
                ApiTokenRow, AuditRow, ChainAckRow, PunchReviewRow, SessionRow, StaffRow,
            };
        }
        pub mod punch_page {
            pub use crate::store::punch_page::PunchQuery;
        }
        pub mod employee_devices {
            pub use crate::store::employee_devices::{
                ClockPunch, DeviceApprovalRow, NewDeviceApproval,
            };
        }
        /// Fault reports' store operations (`store_contract.rs`).
        pub mod faults {
            pub use crate::store::faults::{SilentQuery, SilentTerminal};
        }
        pub mod sealable {
            pub use crate::store::sealable::SealableColumn;
        }
        pub mod photos {
            pub use crate::store::photos::PunchPhotoRow;
        }
    }
}
