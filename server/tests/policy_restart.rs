//! Policy publishing and fetching, and a restart keeping everything.

use crate::common;

use std::net::TcpStream;

use common::{DAY, TestServer, now_ms, outcomes};
use punch_model::ledger::signing;
use punch_model::rules::policy::{Policy, Settings};
use punch_model::wire::{self, PolicyResponse, TimeResponse};
use punch_server::ServerError;

#[test]
fn policy_is_published_signed_and_fetched_byte_exact() {
    let server = TestServer::start();
    let device = server.enrolled_device("e-1");
    let addr = server.addr();

    let none = device.signed(addr, "GET", wire::PATH_POLICY, b"");
    none.assert_error(404, "no_policy");
    assert_eq!(none.header(wire::HEADER_POLICY_VERSION), Some("0"));

    server
        .admin
        .set_settings(Settings {
            max_accuracy_m: 80.0,
            ..Default::default()
        })
        .unwrap();
    let before = now_ms();
    let v1 = server.publish();
    assert_eq!(v1, 1);

    let resp = device.signed(addr, "GET", wire::PATH_POLICY, b"");
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    resp.assert_stamped();
    assert_eq!(resp.header(wire::HEADER_POLICY_VERSION), Some("1"));
    let fetched: PolicyResponse = resp.parse();
    assert_eq!(fetched.version, 1);
    assert_eq!(fetched.time_token.len(), 64);

    // The signature verifies over the exact bytes with the pinned key.
    let key = server.admin.policy_public_key().unwrap();
    assert_eq!(key.len(), 91);
    signing::verify(&key, &fetched.body, &fetched.signature).unwrap();
    let mut tampered = fetched.body.clone();
    tampered[0] ^= 0x20;
    assert!(signing::verify(&key, &tampered, &fetched.signature).is_err());

    let policy = Policy::from_json(&fetched.body).unwrap();
    assert_eq!(policy.version, 1);
    assert!(policy.issued_at_ms >= before && policy.issued_at_ms <= now_ms());
    assert_eq!(
        policy.expires_at_ms,
        Some(policy.issued_at_ms + 30 * 86_400_000)
    );
    assert_eq!(policy.settings.max_accuracy_m, 80.0);
    assert_eq!(policy.sites.len(), 1);
    assert_eq!(policy.sites[0].id, "hq");
    // A device would accept it.
    punch_model::rules::policy::PreparedPolicy::new(policy).unwrap();

    // Removing the site and publishing again: version 2, announced everywhere.
    server.admin.remove_site("hq").unwrap();
    assert!(matches!(
        server.admin.remove_site("hq"),
        Err(ServerError::UnknownSite(_))
    ));
    assert_eq!(server.admin.publish_policy(DAY).unwrap(), 2);
    let time = device.time(addr);
    assert_eq!(time.header(wire::HEADER_POLICY_VERSION), Some("2"));
    assert_eq!(time.parse::<TimeResponse>().policy_version, 2);
    let v2: PolicyResponse = device.signed(addr, "GET", wire::PATH_POLICY, b"").parse();
    assert_eq!(v2.version, 2);
    signing::verify(&key, &v2.body, &v2.signature).unwrap();
    assert!(Policy::from_json(&v2.body).unwrap().sites.is_empty());
}

#[test]
fn invalid_sites_and_settings_are_refused_before_publishing() {
    let server = TestServer::start();
    let bad: punch_model::rules::policy::Site = serde_json::from_value(serde_json::json!({
        "id": "nowhere",
        "shape": {"type": "circle", "center": {"lat": 123.0, "lon": 13.4}, "radius_m": 50.0}
    }))
    .unwrap();
    assert!(matches!(
        server.admin.upsert_site(bad),
        Err(ServerError::InvalidPolicy(_))
    ));
    let bad_settings = Settings {
        max_clock_skew_s: -1.0,
        ..Default::default()
    };
    assert!(server.admin.set_settings(bad_settings).is_err());
    assert!(server.admin.sites().unwrap().is_empty());
}

#[test]
fn a_restart_keeps_devices_punches_keys_and_time_tokens() {
    let mut server = TestServer::start();
    let version = server.publish();
    let key = server.admin.policy_public_key().unwrap();
    let mut device = server.enrolled_device("e-1");
    let anchor = device.anchor(server.addr(), 1_000);
    let r1 = device.next(version, |_| {});
    let r2 = device.next(version, |_| {});
    device.upload_ok(server.addr(), vec![r1.clone(), r2]);

    let old_addr = server.stop();
    assert!(
        TcpStream::connect(old_addr).is_err(),
        "the port is closed once stop returns"
    );
    server.restart();
    let addr = server.addr();

    // Same device, same key; same chain head; same policy key.
    assert_eq!(device.time(addr).status, 200);
    assert_eq!(device.upload_ok(addr, vec![]).head_seq, 2);
    assert_eq!(
        device.upload_ok(addr, vec![r1]).results[0].status,
        wire::RecordStatus::Duplicate
    );
    assert_eq!(server.admin.policy_public_key().unwrap(), key);
    // A token issued before the restart still proves its anchor.
    let r3 = device.next(version, |r| {
        r.anchor = Some(anchor);
        r.monotonic_ms = 61_000;
    });
    let resp = device.upload_ok(addr, vec![r3]);
    assert_eq!(outcomes(&resp), vec![(3, "accepted", None)]);
    let punches = server.admin.punches().unwrap();
    assert_eq!(punches.len(), 3);
    assert_eq!(punches[2].time_status, "anchored");
    let fetched: PolicyResponse = device.signed(addr, "GET", wire::PATH_POLICY, b"").parse();
    assert_eq!(fetched.version, version);
}
