//! Concurrent sign-ins and memory (audit finding 7): Argon2 takes 19 MiB a
//! hash, so the server hashes a bounded number of passwords at once. Alone
//! in its binary (its own `[[test]]` target, outside `integration`): it
//! reads the process's peak resident size.

#[path = "../common/mod.rs"]
mod common;

use common::{TestServer, request};
use punch_server::Limits;
use punch_server::RateRule;

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn sixty_four_sign_ins_at_once_hash_a_few_at_a_time() {
    let limits = Limits {
        staff_signin_per_ip: RateRule {
            hits: 1000,
            window_s: 60,
        },
        ..Limits::default()
    };
    let ts = TestServer::with_limits(limits);
    let addr = ts.addr();
    // Warm up: one hash (the dummy's PHC string is made once).
    let body = |i: usize| {
        serde_json::json!({"username": format!("u{i}"), "password": "wrong password!!", "totp": "0"})
            .to_string()
    };
    let json = [("content-type", "application/json".to_string())];
    request(
        addr,
        "POST",
        "/admin/v1/session",
        &json,
        body(999).as_bytes(),
    );
    let before = peak_rss_kib();
    std::thread::scope(|s| {
        for i in 0..64 {
            let b = body(i);
            let json = &json;
            s.spawn(move || {
                let r = request(addr, "POST", "/admin/v1/session", json, b.as_bytes());
                assert_eq!(r.status, 401);
            });
        }
    });
    let grown_mib = (peak_rss_kib() - before) / 1024;
    eprintln!("64 concurrent sign-ins: peak resident size grew {grown_mib} MiB");
    // 64 × 19 MiB would be over 1.2 GiB; the default bound is 4 at once.
    assert!(grown_mib < 300, "peak resident size grew {grown_mib} MiB");
}
