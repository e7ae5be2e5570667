//! The punch PIN end to end against the real server (127.0.0.1, real
//! SQLite or PostgreSQL, real signatures): lockout that a moved clock, a
//! restart or a reboot does not lift; the three reset paths and each of
//! their bad paths (wrong, expired, reused codes; forged, expired, replayed
//! tokens; brute force into the rate limit; wrong identity data); and a
//! rooted phone's edits to its PIN rows (a replaced verifier, a reset lock
//! count), which the server flags from the device's own chained events.

use std::sync::Arc;
use std::time::Duration;

use punch_core::{
    ClockReading, PinError, PunchEngine, PunchError, SyncError, test_support::ManualClock,
};
use punch_model::pin::{PinSettings, SignedResetToken, TokenError};
use punch_model::wire::ErrorCode;
use punch_server::CodeDelivery;
use punch_server::{Admin, DbUrl, ServerHandle};
use punch_tests::fault_proxy::FaultProxy;
use punch_tests::world::{EMPLOYEE, device, employer, now_ms, psql, server_db};

const PIN: &str = "4827";

struct PinWorld {
    dir: tempfile::TempDir,
    db: DbUrl,
    admin: Admin,
    _server: ServerHandle,
    proxy: FaultProxy,
    clock: Arc<ManualClock>,
    engine: PunchEngine,
}

impl PinWorld {
    fn new() -> PinWorld {
        Self::with_pin(PinSettings::default())
    }

    /// `pin` with the iteration floor.
    fn with_pin(pin: PinSettings) -> PinWorld {
        let dir = tempfile::tempdir().unwrap();
        let db = server_db(dir.path());
        let admin = employer(&db);
        admin
            .set_settings(punch_model::rules::policy::Settings {
                max_clock_skew_s: 120.0,
                // The floor, not the 600,000 default: tests verify many PINs.
                pin: Some(PinSettings {
                    pbkdf2_iterations: 100_000,
                    ..pin
                }),
                ..Default::default()
            })
            .unwrap();
        admin
            .publish_policy(Duration::from_secs(30 * 86_400))
            .unwrap();
        let server = ServerHandle::start(punch_server::ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            pin_codes: CodeDelivery::File(dir.path().join("codes.jsonl")),
            ..punch_server::ServerConfig::new(db.clone())
        })
        .unwrap();
        let proxy = FaultProxy::start(server.addr());
        let clock = Arc::new(ManualClock::new(ClockReading {
            wall_time_ms: now_ms(),
            utc_offset_min: 480,
            monotonic_ms: 10_000_000,
            boot_id: "boot-1".into(),
        }));
        let engine = device(&dir.path().join("device.db"), &proxy, &admin, &clock, 100);
        let code = admin
            .create_enrollment_code(EMPLOYEE, Duration::from_secs(600))
            .unwrap();
        engine.enroll(&code).unwrap();
        let report = engine.sync().unwrap();
        assert!(report.error.is_none(), "{report:?}");
        assert_eq!(engine.policy_version(), Some(2));
        PinWorld {
            dir,
            db,
            admin,
            _server: server,
            proxy,
            clock,
            engine,
        }
    }

    /// Closes and reopens the device database, as an app restart does.
    fn restart(&mut self) {
        let path = self.dir.path().join("device.db");
        let fresh = device(&path, &self.proxy, &self.admin, &self.clock, 100);
        self.engine = fresh;
    }

    /// The last code the development sender delivered.
    fn last_code(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("codes.jsonl")).unwrap();
        let line = text.lines().last().unwrap();
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["to"], "li.wei@example.com");
        v["code"].as_str().unwrap().to_string()
    }

    fn server_sql(&self, sql: &str) {
        match &self.db {
            DbUrl::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            DbUrl::Postgres(url) => psql(url, sql),
        }
    }

    fn lock_it(&self) {
        for _ in 0..5 {
            let _ = self.engine.verify_pin("0815");
        }
        assert!(self.engine.pin_status().unwrap().locked_for_ms.is_some());
    }
}

fn pin_err(r: punch_core::Result<impl std::fmt::Debug>) -> PinError {
    match r {
        Err(PunchError::Pin(e)) => e,
        other => panic!("expected a PIN error, got {other:?}"),
    }
}

