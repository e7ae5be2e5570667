//! Device-stated sequence numbers above what the store keeps (issue 25,
//! bug 6): SQL integers are i64, so a seq of 2^63 or more would wrap and
//! break the order every chain check relies on. A stated head or a record
//! with such a seq is refused whole with a 400 that says why; nothing of
//! the request is kept, and the device's honest requests go on as before.

use crate::common;

use common::*;
use punch_model::wire::{self, HeadStatement, MAX_SEQ};

const HUGE: u64 = 1 << 63;

#[test]
fn a_head_statement_at_2_pow_63_is_refused_cleanly() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let addr = server.addr();
    let r1 = device.next(version, |_| {});
    device.upload_ok(addr, vec![r1]);

    let lie = HeadStatement {
        seq: HUGE,
        hash: "ab".repeat(32),
    };
    let resp = device.signed_stating(addr, "GET", wire::PATH_TIME, b"", &lie);
    resp.assert_error(400, "bad_request");
    let message = resp.json()["message"].as_str().unwrap().to_string();
    assert!(message.contains(&MAX_SEQ.to_string()), "{message}");

    // Nothing was kept of it; the honest head is stated as before.
    let honest = HeadStatement {
        seq: 1,
        hash: device.head_hash.clone(),
    };
    let resp = device.signed_stating(addr, "GET", wire::PATH_TIME, b"", &honest);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    assert!(server.admin.rejected().unwrap().is_empty());
}

#[test]
fn a_record_at_2_pow_63_is_refused_whole_and_nothing_is_lost() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-2");
    let addr = server.addr();
    let r1 = device.next(version, |_| {});
    let huge = device.sign(&device.record(HUGE, &device.head_hash.clone(), version));

    let resp = device.upload(addr, vec![r1.clone(), huge]);
    resp.assert_error(400, "bad_request");
    assert_eq!(resp.json()["reason"], "seq_too_large");
    // The batch was refused whole: its good record waits on the phone.
    assert_eq!(server.admin.head(&device.id).unwrap().0, 0);
    assert!(server.admin.rejected().unwrap().is_empty());

    let resp = device.upload_ok(addr, vec![r1]);
    assert_eq!(outcomes(&resp), vec![(1, "accepted", None)]);
}
