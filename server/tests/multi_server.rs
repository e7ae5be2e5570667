//! Several stateless servers over one database: exactly-once holds when one
//! device's batch reaches two servers at once, or its retry lands on the
//! other server; nonces, time tokens, policy keys and rate counters are
//! shared through the database, not process memory.

use crate::common;

use std::collections::BTreeSet;

use common::{Device, TestServer, outcomes, start_on};
use punch_model::wire::{self, RecordStatus};
use punch_server::Limits;

#[test]
fn one_batch_on_two_servers_at_once_is_stored_once() {
    let server = TestServer::start();
    let version = server.publish();
    let other = start_on(&server.db, Limits::default());
    let (a, b) = (server.addr(), other.addr());
    let mut device = server.enrolled_device("e-1");
    for round in 0..8 {
        let batch: Vec<_> = (0..25).map(|_| device.next(version, |_| {})).collect();
        // The same batch to both servers at the same moment.
        let (ra, rb) = std::thread::scope(|s| {
            let ta = s.spawn(|| device.upload_ok(a, batch.clone()));
            let tb = s.spawn(|| device.upload_ok(b, batch.clone()));
            (ta.join().unwrap(), tb.join().unwrap())
        });
        let first = batch[0].seq;
        for (x, y) in ra.results.iter().zip(&rb.results) {
            let pair = [x.status, y.status];
            // One server stored each record, the other answered duplicate.
            assert!(
                pair.contains(&RecordStatus::Accepted) && pair.contains(&RecordStatus::Duplicate),
                "round {round} seq {}: {pair:?}",
                x.seq
            );
        }
        assert_eq!(ra.head_seq, first + 24);
        assert_eq!(rb.head_seq, first + 24);
    }
    let punches = server.admin.punches().unwrap();
    assert_eq!(punches.len(), 200);
    let seqs: BTreeSet<u64> = punches.iter().map(|p| p.seq).collect();
    assert_eq!(seqs, (1..=200).collect());
    assert!(server.admin.rejected().unwrap().is_empty());
    assert_eq!(server.admin.head(&device.id).unwrap().0, 200);
    other.stop();
}

#[test]
fn a_retry_on_another_server_is_a_duplicate_and_keeps_the_chain() {
    let server = TestServer::start();
    let version = server.publish();
    let other = start_on(&server.db, Limits::default());
    let mut device = server.enrolled_device("e-1");
    let batch: Vec<_> = (0..10).map(|_| device.next(version, |_| {})).collect();
    let first = device.upload_ok(server.addr(), batch.clone());
    assert!(
        first
            .results
            .iter()
            .all(|r| r.status == RecordStatus::Accepted)
    );
    // The answer was "lost"; the retry lands on the other server.
    let retry = device.upload_ok(other.addr(), batch.clone());
    assert!(
        retry
            .results
            .iter()
            .all(|r| r.status == RecordStatus::Duplicate)
    );
    assert_eq!(retry.head_seq, 10);
    // The chain goes on from either server; the next record links to the
    // head the first server stored.
    let next = device.next(version, |_| {});
    assert_eq!(
        outcomes(&device.upload_ok(other.addr(), vec![next])),
        vec![(11, "accepted", None)]
    );
    assert_eq!(server.admin.punches().unwrap().len(), 11);
    other.stop();
}

#[test]
fn nonces_tokens_and_keys_are_shared_between_servers() {
    let server = TestServer::start();
    let version = server.publish();
    let other = start_on(&server.db, Limits::default());
    let device = server.enrolled_device("e-1");
    // A request replayed to the other server is refused there.
    let headers = device.auth_headers(
        "GET",
        wire::PATH_TIME,
        b"",
        common::now_ms(),
        "nonce-shared-1",
    );
    let once = common::request(server.addr(), "GET", wire::PATH_TIME, &headers, b"");
    assert_eq!(once.status, 200);
    let again = common::request(other.addr(), "GET", wire::PATH_TIME, &headers, b"");
    again.assert_error(401, "replayed_nonce");
    // A time token from one server proves an anchor on the other.
    let mut device = device;
    let anchor = device.anchor(server.addr(), 1_000);
    let record = device.next(version, |r| {
        r.anchor = Some(anchor);
        r.monotonic_ms = 31_000;
    });
    device.upload_ok(other.addr(), vec![record]);
    assert_eq!(server.admin.punches().unwrap()[0].time_status, "anchored");
    // Both sign policy with the one key in the database.
    let p1: wire::PolicyResponse = device
        .signed(server.addr(), "GET", wire::PATH_POLICY, b"")
        .parse();
    let p2: wire::PolicyResponse = device
        .signed(other.addr(), "GET", wire::PATH_POLICY, b"")
        .parse();
    let key = server.admin.policy_public_key().unwrap();
    punch_model::ledger::signing::verify(&key, &p1.body, &p1.signature).unwrap();
    punch_model::ledger::signing::verify(&key, &p2.body, &p2.signature).unwrap();
    other.stop();
}

#[test]
fn enrollment_guesses_are_counted_across_servers() {
    let limits = Limits {
        enroll_per_ip: punch_server::RateRule {
            hits: 4,
            window_s: 60,
        },
        ..Limits::default()
    };
    let server = TestServer::with_limits(limits.clone());
    let other = start_on(&server.db, limits);
    let mut statuses = Vec::new();
    for i in 0..6 {
        let addr = if i % 2 == 0 {
            server.addr()
        } else {
            other.addr()
        };
        let resp = Device::new().enroll(addr, &format!("GUESS{i:05}"));
        statuses.push(resp.status);
        if resp.status == 429 {
            resp.assert_error(429, "rate_limited");
            let wait: u64 = resp.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
        }
    }
    // Four guesses in the window, wherever they landed; then 429 on both.
    assert_eq!(statuses, vec![403, 403, 403, 403, 429, 429]);
    // A real code from the same address is refused too until the window ends:
    // the limit is per address, whatever the code.
    let code = server.employee_code("e-1");
    assert_eq!(Device::new().enroll(other.addr(), &code).status, 429);
    other.stop();
}