fn refused(r: punch_core::Result<impl std::fmt::Debug>) -> (ErrorCode, String) {
    match r {
        Err(PunchError::Sync(SyncError::Refused {
            code: Some(code),
            message,
        })) => (code, message),
        other => panic!("expected a server refusal, got {other:?}"),
    }
}

#[test]
fn wrong_pin_locks_and_neither_clock_nor_restart_nor_reboot_unlocks() {
    let mut w = PinWorld::new();
    // A punch needs a PIN: none verified yet.
    assert_eq!(pin_err(w.engine.verify_pin(PIN)), PinError::NotSet);
    assert!(matches!(
        pin_err(w.engine.set_pin("1234", None)),
        PinError::Rejected(_)
    ));
    w.engine.set_pin(PIN, None).unwrap();
    assert_eq!(
        pin_err(w.engine.set_pin("5930", None)),
        PinError::AlreadySet
    );
    for left in (1..5).rev() {
        assert_eq!(
            pin_err(w.engine.verify_pin("0815")),
            PinError::Wrong { tries_left: left }
        );
    }
    match pin_err(w.engine.verify_pin("0815")) {
        PinError::Locked { remaining_ms, .. } => assert_eq!(remaining_ms, 30 * 60_000),
        e => panic!("{e:?}"),
    }
    // Locked: even the right PIN is refused, and no punch goes through.
    assert!(matches!(
        pin_err(w.engine.verify_pin(PIN)),
        PinError::Locked { .. }
    ));
    // Uploaded, the events tell the server about the lock too: a phone that
    // loses its state (a reinstall) does not lose it there.
    assert!(w.engine.sync().unwrap().error.is_none());
    let server_view = w.admin.pin_lock_state(EMPLOYEE).unwrap();
    assert!(
        server_view.locked_until_ms.unwrap() > now_ms() + 29 * 60_000,
        "{server_view:?}"
    );
    // The employee moves the clock a day forward: still locked.
    w.clock.set_wall_ms(now_ms() + 86_400_000);
    assert!(matches!(
        pin_err(w.engine.verify_pin(PIN)),
        PinError::Locked { .. }
    ));
    // Ten minutes pass, then the app restarts: the lock is still there.
    w.clock.advance_ms(10 * 60_000);
    w.restart();
    let status = w.engine.pin_status().unwrap();
    assert_eq!(status.tries_left, 0);
    // 20 minutes left (less the real seconds the server's clock saw pass
    // since the lock: the fresh anchor counts them).
    let left = status.locked_for_ms.unwrap();
    assert!(
        (20 * 60_000 - 60_000..=20 * 60_000).contains(&left),
        "{left}"
    );
    // A reboot (monotonic clock restarts at 0): the lock resumes, no shorter.
    w.clock.reboot("boot-2");
    w.restart();
    assert_eq!(
        w.engine.pin_status().unwrap().locked_for_ms,
        Some(20 * 60_000)
    );
    w.clock.advance_ms(20 * 60_000);
    assert_eq!(w.engine.pin_status().unwrap().locked_for_ms, None);
    w.engine.verify_pin(PIN).unwrap();
    // The server judged each PIN event again and found nothing amiss.
    assert!(w.engine.sync().unwrap().error.is_none());
    let events = w.admin.events(Some("pin")).unwrap();
    // Eight events and the success that ended it (chained as failures are).
    assert_eq!(events.len(), 9);
    assert!(events.iter().all(|e| e.status.is_none()), "{events:?}");
    assert_eq!(
        w.admin.pin_lock_state(EMPLOYEE).unwrap().locked_until_ms,
        None
    );
    // The events are all there, in order.
    let kinds: Vec<String> = w
        .engine
        .pin_events()
        .unwrap()
        .iter()
        .map(|e| punch_model::text::serde_name(&e.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            "set", "failed", "failed", "failed", "failed", "failed", "locked", "unlocked"
        ]
    );
}

