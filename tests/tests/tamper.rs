//! Tamper evidence across the device and the real server: the upload flags
//! and the device's statements of its head.

use punch_model::wire::{HEADER_HEAD, HeadStatement};
use punch_tests::world::World;

fn raw_db(w: &World) -> rusqlite::Connection {
    rusqlite::Connection::open(w.dir.path().join("device.db")).unwrap()
}

#[test]
fn a_record_flagged_uploaded_behind_the_librarys_back_is_sent_anyway() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.clock.advance_ms(30_000);
    w.punch();
    w.engine.sync().unwrap();
    w.clock.advance_ms(30_000);
    let hidden = w.punch();
    // Someone marks the unsynced punch as uploaded, hoping it never arrives.
    raw_db(&w)
        .execute(
            "UPDATE punches SET upload_state = 'uploaded' WHERE seq = ?1",
            [hidden.seq as i64],
        )
        .unwrap();
    let report = w.engine.sync().unwrap();
    assert_eq!(report.error, None);
    // The server's head (1) is below it: the device re-sent it.
    assert_eq!((report.resent, report.uploaded), (1, 1), "{report:?}");
    let stored: Vec<u64> = w.admin.punches().unwrap().iter().map(|p| p.seq).collect();
    assert_eq!(stored, [1, 2]);
    assert_eq!(report.server_head_mismatch, None);
}

#[test]
fn every_request_states_the_devices_head_under_its_signature() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.clock.advance_ms(30_000);
    let first = w.punch();
    w.proxy.clear_seen();
    w.engine.sync().unwrap();
    let seen = w.proxy.seen();
    assert!(!seen.is_empty());
    for request in &seen {
        let head = String::from_utf8_lossy(&request.raw)
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case(HEADER_HEAD))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| {
                panic!(
                    "{} {} without a head statement",
                    request.method, request.path
                )
            });
        let stated = HeadStatement::parse(&head).unwrap();
        assert_eq!(
            (stated.seq, stated.hash.as_str()),
            (first.seq, first.record_hash.as_str())
        );
    }
    // The server holds the statement: a rewritten record 1 would be a fork.
    let device = w.engine.device().unwrap().device_id;
    assert_eq!(
        w.admin.head(&device).unwrap(),
        (1, first.record_hash.clone())
    );
}

#[test]
fn a_server_holding_a_head_the_device_never_had_is_reported() {
    let w = World::new();
    w.engine.sync().unwrap();
    w.clock.advance_ms(30_000);
    w.punch();
    w.engine.sync().unwrap();
    // The server's idea of this device's head is another record (a restored
    // or forged database on either side).
    let device = w.engine.device().unwrap().device_id;
    w.server_execute(&format!(
        "UPDATE devices SET head_hash = '{}' WHERE device_id = '{device}'",
        "cd".repeat(32)
    ));
    w.clock.advance_ms(60_000);
    let report = w.engine.sync_now().unwrap();
    assert_eq!(report.server_head_mismatch, Some(1), "{report:?}");
    assert_eq!(w.engine.status().unwrap().server_head_mismatch, Some(1));
}
