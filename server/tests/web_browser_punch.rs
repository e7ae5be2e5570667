//! The employee's punch page end to end: a real server behind a trusted
//! proxy, driven by `server/web-tests/browser.mjs` in headless Chromium with
//! a virtual authenticator (Debian's chromium + playwright-core;
//! `scripts/setup.sh` installs both). Ignored by plain `cargo test`;
//! `scripts/test.sh` runs it with `--ignored`. Screenshots land in
//! `target/web-screens/`.

use crate::common;

use common::{DAY, TestServer};
use serde_json::json;

#[test]
#[ignore = "needs chromium and node (scripts/setup.sh); scripts/test.sh runs it"]
fn the_punch_page_in_headless_chromium() {
    // Chromium may reach localhost over either family.
    let limits = punch_server::Limits {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap(), "::1/128".parse().unwrap()],
        ..Default::default()
    };
    let ts = TestServer::with_limits(limits);
    for site in [
        json!({"id": "hq", "name": "Head office",
               "shape": {"type": "circle", "center": {"lat": 52.520008, "lon": 13.404954}, "radius_m": 150.0},
               "cidrs": ["203.0.113.0/24"]}),
        json!({"id": "lab", "name": "Lab",
               "shape": {"type": "circle", "center": {"lat": 48.137, "lon": 11.575}, "radius_m": 100.0},
               "cidrs": ["192.0.2.0/24"], "terminals": [{"terminal": "phone"}]}),
    ] {
        ts.admin
            .upsert_site(serde_json::from_value(site).unwrap())
            .unwrap();
    }
    ts.admin.publish_policy(DAY * 30).unwrap();
    ts.admin.add_employee("ann", "Ann").unwrap();
    let code = ts.admin.create_enrollment_code("ann", DAY).unwrap();
    let cfg = json!({
        // localhost, not 127.0.0.1: the passkeys' relying party.
        "base_url": format!("http://localhost:{}", ts.addr().port()),
        "code": code,
        "employee": "ann",
        "office_ip": "203.0.113.9",
        "elsewhere_ip": "198.51.100.7",
        "lab_ip": "192.0.2.5",
        "inside": {"latitude": 52.52001, "longitude": 13.40496, "accuracy": 15},
        "outside": {"latitude": 52.54, "longitude": 13.44, "accuracy": 15},
        "at_lab": {"latitude": 48.13701, "longitude": 11.57501, "accuracy": 10},
    });
    common::run_web_test("browser.mjs", &cfg);
    // On the server: one punch, the accepted one, in the passkey's chain,
    // which verifies again; the refused ones were not stored as punches.
    let punches = ts.admin.punches().unwrap();
    assert_eq!(punches.len(), 1, "{punches:?}");
    let p = &punches[0];
    assert!(p.device_id.starts_with("browser-"), "{p:?}");
    assert_eq!(
        (p.employee_id.as_str(), p.decision.as_str()),
        ("ann", "accepted")
    );
    assert_eq!(p.site_id.as_deref(), Some("hq"));
    let report = ts.admin.verify_chain(&p.device_id).unwrap();
    assert!(report.is_intact(), "{report:?}");
    // The refused ones the passkey signed are kept as evidence (not
    // punches, not links of its chain).
    let kept = ts.admin.rejected().unwrap();
    assert!(
        kept.iter()
            .any(|r| r.device_id == p.device_id && r.reason == "refused_by_rules"),
        "{kept:?}"
    );
}
