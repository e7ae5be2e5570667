//! Enrollment codes at rest (audit finding 16): a code is stored as a MAC
//! under a server key, not as an unkeyed SHA-256 of its 50 bits, so the
//! table alone does not give codes away; nor do the rate-limit counters.

use crate::common;

use common::{DAY, Device, TestServer};
use punch_model::ledger::signing::sha256;
use punch_server::StoreExt;

#[test]
fn codes_are_stored_keyed_and_still_enroll() {
    let ts = TestServer::start();
    ts.publish();
    ts.admin.add_employee("e-1", "One").unwrap();
    let code = ts.admin.create_enrollment_code("e-1", DAY).unwrap();
    let plain = hex::encode(sha256(
        punch_server::internal::enroll::normalize_code(&code).as_bytes(),
    ));
    let store = punch_server::internal::at_rest::open(&ts.db, None).unwrap();
    assert!(
        store
            .read(|tx| tx.enrollment().code(&plain))
            .unwrap()
            .is_none(),
        "the unkeyed SHA-256 of the code is a row key"
    );
    // A wrong try is counted under the keyed hash of what was typed.
    let typo = Device::new().enroll(ts.addr(), "AAAAA-AAAAA");
    typo.assert_error(403, "enrollment_code_invalid");
    let device = Device::new();
    assert_eq!(device.enroll(ts.addr(), &code).status, 200);
    assert_eq!(ts.admin.devices().unwrap().len(), 1);
}

/// A code issued before codes were keyed (stored as its plain SHA-256)
/// still enrolls until it expires.
#[test]
fn a_code_issued_before_still_enrolls() {
    let ts = TestServer::start();
    ts.publish();
    ts.admin.add_employee("e-1", "One").unwrap();
    let code = punch_server::internal::enroll::generate_code().unwrap();
    let store = punch_server::internal::at_rest::open(&ts.db, None).unwrap();
    store
        .write(|tx| {
            tx.enrollment()
                .insert_code(&punch_server::internal::store::CodeRow {
                    code_hash: hex::encode(sha256(code.as_bytes())),
                    employee_id: "e-1".into(),
                    created_at_ms: common::now_ms(),
                    expires_at_ms: common::now_ms() + 3_600_000,
                    used_at_ms: None,
                    used_by_device: None,
                })
        })
        .unwrap();
    assert_eq!(Device::new().enroll(ts.addr(), &code).status, 200);
}
