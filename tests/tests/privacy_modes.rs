//! Each minimisation mode end to end through the real server: what the phone
//! stores, what the server stores (the same signed bytes), what review still
//! checks, and a dispute settled by revealing the committed exact evidence.

use std::time::Duration;

use geographiclib_rs::{DirectGeodesic, Geodesic};
use punch_core::{Clock, Evidence, GpsFix, PunchError, PunchKind, PunchRecord, WifiObservation};
use punch_model::geofence::{LatLon, Shape};
use punch_model::ledger::minimise::{cell_radius_m, verify_opening};
use punch_model::rules::policy::{Settings, Site, WifiRule};
use punch_model::rules::privacy::{LocationPrecision, PrivacySettings};
use punch_tests::world::{EMPLOYEE, HQ, World};

const OFFICE_AP: &str = "a4:2b:b0:10:20:30";
/// A café's access point that happens to broadcast the office's name.
const COPYCAT_AP: &str = "c0:ff:ee:00:00:01";
/// A neighbour's network: neither its MAC nor its name may be kept.
const NEIGHBOUR_AP: &str = "de:ad:be:ef:00:02";
/// base64 of 32 bytes: the employer's HMAC key for BSSIDs.
const WIFI_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn world_with(privacy: PrivacySettings) -> World {
    let w = World::new();
    w.admin
        .upsert_site(Site {
            id: "hq".into(),
            name: "HQ".into(),
            shape: Shape::Circle {
                center: LatLon::new(HQ.0, HQ.1),
                radius_m: 150.0,
            },
            wifi: WifiRule {
                bssids: vec![OFFICE_AP.parse_bssid()],
                ssids: vec!["ACME".into()],
            },
            cidrs: vec![],
            rule: Default::default(),
            min_assurance: None,
            terminals: Default::default(),
        })
        .expect("site");
    w.admin
        .set_settings(Settings {
            max_clock_skew_s: 120.0,
            privacy: Some(privacy),
            ..Settings::default()
        })
        .expect("settings");
    w.admin
        .publish_policy(Duration::from_secs(86_400))
        .expect("publish");
    w.engine.sync().expect("policy");
    w
}

trait ParseBssid {
    fn parse_bssid(&self) -> punch_model::rules::evidence::Bssid;
}

impl ParseBssid for &str {
    fn parse_bssid(&self) -> punch_model::rules::evidence::Bssid {
        punch_model::rules::evidence::Bssid::parse(self).expect("bssid")
    }
}

/// 60 m from HQ's centre, inside its 150 m fence.
fn evidence_at_hq(w: &World) -> (Evidence, (f64, f64)) {
    let at: (f64, f64) = Geodesic::wgs84().direct(HQ.0, HQ.1, 40.0, 60.0);
    let ap = |bssid: &str, ssid: &str| WifiObservation {
        bssid: bssid.into(),
        ssid: Some(ssid.into()),
        rssi_dbm: Some(-60),
    };
    let evidence = Evidence {
        gps: Some(GpsFix {
            lat: at.0,
            lon: at.1,
            accuracy_m: 10.0,
            fix_time_ms: w.clock.now().wall_time_ms,
            provider: "gps".into(),
            is_mock: false,
            speed_mps: None,
            elapsed_realtime_ms: None,
            reduced_accuracy: false,
            external_receiver: false,
        }),
        wifi: vec![
            ap(OFFICE_AP, "ACME"),
            ap(COPYCAT_AP, "ACME"),
            ap(NEIGHBOUR_AP, "FreeWifi"),
        ],
        ip_addresses: vec![],
    };
    (evidence, at)
}

/// The phone's stored bytes and the server's, which must be identical.
fn punch_and_sync(w: &World) -> (Vec<u8>, PunchRecord, (f64, f64)) {
    let (evidence, at) = evidence_at_hq(w);
    let receipt = w
        .engine
        .punch(PunchKind::ClockIn, &evidence)
        .expect("punch");
    let phone = w.engine.punches(0, 10).expect("punches");
    let phone = phone.last().expect("stored").record.clone();
    let report = w.engine.sync().expect("sync");
    assert_eq!(report.uploaded, 1, "{report:?}");
    let device = w.engine.device().expect("device").device_id;
    let server = w
        .admin
        .punch_record(&device, receipt.seq)
        .expect("read")
        .expect("stored on the server");
    assert_eq!(server, phone, "the server stores exactly the signed bytes");
    let record = PunchRecord::from_bytes(&server).expect("parse");
    (server, record, at)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_lowercase()
}

