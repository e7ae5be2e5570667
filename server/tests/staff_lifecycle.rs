//! The staff account lifecycle (audit finding 5), through the admin API and
//! the CLI: disable, revoke, unlock, password and TOTP resets, enrolment of
//! TOTP by the holder, token lifetimes, read-only roles without tokens.

use crate::common;

use common::staff::{PASSWORD, Session, Staff, add_staff, ok};
use common::{TestServer, now_ms, request};
use punch_server::Limits;
use punch_server::Role;
use punch_server::routes::admin as admin_api;
use serde_json::{Value, json};

fn change(hr: &Session, who: &str, what: &str, body: Value) -> Value {
    ok(hr.post(&format!("/admin/v1/staff/{who}/{what}"), &body))
}

fn token(session: &Session) -> String {
    ok(session.post(
        admin_api::PATH_TOKENS,
        &json!({"name": "payroll", "scopes": ["view_punches"], "ttl_days": 30}),
    ))["token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn with_token(ts: &TestServer, token: &str) -> u16 {
    request(
        ts.addr(),
        "GET",
        admin_api::PATH_PUNCHES,
        &[("authorization", format!("Bearer {token}"))],
        b"",
    )
    .status
}

/// A new code for a staff member whose last one was just spent: the next
/// 30-second step.
fn fresh_code(secret: &str) -> String {
    let step_ms = 30_000;
    let next = (now_ms() / step_ms + 1) * step_ms;
    punch_server::internal::staff::totp::code_from_base32(secret, next).unwrap()
}

#[test]
fn disable_ends_sessions_tokens_and_sign_in_until_enabled() {
    let ts = TestServer::start();
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let mgr = add_staff(&ts, "mgr", Role::Manager, Some("ops"));
    let session = mgr.sign_in(ts.addr());
    let bearer = token(&session);
    assert_eq!(with_token(&ts, &bearer), 200);
    let done = change(&hr, "mgr", "disable", json!({"reason": "left the company"}));
    assert_eq!(done["outcome"]["sessions_ended"], 1);
    assert_eq!(done["outcome"]["tokens_revoked"], 1);
    assert_eq!(done["staff"]["disabled"], true);
    session
        .get(admin_api::PATH_PUNCHES)
        .assert_error(401, "unauthenticated");
    assert_eq!(with_token(&ts, &bearer), 401);
    mgr.try_sign_in(ts.addr(), PASSWORD, &fresh_code(&mgr.totp_secret))
        .assert_error(401, "unauthenticated");
    // Not on your own account.
    hr.post("/admin/v1/staff/hr/disable", &json!({"reason": "oops"}))
        .assert_error(409, "conflict");
    change(&hr, "mgr", "enable", json!({"reason": "came back"}));
    std::thread::sleep(std::time::Duration::from_millis(10));
    let back = mgr.try_sign_in(ts.addr(), PASSWORD, &fresh_code(&mgr.totp_secret));
    assert_eq!(back.status, 200, "{}", String::from_utf8_lossy(&back.body));
    // The revoked token stays revoked.
    assert_eq!(with_token(&ts, &bearer), 401);
    let audit = ok(hr.get(admin_api::PATH_AUDIT)).to_string();
    for action in ["staff.disable", "staff.enable", "left the company"] {
        assert!(audit.contains(action), "{action}: {audit}");
    }
}

#[test]
fn revoke_ends_sessions_and_tokens_and_keeps_the_account() {
    let ts = TestServer::start();
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let mgr = add_staff(&ts, "mgr", Role::Manager, Some("ops"));
    let session = mgr.sign_in(ts.addr());
    let bearer = token(&session);
    let listed = ok(session.get(admin_api::PATH_TOKENS));
    let expires = listed["tokens"][0]["expires_at_ms"].as_i64().unwrap();
    assert!((expires - now_ms() - 30 * 86_400_000).abs() < 60_000);
    change(&hr, "mgr", "revoke", json!({"reason": "laptop stolen"}));
    session
        .get(admin_api::PATH_PUNCHES)
        .assert_error(401, "unauthenticated");
    assert_eq!(with_token(&ts, &bearer), 401);
    let listed = ok(hr.get(admin_api::PATH_TOKENS));
    assert!(listed["tokens"][0]["revoked_at_ms"].is_i64(), "{listed}");
    let again = mgr.try_sign_in(ts.addr(), PASSWORD, &fresh_code(&mgr.totp_secret));
    assert_eq!(
        again.status,
        200,
        "{}",
        String::from_utf8_lossy(&again.body)
    );
}

#[test]
fn hr_unlocks_an_account_someone_locked() {
    let ts = TestServer::with_limits(Limits {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..Limits::default()
    });
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let mgr = add_staff(&ts, "mgr", Role::Manager, Some("ops"));
    let attempt = |from: &str, code: &str| {
        let body = json!({"username": "mgr", "password": PASSWORD, "totp": code});
        request(
            ts.addr(),
            "POST",
            admin_api::PATH_SESSION,
            &[
                ("content-type", "application/json".into()),
                ("x-forwarded-for", from.to_string()),
            ],
            body.to_string().as_bytes(),
        )
    };
    for i in 0..5 {
        attempt(&format!("198.51.100.{i}"), "000001");
    }
    attempt("203.0.113.5", &mgr.code()).assert_error(429, "locked");
    let listed = ok(hr.get(admin_api::PATH_STAFF));
    let row = listed["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["username"] == "mgr")
        .unwrap()
        .clone();
    assert!(row["locked_until_ms"].is_i64(), "{row}");
    change(&hr, "mgr", "unlock", json!({"reason": "it was me, typing"}));
    let ok_now = attempt("203.0.113.5", &fresh_code(&mgr.totp_secret));
    assert_eq!(
        ok_now.status,
        200,
        "{}",
        String::from_utf8_lossy(&ok_now.body)
    );
}

/// Signs in an account without an authenticator: offered a secret, then
/// enrolled with a code from it. Answers the secret.
fn enrol(ts: &TestServer, username: &str, password: &str) -> String {
    let body = json!({"username": username, "password": password, "totp": ""});
    let offered = request(
        ts.addr(),
        "POST",
        admin_api::PATH_SESSION,
        &[("content-type", "application/json".into())],
        body.to_string().as_bytes(),
    );
    offered.assert_error(409, "totp_enrolment_required");
    let secret = offered.json()["totp_secret"].as_str().unwrap().to_string();
    assert!(
        offered.json()["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://")
    );
    let code = punch_server::internal::staff::totp::code_from_base32(&secret, now_ms()).unwrap();
    let body =
        json!({"username": username, "password": password, "totp": code, "totp_secret": secret});
    let enrolled = request(
        ts.addr(),
        "POST",
        admin_api::PATH_SESSION,
        &[("content-type", "application/json".into())],
        body.to_string().as_bytes(),
    );
    assert_eq!(
        enrolled.status,
        200,
        "{}",
        String::from_utf8_lossy(&enrolled.body)
    );
    secret
}

#[test]
fn accounts_hr_creates_enrol_their_own_authenticator() {
    let ts = TestServer::start();
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let created = ok(hr.post(
        admin_api::PATH_STAFF,
        &json!({"username": "newbie", "display_name": "New", "role": "auditor",
                "password": "a first password"}),
    ));
    // HR never sees the new person's second factor.
    assert!(created.get("totp_secret").is_none(), "{created}");
    assert_eq!(created["totp_enrolment_pending"], true);
    // A wrong password is not offered a secret.
    let body = json!({"username": "newbie", "password": "not the password", "totp": ""});
    request(
        ts.addr(),
        "POST",
        admin_api::PATH_SESSION,
        &[("content-type", "application/json".into())],
        body.to_string().as_bytes(),
    )
    .assert_error(401, "unauthenticated");
    let secret = enrol(&ts, "newbie", "a first password");
    let newbie = Staff {
        username: "newbie".into(),
        role: Role::Auditor,
        totp_secret: secret,
    };
    let again = newbie.try_sign_in(
        ts.addr(),
        "a first password",
        &fresh_code(&newbie.totp_secret),
    );
    assert_eq!(
        again.status,
        200,
        "{}",
        String::from_utf8_lossy(&again.body)
    );
}

#[test]
fn password_and_totp_resets() {
    let ts = TestServer::start();
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let mgr = add_staff(&ts, "mgr", Role::Manager, Some("ops"));
    let session = mgr.sign_in(ts.addr());
    change(
        &hr,
        "mgr",
        "reset-password",
        json!({"reason": "forgot it", "password": "a brand new password"}),
    );
    session
        .get(admin_api::PATH_PUNCHES)
        .assert_error(401, "unauthenticated");
    let code = fresh_code(&mgr.totp_secret);
    mgr.try_sign_in(ts.addr(), PASSWORD, &code)
        .assert_error(401, "unauthenticated");
    let new = mgr.try_sign_in(ts.addr(), "a brand new password", &code);
    assert_eq!(new.status, 200, "{}", String::from_utf8_lossy(&new.body));
    // A lost phone: the old authenticator stops working, a new one is enrolled.
    change(&hr, "mgr", "reset-totp", json!({"reason": "phone lost"}));
    let old_secret = mgr.totp_secret.clone();
    let secret = enrol(&ts, "mgr", "a brand new password");
    assert_ne!(secret, old_secret);
}

#[test]
fn read_only_roles_mint_no_tokens_and_tokens_live_at_most_90_days() {
    let ts = TestServer::start();
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let aud = add_staff(&ts, "aud", Role::Auditor, None).sign_in(ts.addr());
    aud.post(
        admin_api::PATH_TOKENS,
        &json!({"name": "x", "scopes": ["view_punches"], "ttl_days": 7}),
    )
    .assert_error(403, "forbidden");
    hr.post(
        admin_api::PATH_TOKENS,
        &json!({"name": "x", "scopes": ["view_punches"], "ttl_days": 365}),
    )
    .assert_error(400, "bad_request");
    ok(hr.post(
        admin_api::PATH_TOKENS,
        &json!({"name": "x", "scopes": ["view_punches"], "ttl_days": 90}),
    ));
}

#[test]
fn the_cli_changes_accounts_too() {
    let ts = TestServer::start();
    let mgr = add_staff(&ts, "mgr", Role::Manager, Some("ops"));
    let session = mgr.sign_in(ts.addr());
    let db = common::db_arg(&ts.db);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_punch-server"))
            .args(["admin", "--db", &db])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let said = run(&["staff", "mgr", "disable", "--reason", "left"]);
    assert!(said.contains("1 sessions ended"), "{said}");
    session
        .get(admin_api::PATH_PUNCHES)
        .assert_error(401, "unauthenticated");
    assert!(run(&["staff-list"]).contains("disabled"));
    run(&["staff", "mgr", "enable", "--reason", "back"]);
    let rows = ts.admin.audit_rows(0, 100).unwrap();
    assert!(
        rows.iter()
            .any(|r| r.action == "staff.disable" && r.reason == "left")
    );
}

/// The id of the newest token `session` may list.
fn newest_token_id(session: &Session) -> String {
    let listed = ok(session.get(admin_api::PATH_TOKENS));
    let tokens = listed["tokens"].as_array().unwrap();
    tokens.last().unwrap()["token_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn one_api_token_is_revoked_alone_by_its_owner_or_hr() {
    let ts = TestServer::start();
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(ts.addr());
    let mgr = add_staff(&ts, "mgr", Role::Manager, Some("ops")).sign_in(ts.addr());
    let other = add_staff(&ts, "mgr2", Role::Manager, Some("sales")).sign_in(ts.addr());
    let first = token(&mgr);
    let first_id = newest_token_id(&mgr);
    let second = token(&mgr);
    let second_id = newest_token_id(&mgr);
    let revoke = |s: &Session, id: &str| {
        s.post(
            &format!("/admin/v1/tokens/{id}/revoke"),
            &json!({"reason": "leaked in a ticket"}),
        )
    };
    // Another manager cannot, and is answered as for a token that does not
    // exist (a manager's not-found is `not_your_team`, finding 12).
    revoke(&other, &first_id).assert_error(403, "not_your_team");
    revoke(&other, "nosuchtoken").assert_error(403, "not_your_team");
    assert_eq!(with_token(&ts, &first), 200);
    // The owner revokes the first: it stops, the second goes on.
    let done = ok(revoke(&mgr, &first_id));
    assert!(done["token"]["revoked_at_ms"].is_i64(), "{done}");
    assert_eq!(with_token(&ts, &first), 401);
    assert_eq!(with_token(&ts, &second), 200);
    // HR revokes anyone's; a reason is required.
    hr.post(
        &format!("/admin/v1/tokens/{second_id}/revoke"),
        &json!({"reason": " "}),
    )
    .assert_error(400, "bad_request");
    ok(revoke(&hr, &second_id));
    assert_eq!(with_token(&ts, &second), 401);
    // The sessions are untouched (a token is not the account).
    ok(mgr.get(admin_api::PATH_PUNCHES));
    let rows = ts.admin.audit_rows(0, 100).unwrap();
    let revoked: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r.action == "token.revoke")
        .map(|r| (r.actor.as_str(), r.target.as_str()))
        .collect();
    assert_eq!(
        revoked,
        vec![
            ("mgr", format!("token:{first_id}").as_str()),
            ("hr", format!("token:{second_id}").as_str())
        ]
    );
}

#[test]
fn the_cli_lists_and_revokes_one_token() {
    let ts = TestServer::start();
    let mgr = add_staff(&ts, "mgr", Role::Manager, Some("ops")).sign_in(ts.addr());
    let kept = token(&mgr);
    let leaked = token(&mgr);
    let leaked_id = newest_token_id(&mgr);
    let db = common::db_arg(&ts.db);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_punch-server"))
            .args(["admin", "--db", &db])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (listed_ok, listed) = run(&["tokens", "--username", "mgr"]);
    assert!(listed_ok && listed.contains(&leaked_id), "{listed}");
    assert!(!listed.contains(&leaked), "a secret listed: {listed}");
    let (revoked, said) = run(&["token-revoke", &leaked_id, "--reason", "leaked"]);
    assert!(revoked, "{said}");
    assert_eq!(with_token(&ts, &leaked), 401);
    assert_eq!(with_token(&ts, &kept), 200);
    assert!(!run(&["token-revoke", "nosuchtoken", "--reason", "x"]).0);
    assert!(
        ts.admin
            .audit_rows(0, 100)
            .unwrap()
            .iter()
            .any(|r| r.action == "token.revoke" && r.reason == "leaked")
    );
}