/// A fresh, accurate fix at HQ.
fn at_hq(engine: &PunchEngine) -> punch_core::Evidence {
    punch_core::Evidence {
        gps: Some(punch_core::GpsFix {
            lat: punch_tests::world::HQ.0,
            lon: punch_tests::world::HQ.1,
            accuracy_m: 8.0,
            fix_time_ms: engine.trusted_now_ms(),
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        ..punch_core::Evidence::default()
    }
}

#[test]
fn a_punch_needs_a_verified_pin_or_the_platforms_user_verification() {
    use punch_core::PunchKind;
    let w = PinWorld::new();
    w.engine.set_pin(PIN, None).unwrap();
    let evidence = || at_hq(&w.engine);
    assert_eq!(
        pin_err(w.engine.punch(PunchKind::ClockIn, &evidence())),
        PinError::Required
    );
    w.engine.verify_pin(PIN).unwrap();
    w.engine.punch(PunchKind::ClockIn, &evidence()).unwrap();
    // One verification, one punch.
    assert_eq!(
        pin_err(w.engine.punch(PunchKind::ClockOut, &evidence())),
        PinError::Required
    );
    w.engine.accept_user_verified().unwrap();
    w.engine.punch(PunchKind::ClockOut, &evidence()).unwrap();
    assert!(w.engine.sync().unwrap().error.is_none());
}

#[test]
fn reset_by_code_with_wrong_expired_and_reused_codes_and_bad_tokens() {
    let w = PinWorld::new();
    w.engine.set_pin(PIN, None).unwrap();
    w.lock_it();
    // No contact bound yet.
    assert_eq!(
        refused(w.engine.request_pin_reset_code()).0,
        ErrorCode::PinResetUnavailable
    );
    w.admin
        .set_pin_contact(EMPLOYEE, "email", "li.wei@example.com")
        .unwrap();
    let sent = w.engine.request_pin_reset_code().unwrap();
    assert_eq!(sent.masked_to, "l***@example.com");
    let code = w.last_code();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    assert_eq!(
        refused(w.engine.redeem_pin_reset_code(wrong)).0,
        ErrorCode::PinCodeInvalid
    );
    // An expired code.
    w.server_sql("UPDATE pin_codes SET expires_at_ms = 0");
    let (c, m) = refused(w.engine.redeem_pin_reset_code(&code));
    assert_eq!(c, ErrorCode::PinCodeInvalid);
    assert!(m.contains("expired"), "{m}");
    // A fresh code works once.
    w.engine.request_pin_reset_code().unwrap();
    let code = w.last_code();
    let token = w.engine.redeem_pin_reset_code(&code).unwrap();
    let (c, m) = refused(w.engine.redeem_pin_reset_code(&code));
    assert_eq!(c, ErrorCode::PinCodeInvalid);
    assert!(m.contains("used"), "{m}");

    // Forged tokens: another key, an edited body. Each counts as a failure
    // (the lock, being already on, stays on).
    let (other, _) = punch_core::SoftwareSigner::generate().unwrap();
    let body: punch_model::pin::ResetToken = serde_json::from_slice(&token.body).unwrap();
    let by_other = body.sign(&other).unwrap();
    assert_eq!(
        pin_err(w.engine.apply_pin_reset(&by_other, "5930", None)),
        PinError::Token(TokenError::BadSignature)
    );
    let mut edited = token.clone();
    edited.body = serde_json::to_vec(&punch_model::pin::ResetToken {
        expires_at_ms: i64::MAX,
        ..body.clone()
    })
    .unwrap();
    assert_eq!(
        pin_err(w.engine.apply_pin_reset(&edited, "5930", None)),
        PinError::Token(TokenError::BadSignature)
    );
    // The genuine token, offline: the server is not needed to apply it.
    w.proxy.set_upstream("127.0.0.1:9".parse().unwrap());
    let applied = w.engine.apply_pin_reset(&token, "5930", None).unwrap();
    assert_eq!(applied.path, punch_model::pin::ResetPath::Code);
    let status = w.engine.pin_status().unwrap();
    assert_eq!((status.tries_left, status.locked_for_ms), (5, None));
    w.engine.verify_pin("5930").unwrap();
    assert!(matches!(
        pin_err(w.engine.verify_pin(PIN)),
        PinError::Wrong { .. }
    ));
    // Replayed.
    assert_eq!(
        pin_err(w.engine.apply_pin_reset(&token, "6041", None)),
        PinError::Token(TokenError::Reused)
    );
    let events = w.engine.pin_events().unwrap();
    let reset = events
        .iter()
        .find(|e| e.kind == punch_model::pin::PinEventKind::Reset)
        .unwrap();
    assert_eq!(reset.token_id.as_deref(), Some(applied.token_id.as_str()));
}

#[test]
fn a_new_code_replaces_the_older_ones() {
    let w = PinWorld::new();
    w.engine.set_pin(PIN, None).unwrap();
    w.lock_it();
    w.admin
        .set_pin_contact(EMPLOYEE, "email", "li.wei@example.com")
        .unwrap();
    w.engine.request_pin_reset_code().unwrap();
    let first = w.last_code();
    w.engine.request_pin_reset_code().unwrap();
    let second = w.last_code();
    w.engine.request_pin_reset_code().unwrap();
    let newest = w.last_code();
    // The older two stopped working when a newer one was sent (the same
    // code twice in a row is a one-in-a-million draw: then it is the newest).
    for old in [first, second].iter().filter(|c| **c != newest) {
        let (c, m) = refused(w.engine.redeem_pin_reset_code(old));
        assert_eq!(c, ErrorCode::PinCodeInvalid);
        assert!(m.ends_with("(replaced)"), "{m}");
    }
    // The newest works, once.
    let token = w.engine.redeem_pin_reset_code(&newest).unwrap();
    let (c, m) = refused(w.engine.redeem_pin_reset_code(&newest));
    assert_eq!(c, ErrorCode::PinCodeInvalid);
    assert!(m.ends_with("(used)"), "{m}");
    w.engine.apply_pin_reset(&token, "5930", None).unwrap();
    w.engine.verify_pin("5930").unwrap();
}

#[test]
fn an_expired_token_is_refused_on_anchored_time() {
    let w = PinWorld::new();
    w.engine.set_pin(PIN, None).unwrap();
    w.admin.order_pin_reset(EMPLOYEE).unwrap();
    let token: SignedResetToken = w.engine.fetch_admin_pin_reset().unwrap();
    // Sixteen minutes pass on the monotonic clock (the wall clock set back
    // would not help).
    w.clock.advance_ms(16 * 60_000);
    w.clock.set_wall_ms(now_ms() - 3_600_000);
    assert!(matches!(
        pin_err(w.engine.apply_pin_reset(&token, "5930", None)),
        PinError::Token(TokenError::Expired { .. })
    ));
    assert_eq!(w.engine.pin_status().unwrap().tries_left, 4);
}

#[test]
fn brute_force_on_the_code_endpoint_hits_the_rate_limit() {
    let w = PinWorld::new();
    w.admin
        .set_pin_contact(EMPLOYEE, "phone", "+8613800138000")
        .unwrap();
    w.engine.request_pin_reset_code().unwrap();
    let code = w.last_code_phone();
    let mut limited_after = None;
    for i in 0..20u32 {
        let guess = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
        match w.engine.redeem_pin_reset_code(&guess) {
            Err(PunchError::Sync(SyncError::RateLimited)) => {
                limited_after = Some(i);
                break;
            }
            other => assert_eq!(refused(other).0, ErrorCode::PinCodeInvalid),
        }
    }
    // 8 hits per employee per 15 minutes; the request took one.
    assert_eq!(limited_after, Some(7));
    // Even the right code is refused now: guessing gains nothing.
    assert!(matches!(
        w.engine.redeem_pin_reset_code(&code),
        Err(PunchError::Sync(SyncError::RateLimited))
    ));
}

impl PinWorld {
    fn last_code_phone(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("codes.jsonl")).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(v["channel"], "phone");
        v["code"].as_str().unwrap().to_string()
    }
}

#[test]
fn self_service_with_wrong_identity_data_then_the_right_one() {
    let w = PinWorld::new();
    w.engine.set_pin(PIN, None).unwrap();
    assert_eq!(
        refused(w.engine.self_service_pin_reset(EMPLOYEE, "4711")).0,
        ErrorCode::PinResetUnavailable
    );
    w.admin.set_pin_identity_secret(EMPLOYEE, "4711").unwrap();
    assert_eq!(
        refused(w.engine.self_service_pin_reset(EMPLOYEE, "4712")).0,
        ErrorCode::PinIdentityInvalid
    );
    assert_eq!(
        refused(w.engine.self_service_pin_reset("emp-8", "4711")).0,
        ErrorCode::PinIdentityInvalid
    );
    let token = w.engine.self_service_pin_reset(EMPLOYEE, "4711").unwrap();
    w.engine.apply_pin_reset(&token, "5930", None).unwrap();
    w.engine.verify_pin("5930").unwrap();
}

#[test]
fn admin_reset_is_fetched_once() {
    let w = PinWorld::new();
    w.engine.set_pin(PIN, None).unwrap();
    w.lock_it();
    assert_eq!(
        refused(w.engine.fetch_admin_pin_reset()).0,
        ErrorCode::PinNoAdminReset
    );
    w.admin.order_pin_reset(EMPLOYEE).unwrap();
    let token = w.engine.fetch_admin_pin_reset().unwrap();
    assert_eq!(
        refused(w.engine.fetch_admin_pin_reset()).0,
        ErrorCode::PinNoAdminReset
    );
    w.engine.apply_pin_reset(&token, "5930", None).unwrap();
    w.engine.verify_pin("5930").unwrap();
}

impl PinWorld {
    /// What someone with root does with sqlite3 to the phone's database.
    fn device_sql(&self, sql: &str, value: &str) {
        rusqlite::Connection::open(self.dir.path().join("device.db"))
            .unwrap()
            .execute(sql, [value])
            .unwrap();
    }

    /// The server's PIN entries of the device, as (type tag, status, detail).
    fn server_pin_entries(&self) -> Vec<(String, Option<String>, Option<String>)> {
        assert!(self.engine.sync().unwrap().error.is_none());
        self.admin
            .events(Some("pin"))
            .unwrap()
            .into_iter()
            .map(|e| {
                let body: serde_json::Value = serde_json::from_str(&e.body).unwrap();
                let tag = match body["kind"].as_str() {
                    Some(kind) => kind.to_string(),
                    None => body["type"].as_str().unwrap().to_string(),
                };
                (tag, e.status, e.status_detail)
            })
            .collect()
    }
}

#[test]
fn a_verifier_replaced_in_the_phones_database_is_flagged_by_the_server() {
    let w = PinWorld::new();
    w.engine.set_pin(PIN, None).unwrap();
    w.engine.verify_pin(PIN).unwrap();
    // Someone who does not know the PIN writes a verifier of their own.
    let theirs = punch_model::pin::Verifier::derive("9146", 100_000).unwrap();
    w.device_sql(
        "UPDATE pin_state SET verifier = ?1",
        &serde_json::to_string(&theirs).unwrap(),
    );
    w.engine.verify_pin("9146").unwrap();
    let entries = w.server_pin_entries();
    let tags: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(tags, ["set", "pin_verified", "pin_verified"]);
    // The honest success follows from the chain; the other does not.
    assert_eq!(entries[1].1, None, "{entries:?}");
    assert_eq!(entries[2].1.as_deref(), Some("suspect"), "{entries:?}");
    assert!(
        entries[2]
            .2
            .as_deref()
            .unwrap()
            .contains("verifier the device's own events never set"),
        "{entries:?}"
    );
}

#[test]
fn a_lock_count_reset_in_the_phones_database_is_flagged_by_the_server() {
    let w = PinWorld::new();
    w.engine.set_pin(PIN, None).unwrap();
    for _ in 0..3 {
        let _ = w.engine.verify_pin("0815");
    }
    // Two tries left; reset the count for five more.
    let fresh = serde_json::to_string(&punch_model::pin::LockState::default()).unwrap();
    w.device_sql("UPDATE pin_state SET lock_state = ?1", &fresh);
    assert_eq!(w.engine.pin_status().unwrap().tries_left, 5);
    let _ = w.engine.verify_pin("0816");
    // Locked outright, then the lock deleted: the right PIN goes through.
    w.lock_it();
    w.device_sql("UPDATE pin_state SET lock_state = ?1", &fresh);
    w.engine.verify_pin(PIN).unwrap();
    let entries = w.server_pin_entries();
    let suspect: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e.1.as_deref() == Some("suspect"))
        .map(|e| (e.0.as_str(), e.2.as_deref().unwrap()))
        .collect();
    // The failure after the reset, and the success while locked.
    assert_eq!(suspect.len(), 2, "{entries:?}");
    assert_eq!(suspect[0].0, "failed");
    assert!(
        suspect[0]
            .1
            .contains("do not follow the device's own events"),
        "{suspect:?}"
    );
    assert_eq!(suspect[1].0, "pin_verified");
    assert!(
        suspect[1]
            .1
            .contains("while the device's own events lock it"),
        "{suspect:?}"
    );
    // Nothing else is: the honest events follow from each other.
    assert_eq!(
        entries.iter().filter(|e| e.1.is_some()).count(),
        2,
        "{entries:?}"
    );
}

