//! Retention on both sides through the real server: only acknowledged data
//! is purged, hashes stay, and both chains still verify and go on.

use std::time::Duration;

use punch_core::{PunchKind, UploadState};
use punch_model::rules::policy::Settings;
use punch_model::rules::privacy::PrivacySettings;
use punch_server::Retention;
use punch_tests::world::{World, now_ms};

fn world(phone_retention_days: u32) -> World {
    let w = World::new();
    w.admin
        .set_settings(Settings {
            max_clock_skew_s: 120.0,
            privacy: Some(PrivacySettings {
                phone_retention_days: Some(phone_retention_days),
                ..PrivacySettings::default()
            }),
            ..Settings::default()
        })
        .expect("settings");
    w.admin
        .publish_policy(Duration::from_secs(30 * 86_400))
        .expect("publish");
    w.engine.sync().expect("policy");
    w
}

#[test]
fn the_phone_purges_only_acknowledged_records_and_its_chain_verifies() {
    let w = world(0);
    w.punch_kind(PunchKind::ClockIn);
    w.punch_kind(PunchKind::ClockOut);
    // Nothing acknowledged yet: nothing may go, however old.
    w.clock.advance_ms(5_000);
    assert_eq!(w.engine.purge_expired().expect("purge").records, 0);
    assert_eq!(w.engine.sync().expect("sync").uploaded, 2);
    // The sync purged seq 1 (acknowledged, older than 0 days); the head stays.
    let left: Vec<u64> = w
        .engine
        .punches(0, 10)
        .expect("list")
        .iter()
        .map(|p| p.seq)
        .collect();
    assert_eq!(left, vec![2]);
    w.punch_kind(PunchKind::ClockIn);
    w.clock.advance_ms(5_000);
    let report = w.engine.purge_expired().expect("purge");
    assert_eq!(
        report.records, 1,
        "seq 2, acknowledged and no longer the head"
    );
    let rows = w.engine.punches(0, 10).expect("list");
    assert_eq!(rows.len(), 1, "the pending head stays");
    assert_eq!(
        (rows[0].seq, rows[0].upload_state),
        (3, UploadState::Pending)
    );
    let chain = w.engine.verify_chain().expect("verify");
    assert!(chain.is_intact(), "{chain:?}");
    assert_eq!(chain.head_seq, 3);
    // The chain goes on from the purged hashes, and the server agrees.
    assert_eq!(w.engine.sync().expect("sync").uploaded, 1);
    assert!(w.engine.verify_chain().expect("verify").is_intact());
    let device = w.engine.device().expect("device").device_id;
    assert!(
        w.admin
            .verify_chain(&device)
            .expect("server chain")
            .is_intact()
    );
}

#[test]
fn the_server_purges_by_kind_keeps_hashes_and_reports() {
    let w = world(30);
    for kind in [PunchKind::ClockIn, PunchKind::ClockOut] {
        w.punch_kind(kind);
    }
    assert_eq!(w.engine.sync().expect("sync").uploaded, 2);
    let device = w.engine.device().expect("device").device_id;
    let tomorrow = now_ms() + 86_400_000;
    // Locations go after 1 day; punches (payroll) are kept.
    w.admin
        .set_retention(&Retention {
            exact_location_days: Some(1),
            raw_evidence_days: Some(1),
            audit_days: Some(1),
            punch_days: None,
            photo_days: None,
        })
        .expect("retention");
    let today = w.admin.purge_expired(now_ms()).expect("purge");
    assert_eq!(today.record_bytes, 0, "nothing is a day old yet");
    let report = w.admin.purge_expired(tomorrow + 1_000).expect("purge");
    assert_eq!(report.record_bytes, 2, "{report:?}");
    assert!(report.head_statements > 0, "{report:?}");
    assert_eq!(
        w.admin.punch_record(&device, 1).expect("read"),
        Some(vec![])
    );
    let kept = w.admin.punches().expect("punches");
    assert_eq!(kept.len(), 2, "the punch rows (times, kind, verdict) stay");
    let chain = w.admin.verify_chain(&device).expect("verify");
    assert!(chain.is_intact() && chain.head_seq == 2, "{chain:?}");
    // Then the punch rows themselves; their hashes stay.
    w.admin
        .set_retention(&Retention {
            punch_days: Some(1),
            ..Retention::default()
        })
        .expect("retention");
    assert_eq!(
        w.admin
            .purge_expired(tomorrow + 1_000)
            .expect("purge")
            .punches,
        2
    );
    assert!(w.admin.punches().expect("punches").is_empty());
    assert!(w.admin.verify_chain(&device).expect("verify").is_intact());
    // The device's chain goes on after the server's purge.
    w.punch_kind(PunchKind::ClockIn);
    assert_eq!(w.engine.sync().expect("sync").uploaded, 1);
    let chain = w.admin.verify_chain(&device).expect("verify");
    assert!(chain.is_intact() && chain.head_seq == 3, "{chain:?}");
}