/// No raw MAC of any network, and no foreign network's name, in the bytes.
fn assert_wifi_minimised(bytes: &[u8], record: &PunchRecord) {
    let t = text(bytes);
    for mac in [OFFICE_AP, COPYCAT_AP, NEIGHBOUR_AP] {
        assert!(!t.contains(mac), "raw MAC {mac} stored: {t}");
    }
    assert!(!t.contains("freewifi"), "a foreign SSID stored");
    let wifi = &record.evidence.wifi_matched;
    assert_eq!(wifi.len(), 2, "{wifi:?}");
    assert!(
        wifi[0].starts_with("hmac:") && wifi[0].ends_with(" ACME"),
        "{wifi:?}"
    );
    assert_eq!(wifi[1], "- ACME", "a name-only match keeps no MAC");
    assert_eq!(record.evidence.wifi_seen, 3);
}

fn server_flags(w: &World) -> Vec<punch_model::ledger::review::ReviewFlag> {
    let punches = w.admin.punches().expect("punches");
    assert_eq!(punches.len(), 1);
    punches[0].review_flags.clone()
}

#[test]
fn exact_mode_keeps_the_fix_and_hashes_bssids() {
    let w = world_with(PrivacySettings {
        wifi_hmac_key: Some(WIFI_KEY.into()),
        ..PrivacySettings::default()
    });
    let (bytes, record, at) = punch_and_sync(&w);
    let fix = record.evidence.gps.as_ref().expect("exact fix kept");
    assert_eq!((fix.point.lat, fix.point.lon), at);
    assert_eq!(record.evidence.precision, None);
    assert_wifi_minimised(&bytes, &record);
    // Hashed BSSIDs are recognised from the policy's key: review re-judges all.
    assert!(server_flags(&w).is_empty(), "{:?}", server_flags(&w));
    // The commitment covers the raw MACs the record hashed.
    let opening = w
        .engine
        .evidence_opening(1)
        .expect("read")
        .expect("opening");
    let opened = verify_opening(&record.evidence, &opening).expect("matches");
    assert!(opened.wifi.iter().any(|x| x.starts_with(OFFICE_AP)));
}

#[test]
fn coarse_mode_stores_a_grid_cell_and_a_reveal_settles_it() {
    let w = world_with(PrivacySettings {
        location: LocationPrecision::Coarse { grid_m: 1000.0 },
        wifi_hmac_key: Some(WIFI_KEY.into()),
        ..PrivacySettings::default()
    });
    let (bytes, record, at) = punch_and_sync(&w);
    let fix = record.evidence.gps.as_ref().expect("coarse fix kept");
    assert_ne!(
        (fix.point.lat, fix.point.lon),
        at,
        "the exact fix is not stored"
    );
    let off = punch_model::geofence::distance_m(fix.point, LatLon::new(at.0, at.1));
    assert!(off <= cell_radius_m(1000.0), "{off} m from the fix");
    assert!(
        !text(&bytes).contains(&format!("{:.5}", at.0)),
        "exact latitude leaked"
    );
    assert_eq!(
        record.evidence.precision,
        Some(LocationPrecision::Coarse { grid_m: 1000.0 })
    );
    // No distance finer than the grid survives in the evaluation.
    for site in &record.evaluation.sites {
        for check in &site.checks {
            if let Some(d) = check.distance_to_edge_m {
                assert_eq!(d % 1000.0, 0.0, "{d}");
            }
        }
    }
    assert_wifi_minimised(&bytes, &record);
    assert!(record.evidence.commitment.is_some());
    assert!(server_flags(&w).is_empty(), "{:?}", server_flags(&w));
    // A dispute: the employee reveals; the server re-judges the exact fix.
    let answer = w.engine.reveal_evidence(1).expect("reveal");
    assert!(answer.review_flags.is_empty(), "{answer:?}");
    let revealed = w.admin.revelations(EMPLOYEE).expect("revelations");
    assert_eq!(revealed.len(), 1);
    assert_eq!(revealed[0].review_flags, "[]");
}

