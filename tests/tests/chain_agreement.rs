//! The three walks of one chain agree, with the real engine and the real
//! server: the phone's `verify_chain`, server ingest (every record
//! accepted) and the server's `verify_chain` (`admin verify-chain`), over
//! chains mixing punches, make-up requests (events), purges on both sides
//! — a later record purged while an earlier one is kept, the clock having
//! gone back — and an acknowledged break whose anchor the phone purged.

use std::time::Duration;

use punch_core::{Clock, MakeUpRequest, PunchKind};
use punch_model::rules::policy::Settings;
use punch_model::rules::privacy::PrivacySettings;
use punch_server::Retention;
use punch_tests::world::{World, now_ms};

const HOUR: i64 = 3_600_000;

/// A world whose phone purges what the server acknowledged at once.
fn world() -> World {
    let w = World::new();
    w.admin
        .set_settings(Settings {
            max_clock_skew_s: 120.0,
            privacy: Some(PrivacySettings {
                phone_retention_days: Some(0),
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

fn make_up(w: &World) -> MakeUpRequest {
    MakeUpRequest {
        kind: PunchKind::ClockIn,
        intended_time_ms: w.clock.now().wall_time_ms - HOUR,
        site_id: Some("hq".into()),
        reason: "no signal in the lift".into(),
        attachments: vec![],
        refused_attempt: None,
        fault: None,
    }
}

/// Both sides' walks of the device's chain are intact (but for the seqs
/// the phone keeps as evidence of an edit, `phone_breaks`); returns the
/// server's head.
fn all_agree(w: &World, phone_breaks: &[u64]) -> u64 {
    let phone = w.engine.verify_chain().expect("phone walk");
    let mut broken: Vec<u64> = phone.breaks.iter().map(|b| b.seq).collect();
    broken.dedup();
    assert_eq!(broken, phone_breaks, "phone: {phone:?}");
    let device = w.engine.device().expect("device").device_id;
    let server = w.admin.verify_chain(&device).expect("server walk");
    assert!(server.is_intact(), "server: {server:?}");
    assert_eq!(server.head_seq, w.admin.head(&device).expect("head").0);
    server.head_seq
}

#[test]
fn a_later_record_purged_before_an_earlier_one_still_verifies_everywhere() {
    let w = world();
    let start = w.clock.now().wall_time_ms;
    // The phone's clock runs ten hours ahead, then is set right: record 2
    // (an event) and 3 are "older" than record 1.
    w.clock.set_wall_ms(start + 10 * HOUR);
    w.punch_kind(PunchKind::ClockIn);
    w.clock.set_wall_ms(start);
    w.engine.file_make_up_request(make_up(&w)).expect("make-up");
    w.clock.set_wall_ms(start + 1_000);
    w.punch_kind(PunchKind::ClockOut);
    w.clock.advance_ms(1_000);
    w.punch_kind(PunchKind::ClockIn);
    let report = w.engine.sync().expect("sync");
    assert_eq!(
        (report.uploaded, report.rejected.len()),
        (4, 0),
        "{report:?}"
    );
    // The sync purged what the server acknowledged and is older than now:
    // 2, not 1 (its wall time is ahead) nor the head.
    let left: Vec<u64> = w
        .engine
        .punches(0, 10)
        .expect("list")
        .iter()
        .map(|p| p.seq)
        .collect();
    assert!(left.contains(&1) && !left.contains(&2), "{left:?}");
    assert_eq!(all_agree(&w, &[]), 4);
    // The server purges the bytes too; the chain goes on and still agrees.
    w.admin
        .set_retention(&Retention {
            exact_location_days: Some(1),
            ..Retention::default()
        })
        .expect("retention");
    w.admin
        .purge_expired(now_ms() + 11 * HOUR + 86_400_000)
        .expect("purge");
    w.clock.advance_ms(1_000);
    w.punch_kind(PunchKind::ClockOut);
    assert_eq!(w.engine.sync().expect("sync").uploaded, 1);
    assert_eq!(all_agree(&w, &[]), 5);
}

#[test]
fn an_acknowledged_break_anchored_to_a_purged_record_verifies_everywhere() {
    let w = world();
    // Record 1 (the head HR will acknowledge) an hour old: purged once
    // acknowledged and no longer the newest.
    let start = w.clock.now().wall_time_ms;
    w.clock.set_wall_ms(start - HOUR);
    w.punch();
    w.clock.set_wall_ms(start);
    assert_eq!(w.engine.sync().expect("sync").uploaded, 1);
    // Record 2 edited behind the library's back: it and 3 are refused.
    for _ in 0..2 {
        w.clock.advance_ms(20_000);
        w.punch();
    }
    let db = rusqlite::Connection::open(w.dir.path().join("device.db")).expect("db");
    let bytes: Vec<u8> = db
        .query_row("SELECT record FROM punches WHERE seq = 2", [], |r| r.get(0))
        .expect("row");
    let edited = String::from_utf8(bytes)
        .expect("json")
        .replace("clock_in", "clock_out");
    db.execute(
        "UPDATE punches SET record = ?1 WHERE seq = 2",
        [edited.as_bytes()],
    )
    .expect("edit");
    let report = w.engine.sync().expect("sync");
    assert_eq!(report.rejected.len(), 2, "{report:?}");
    let device = w.engine.device().expect("device").device_id;
    w.admin
        .acknowledge_break(&device, "phone storage corrupted; ticket HR-9")
        .expect("ack");
    w.clock.advance_ms(20_000);
    assert_eq!(w.engine.sync().expect("sync").chain_reset, Some(2));
    // The new segment starts with an event, then a punch.
    w.clock.advance_ms(20_000);
    w.engine.file_make_up_request(make_up(&w)).expect("make-up");
    w.clock.advance_ms(20_000);
    w.punch_kind(PunchKind::ClockOut);
    let report = w.engine.sync().expect("sync");
    assert_eq!(
        (report.uploaded, report.rejected.len()),
        (2, 0),
        "{report:?}"
    );
    // The phone purged its acknowledged records, the anchor (1) among
    // them: their hashes stay.
    let left: Vec<u64> = w
        .engine
        .punches(0, 10)
        .expect("list")
        .iter()
        .map(|p| p.seq)
        .collect();
    assert!(!left.contains(&1), "{left:?}");
    // The phone still shows the edited record (2, and 3 naming its old
    // hash): evidence, not repaired. The segment start (4) is no break.
    assert_eq!(all_agree(&w, &[2, 3]), 5);
    let server = w.admin.verify_chain(&device).expect("server walk");
    assert_eq!(
        server
            .applied_breaks
            .iter()
            .map(|a| (a.anchor_seq, a.start_seq))
            .collect::<Vec<_>>(),
        [(1, 4)]
    );
}
