//! Every error's message (what crash reporters log) is a sentence without
//! the personal details the core's errors carry, nor the typed fields' values.

use std::collections::BTreeSet;

use punch_core::ChainProblem;
use punch_core::KeyRole as CoreRole;
use punch_model::pin::token::TokenError;
use punch_model::rules::assurance::AssuranceLevel as CoreLevel;
use punch_model::rules::evaluate::{Flag, FlagKind, NearestSite, Outcome, SignalCheck, SiteResult};
use punch_model::rules::evidence::EvidenceError;
use punch_model::rules::field_work::FieldWorkError;
use punch_model::rules::makeup::MakeUpRefusal;
use punch_model::rules::policy::{Action, Signal};
use punch_model::wire::ErrorCode;

use super::*;

/// Values the core's errors carry that must never reach a message.
const SECRET: &[&str] = &[
    "52.5200",
    "13.4049",
    "site-secret",
    "ACME-Office",
    "1234.5",
    "emp-secret",
    "a4:2b:b0",
    "notice-secret",
    "2026-03",
    "654321",
    "/home/secret",
];

/// Its name, exhaustively: a new variant fails to build here until it is
/// added to `ALL` (and so covered below).
fn variant(e: &PunchError) -> &'static str {
    match e {
        PunchError::NotEnrolled { .. } => "NotEnrolled",
        PunchError::Refused { .. } => "Refused",
        PunchError::PolicyMissing { .. } => "PolicyMissing",
        PunchError::PolicyExpired { .. } => "PolicyExpired",
        PunchError::PolicyInvalid { .. } => "PolicyInvalid",
        PunchError::Signer { .. } => "Signer",
        PunchError::KeyInvalidated { .. } => "KeyInvalidated",
        PunchError::Network { .. } => "Network",
        PunchError::Tls { .. } => "Tls",
        PunchError::ServerRefused { .. } => "ServerRefused",
        PunchError::Storage { .. } => "Storage",
        PunchError::Busy { .. } => "Busy",
        PunchError::RequestRefused { .. } => "RequestRefused",
        PunchError::InvalidInput { .. } => "InvalidInput",
        PunchError::NoticeRequired { .. } => "NoticeRequired",
        PunchError::DataKeyUnavailable { .. } => "DataKeyUnavailable",
        PunchError::Pin { .. } => "Pin",
        PunchError::AttestationRequired { .. } => "AttestationRequired",
        PunchError::PhotoRequired { .. } => "PhotoRequired",
        PunchError::PhotoRefused { .. } => "PhotoRefused",
        PunchError::Internal { .. } => "Internal",
    }
}

const ALL: &[&str] = &[
    "NotEnrolled",
    "Refused",
    "PolicyMissing",
    "PolicyExpired",
    "PolicyInvalid",
    "Signer",
    "KeyInvalidated",
    "Network",
    "Tls",
    "ServerRefused",
    "Storage",
    "Busy",
    "RequestRefused",
    "InvalidInput",
    "NoticeRequired",
    "DataKeyUnavailable",
    "Pin",
    "AttestationRequired",
    "PhotoRequired",
    "PhotoRefused",
    "Internal",
];

/// The data in a variant's typed fields (codes are enums: their names are
/// words a sentence may use), as a message could print them.
fn field_values(e: &PunchError) -> Vec<String> {
    match e {
        PunchError::NoticeRequired { version, .. } => vec![version.clone()],
        PunchError::Pin {
            tries_left,
            locked_for,
            ..
        } => tries_left
            .map(|t| t.to_string())
            .into_iter()
            .chain(locked_for.map(|d| d.as_millis().to_string()))
            .filter(|v| v != "0")
            .collect(),
        _ => Vec::new(),
    }
}

fn refused_evaluation() -> punch_core::Evaluation {
    punch_core::Evaluation {
        decision: punch_core::Decision::Rejected,
        site_id: None,
        policy_version: 3,
        sites: vec![SiteResult {
            site_id: "site-secret".into(),
            passed: false,
            review: false,
            checks: vec![SignalCheck {
                signal: Signal::Gps,
                outcome: Outcome::Fail,
                detail: "52.520008, 13.404954 is 1234.5 m outside site-secret".into(),
                containment: None,
                distance_to_edge_m: Some(1234.5),
            }],
        }],
        flags: vec![Flag {
            kind: FlagKind::WifiPlaceholder,
            action: Action::Review,
            detail: "ssid ACME-Office, bssid a4:2b:b0:10:20:30".into(),
        }],
        nearest_site: Some(NearestSite {
            site_id: "site-secret".into(),
            distance_m: 1234.5,
        }),
        reasons: vec!["1234.5 m from site-secret at 52.520008, 13.404954".into()],
        attendance: None,
    }
}