/// The periodic PIN change (`max_age_days`): the PIN's age is judged on
/// trusted time (a wall clock moved either way changes nothing), the app
/// is told (`must_change`), no punch goes through until the PIN is changed
/// — not on the PIN, not on the platform's user verification — and the
/// server receives the `changed` event and finds nothing amiss.
#[test]
fn an_old_pin_must_be_changed_before_the_next_punch() {
    use punch_core::PunchKind;
    const DAY_MS: i64 = 86_400_000;
    let w = PinWorld::with_pin(PinSettings {
        max_age_days: Some(7),
        ..PinSettings::default()
    });
    let evidence = || at_hq(&w.engine);
    w.engine.set_pin(PIN, None).unwrap();
    assert!(!w.engine.pin_status().unwrap().must_change);
    // The phone's wall clock set a month ahead: trusted time has not moved.
    let wall = now_ms();
    w.clock.set_wall_ms(wall + 30 * DAY_MS);
    assert!(!w.engine.pin_status().unwrap().must_change);
    w.clock.set_wall_ms(wall);

    // Eight days pass on trusted time (the PIN was set eight days ago).
    let set_at = w.engine.trusted_now_ms() - 8 * DAY_MS;
    w.device_sql(
        "UPDATE pin_state SET set_at_ms = CAST(?1 AS INTEGER)",
        &set_at.to_string(),
    );
    assert!(
        w.engine.pin_status().unwrap().must_change,
        "the app is told"
    );
    // Setting the wall clock back does not make it young again.
    w.clock.set_wall_ms(wall - 10 * DAY_MS);
    assert!(w.engine.pin_status().unwrap().must_change);
    w.clock.set_wall_ms(wall);

    // The right PIN is recognised but grants nothing; neither does the
    // platform's biometric prompt.
    assert_eq!(pin_err(w.engine.verify_pin(PIN)), PinError::MustChange);
    assert_eq!(
        pin_err(w.engine.punch(PunchKind::ClockIn, &evidence())),
        PinError::Required
    );
    assert_eq!(
        pin_err(w.engine.accept_user_verified()),
        PinError::MustChange
    );
    assert_eq!(
        pin_err(w.engine.punch(PunchKind::ClockIn, &evidence())),
        PinError::Required
    );

    // The change: the old PIN once more, then a new one.
    w.engine.change_pin(PIN, "5930", None).unwrap();
    let status = w.engine.pin_status().unwrap();
    assert!(!status.must_change && status.is_set, "{status:?}");
    w.engine.verify_pin("5930").unwrap();
    w.engine.punch(PunchKind::ClockIn, &evidence()).unwrap();

    // The server sees the change, judged like every PIN event: no finding.
    let entries = w.server_pin_entries();
    let changed = entries
        .iter()
        .filter(|(tag, _, _)| tag == "changed")
        .count();
    assert_eq!(changed, 1, "{entries:?}");
    assert!(
        entries.iter().all(|(_, status, _)| status.is_none()),
        "{entries:?}"
    );
}