#[test]
fn verdict_only_mode_stores_no_fix_and_the_reveal_settles_it() {
    let w = world_with(PrivacySettings {
        location: LocationPrecision::VerdictOnly,
        wifi_hmac_key: Some(WIFI_KEY.into()),
        ..PrivacySettings::default()
    });
    let (bytes, record, at) = punch_and_sync(&w);
    assert!(record.evidence.gps.is_none());
    let distance = record.evidence.distance_m.expect("distance to the fence");
    assert!((80.0..=100.0).contains(&distance), "{distance}");
    assert!(!text(&bytes).contains(&format!("{:.4}", at.0)));
    assert!(!text(&bytes).contains(&format!("{:.4}", at.1)));
    assert_wifi_minimised(&bytes, &record);
    assert_eq!(record.evaluation.decision, punch_core::Decision::Accepted);
    assert!(server_flags(&w).is_empty());
    let opening = w
        .engine
        .evidence_opening(1)
        .expect("read")
        .expect("opening");
    let opened = verify_opening(&record.evidence, &opening).expect("matches");
    assert_eq!(opened.gps.map(|g| (g.point.lat, g.point.lon)), Some(at));
    let answer = w.engine.reveal_evidence(1).expect("reveal");
    assert!(answer.review_flags.is_empty(), "{answer:?}");
}

#[test]
fn a_record_that_keeps_everything_has_nothing_to_reveal() {
    let w = world_with(PrivacySettings::default());
    let (_, record, _) = punch_and_sync(&w);
    assert!(record.evidence.commitment.is_none());
    let t = text(&w.engine.punches(0, 1).expect("punches")[0].record);
    assert!(
        t.contains(OFFICE_AP),
        "without a key the office's own AP is kept"
    );
    assert!(
        !t.contains(COPYCAT_AP),
        "a name-only match never keeps the MAC"
    );
    assert!(matches!(
        w.engine.reveal_evidence(1),
        Err(PunchError::NothingToReveal { seq: 1 })
    ));
}

#[test]
fn the_notice_is_required_once_and_carried_by_the_first_punch() {
    let w = world_with(PrivacySettings {
        notice_version: Some("2026-01".into()),
        require_notice: true,
        ..PrivacySettings::default()
    });
    let (evidence, _) = evidence_at_hq(&w);
    assert_eq!(
        w.engine.notice_required().expect("notice"),
        Some("2026-01".into())
    );
    match w.engine.punch(PunchKind::ClockIn, &evidence) {
        Err(PunchError::NoticeNotAcknowledged { version }) => assert_eq!(version, "2026-01"),
        other => panic!("expected a refusal until acknowledged, got {other:?}"),
    }
    assert_eq!(w.engine.punches(0, 10).expect("punches").len(), 0);
    w.engine.acknowledge_notice("2025-06").expect("ack old");
    assert!(
        w.engine.punch(PunchKind::ClockIn, &evidence).is_err(),
        "an older notice is not this one"
    );
    w.engine.acknowledge_notice("2026-01").expect("ack");
    assert_eq!(w.engine.notice_required().expect("notice"), None);
    w.engine
        .punch(PunchKind::ClockIn, &evidence)
        .expect("punch");
    w.engine
        .punch(PunchKind::ClockOut, &evidence)
        .expect("punch");
    let rows = w.engine.punches(0, 10).expect("punches");
    let records: Vec<PunchRecord> = rows
        .iter()
        .map(|r| PunchRecord::from_bytes(&r.record).expect("parse"))
        .collect();
    assert_eq!(
        records[0].notice.as_ref().map(|n| n.version.as_str()),
        Some("2026-01")
    );
    assert!(
        records[1].notice.is_none(),
        "only the first punch under the version"
    );
    let report = w.engine.sync().expect("sync");
    assert_eq!(
        report.uploaded, 2,
        "the server accepts records with a notice"
    );
}
