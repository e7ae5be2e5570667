//! A re-send at a seq whose bytes retention purged, over real HTTP and the
//! real store (both back ends): the kept hash tells the same record
//! (duplicate) from another one at that seq (a fork, refused as a
//! conflicting duplicate and kept as evidence).

use crate::common;

use common::{Device, TestServer, now_ms, outcomes};
use punch_model::ledger::record::{GENESIS_HASH, PunchKind};
use punch_model::wire::UploadRecord;
use punch_server::Retention;

const DAY_MS: i64 = 86_400_000;

/// Two accepted punches, then their bytes (or rows) purged by `retention`.
fn purged(retention: Retention) -> (TestServer, Device, u64, [UploadRecord; 2]) {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-purged");
    let r1 = device.next(version, |_| {});
    let r2 = device.next(version, |r| r.kind = PunchKind::ClockOut);
    let resp = device.upload_ok(server.addr(), vec![r1.clone(), r2.clone()]);
    assert_eq!(
        outcomes(&resp),
        vec![(1, "accepted", None), (2, "accepted", None)]
    );
    server.admin.set_retention(&retention).unwrap();
    server.admin.purge_expired(now_ms() + 2 * DAY_MS).unwrap();
    (server, device, version, [r1, r2])
}

/// Another punch at seq 1, honestly signed by the same device: a fork.
fn fork_of_seq_1(device: &Device, version: u64) -> UploadRecord {
    let mut other = device.record(1, GENESIS_HASH, version);
    other.wall_time_ms -= 3_600_000;
    device.sign(&other)
}

fn check_resends(server: &TestServer, device: &Device, version: u64, sent: &[UploadRecord; 2]) {
    let addr = server.addr();
    let resp = device.upload_ok(addr, sent.to_vec());
    assert_eq!(
        outcomes(&resp),
        vec![(1, "duplicate", None), (2, "duplicate", None)],
        "the same records again"
    );
    let fork = fork_of_seq_1(device, version);
    let resp = device.upload_ok(addr, vec![fork.clone()]);
    assert_eq!(
        outcomes(&resp),
        vec![(1, "rejected", Some("conflicting_duplicate".into()))],
        "{:?}",
        resp.results
    );
    assert!(
        resp.results[0]
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("purged")),
        "{:?}",
        resp.results[0]
    );
    assert_eq!(resp.head_seq, 2, "the head does not move");
    let evidence = server.admin.rejected().unwrap();
    assert_eq!(evidence.len(), 1, "the fork is kept as evidence");
    assert_eq!(
        (evidence[0].seq, evidence[0].reason.as_str()),
        (1, "conflicting_duplicate")
    );
    assert_eq!(evidence[0].record, fork.record);
    assert!(server.admin.verify_chain(&device.id).unwrap().is_intact());
}

#[test]
fn a_fork_at_a_seq_whose_bytes_were_purged_is_caught_by_the_kept_hash() {
    let (server, device, version, sent) = purged(Retention {
        exact_location_days: Some(1),
        ..Retention::default()
    });
    assert_eq!(
        server.admin.punch_record(&device.id, 1).unwrap(),
        Some(vec![]),
        "the bytes are gone"
    );
    check_resends(&server, &device, version, &sent);
}

#[test]
fn a_fork_at_a_seq_whose_punch_row_was_purged_is_caught_by_the_kept_hash() {
    let (server, device, version, sent) = purged(Retention {
        punch_days: Some(1),
        ..Retention::default()
    });
    assert!(
        server.admin.punches().unwrap().is_empty(),
        "the rows are gone"
    );
    check_resends(&server, &device, version, &sent);
}