/// One core error for each way into each FFI variant, carrying secrets.
fn core_errors() -> Vec<CoreError> {
    use punch_core::PinError as P;
    let secret = |s: &str| format!("{s} emp-secret at site-secret 52.520008 13.404954");
    vec![
        CoreError::Evidence(EvidenceError::LatitudeOutOfRange(152.520008)),
        CoreError::EmployeeMismatch {
            bound: "emp-secret".into(),
            requested: "emp-secret-2".into(),
        },
        CoreError::NotConfigured,
        CoreError::Policy(PolicyError::Expired {
            expires_at_ms: 654321,
            now_ms: 654321,
        }),
        CoreError::PolicySignature,
        CoreError::PolicyRollback {
            offered: 654321,
            installed: 654322,
        },
        CoreError::NoPolicy,
        CoreError::Sync(SyncError::Network {
            message: secret("connect"),
        }),
        CoreError::Sync(SyncError::Server {
            status: 503,
            message: secret("down"),
        }),
        CoreError::Sync(SyncError::RateLimited),
        CoreError::Sync(SyncError::Refused {
            code: Some(ErrorCode::AssuranceTooLow),
            message: secret("refused"),
        }),
        CoreError::Sync(SyncError::BadResponse {
            message: secret("garbage"),
        }),
        CoreError::Sync(SyncError::Policy {
            message: secret("policy"),
        }),
        CoreError::Sync(SyncError::Tls {
            message: secret("certificate"),
        }),
        CoreError::NoEmployee,
        CoreError::Refused(Box::new(refused_evaluation())),
        CoreError::Signer(punch_core::SignerError::Invalidated),
        CoreError::Signer(punch_core::SignerError::BadSignature),
        CoreError::DeviceKeyMismatch,
        CoreError::Busy,
        CoreError::Pin(P::Required),
        CoreError::Pin(P::NotSet),
        CoreError::Pin(P::AlreadySet),
        CoreError::Pin(P::MustChange),
        CoreError::Pin(P::Wrong { tries_left: 7 }),
        CoreError::Pin(P::Locked {
            remaining_ms: 654321,
            ends_at_ms: 654321,
        }),
        CoreError::Pin(P::Token(TokenError::Malformed(secret("token")))),
        CoreError::Pin(P::NotOnThisKiosk),
        CoreError::MakeUp(MakeUpRefusal::MonthlyLimit {
            month: "2026-03".into(),
            used: 7,
            max: 7,
        }),
        CoreError::FieldWork(FieldWorkError::Radius),
        CoreError::UnknownReference {
            what: "attachment",
            id: "emp-secret-file".into(),
        },
        CoreError::Addendum(secret("addendum")),
        CoreError::Storage(secret("sqlite")),
        CoreError::SchemaTooNew {
            found: 654321,
            supported: 9,
        },
        CoreError::Corrupt {
            seq: 654321,
            problem: ChainProblem::WrongDevice {
                found: "emp-secret".into(),
            },
        },
        CoreError::CorruptState(secret("state")),
        CoreError::NoticeNotAcknowledged {
            version: "notice-secret".into(),
        },
        CoreError::DataKeyUnavailable {
            detail: secret("keystore"),
        },
        CoreError::NothingToReveal { seq: 654321 },
        CoreError::KeysInUse,
        CoreError::Enrollment(EnrollError::AttestationRequired {
            role: CoreRole::Punch,
            required: CoreLevel::HardwareTee,
        }),
        CoreError::Enrollment(EnrollError::NoChallenge),
        CoreError::PhotoRequired {
            reasons: vec![punch_core::PhotoReason::Always],
        },
        CoreError::Photo(punch_core::PhotoError::TooLarge {
            size_bytes: 654321,
            max: 1234,
        }),
    ]
}

#[test]
fn every_message_is_a_sentence_without_personal_details_or_field_values() {
    let mut errors: Vec<PunchError> = core_errors().into_iter().map(PunchError::from).collect();
    errors.push(
        guard(|| -> Result<(), PunchError> { panic!("at 52.520008 site-secret") }).unwrap_err(),
    );
    errors.push(
        IN_CALLBACK
            .with(|c| {
                c.set(true);
                let e = guard(|| Ok(()));
                c.set(false);
                e
            })
            .unwrap_err(),
    );
    let mut seen = BTreeSet::new();
    for e in &errors {
        seen.insert(variant(e));
        let message = e.to_string();
        assert!(
            message.starts_with(|c: char| c.is_uppercase()) && message.ends_with('.'),
            "not a sentence: {message:?}"
        );
        for secret in SECRET {
            assert!(!message.contains(secret), "{message:?} names {secret}");
        }
        for value in field_values(e) {
            assert!(!message.contains(&value), "{message:?} repeats {value}");
        }
        if let PunchError::Refused { evaluation, .. } = e {
            // Kotlin prints the evaluation into the message: its Display.
            let shown = evaluation.to_string();
            for secret in SECRET {
                assert!(!shown.contains(secret), "{shown:?} names {secret}");
            }
        }
    }
    let all: BTreeSet<_> = ALL.iter().copied().collect();
    assert_eq!(seen, all, "every variant is covered");
}

#[test]
fn the_sync_error_of_a_report_keeps_its_kind_and_code() {
    let issue = crate::types::SyncIssue::from(SyncError::Refused {
        code: Some(ErrorCode::DeviceUnbound),
        message: "unbound".into(),
    });
    assert_eq!(issue.kind, crate::types::SyncIssueKind::Refused);
    assert_eq!(issue.code, Some(ServerErrorCode::DeviceUnbound));
}

#[test]
fn a_tls_failure_stays_typed_from_the_platform_to_the_app() {
    let transport = crate::platform::transport_error(PlatformError::Tls {
        detail: "SSLHandshakeException".into(),
    });
    assert!(
        !transport.is_retryable(),
        "a TLS failure is not retried at once"
    );
    let sync = SyncError::from(transport);
    assert!(sync.is_permanent(), "{sync:?}");
    let issue = crate::types::SyncIssue::from(sync.clone());
    assert_eq!(issue.kind, crate::types::SyncIssueKind::Tls);
    assert!(matches!(
        PunchError::from(CoreError::Sync(sync)),
        PunchError::Tls { .. }
    ));
}
