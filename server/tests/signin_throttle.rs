//! Staff sign-in under attack (audit findings 6 and 7): no username oracle,
//! a lock nobody can aim at the owner, throttles decided before any hash
//! and under the write lock, and limits keyed on the client behind a
//! trusted proxy.

use crate::common;

use std::net::SocketAddr;

use common::staff::{PASSWORD, Staff, add_staff};
use common::{Http, TestServer, request};
use punch_server::Limits;
use punch_server::Role;

/// Behind a proxy on 127.0.0.1, as the deployment guide asks.
fn proxied() -> Limits {
    Limits {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..Limits::default()
    }
}

fn attempt(addr: SocketAddr, from: Option<&str>, user: &str, password: &str, code: &str) -> Http {
    let body = serde_json::json!({"username": user, "password": password, "totp": code});
    let mut headers = vec![("content-type", "application/json".to_string())];
    if let Some(ip) = from {
        headers.push(("x-forwarded-for", ip.to_string()));
    }
    request(
        addr,
        "POST",
        "/admin/v1/session",
        &headers,
        body.to_string().as_bytes(),
    )
}

fn answers(resps: &[Http]) -> Vec<(u16, String)> {
    resps.iter().map(|r| (r.status, r.error_code())).collect()
}

#[test]
fn unknown_and_known_usernames_are_answered_alike() {
    let ts = TestServer::start();
    add_staff(&ts, "hr", Role::HrAdmin, None);
    let tries = |user: &str| -> Vec<Http> {
        (0..7)
            .map(|_| attempt(ts.addr(), None, user, "wrong password!!", "000000"))
            .collect()
    };
    let known = tries("hr");
    let unknown = tries("nobody");
    assert_eq!(answers(&known), answers(&unknown));
    assert_eq!(known[6].status, 429);
}

#[test]
fn failures_from_elsewhere_do_not_lock_out_the_owner() {
    let ts = TestServer::with_limits(proxied());
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None);
    // 20 junk attempts from one client, more than either throttle allows.
    for _ in 0..20 {
        attempt(
            ts.addr(),
            Some("198.51.100.7"),
            "hr",
            "wrong password!!",
            "000000",
        );
    }
    let last = attempt(ts.addr(), Some("198.51.100.7"), "hr", PASSWORD, &hr.code());
    assert_eq!(last.status, 429, "the attacker's address is throttled");
    // The owner, at their own address, signs in.
    let owner = attempt(ts.addr(), Some("203.0.113.5"), "hr", PASSWORD, &hr.code());
    assert_eq!(
        owner.status,
        200,
        "{}",
        String::from_utf8_lossy(&owner.body)
    );
}

#[test]
fn parallel_attempts_get_no_more_guesses_than_serial_ones() {
    let limits = Limits {
        staff_signin_per_ip: punch_server::RateRule {
            hits: 1000,
            window_s: 60,
        },
        ..Limits::default()
    };
    let ts = TestServer::with_limits(limits);
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None);
    let addr = ts.addr();
    // 23 wrong guesses at once, and while they are being checked, the
    // right one: the 24th attempt in the window, past the five allowed.
    let (resps, right) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..23)
            .map(|_| s.spawn(move || attempt(addr, None, "hr", "wrong password!!", "000000")))
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let right = attempt(addr, None, "hr", PASSWORD, &hr.code());
        let resps: Vec<Http> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        (resps, right)
    });
    let guessed = resps.iter().filter(|r| r.status == 401).count();
    assert!(
        guessed <= 5,
        "{guessed} guesses were checked: {:?}",
        answers(&resps)
    );
    assert_eq!(
        right.status,
        429,
        "{}",
        String::from_utf8_lossy(&right.body)
    );
}

#[test]
fn the_right_password_with_wrong_codes_locks_the_account() {
    let ts = TestServer::with_limits(proxied());
    let hr: Staff = add_staff(&ts, "hr", Role::HrAdmin, None);
    let wrong_code = if hr.code() == "000000" {
        "111111"
    } else {
        "000000"
    };
    // Someone holds the password: from five addresses, five wrong codes.
    for i in 0..5 {
        let from = format!("198.51.100.{i}");
        attempt(ts.addr(), Some(&from), "hr", PASSWORD, wrong_code);
    }
    // The account is locked everywhere until HR unlocks it.
    attempt(ts.addr(), Some("203.0.113.5"), "hr", PASSWORD, &hr.code()).assert_error(429, "locked");
}

#[test]
fn behind_a_trusted_proxy_limits_key_on_the_client() {
    let ts = TestServer::with_limits(proxied());
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None);
    // 20 junk sign-ins for other names: the per-address limit of one client.
    for i in 0..20 {
        attempt(
            ts.addr(),
            Some("198.51.100.7"),
            &format!("x{i}"),
            "junk junk junk",
            "0",
        );
    }
    attempt(ts.addr(), Some("198.51.100.7"), "x", "junk junk junk", "0")
        .assert_error(429, "rate_limited");
    let ok = attempt(ts.addr(), Some("203.0.113.5"), "hr", PASSWORD, &hr.code());
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
}

#[test]
fn a_forwarded_address_is_not_believed_from_anyone_else() {
    // No proxy configured: the header is the client's own words.
    let ts = TestServer::start();
    for i in 0..20 {
        let from = format!("198.51.100.{i}");
        attempt(
            ts.addr(),
            Some(&from),
            &format!("x{i}"),
            "junk junk junk",
            "0",
        );
    }
    attempt(ts.addr(), Some("203.0.113.99"), "y", "junk junk junk", "0")
        .assert_error(429, "rate_limited");
}
