//! A clear value that looks sealed (issue 25, bug 5): a modified app
//! uploads, before at-rest keys are configured, a signed record whose bytes
//! are a whole sealed frame naming the key the operator configures later.
//! Once keys are on, the evidence listing, the employee's export and the
//! chain-break acknowledgement still work and show the value as sent.

use crate::common;

use std::sync::Arc;

use common::staff::{add_staff, ok};
use common::{TestServer, outcomes};
use punch_model::ledger::sealed::DataKey;
use punch_model::ledger::signing::Signer;
use punch_model::wire::UploadRecord;
use punch_model::wire::privacy::PATH_EXPORT;
use punch_server::AtRestKeys;
use punch_server::Role;
use punch_server::{Admin, ServerConfig, ServerHandle};
use serde_json::json;

/// `0x00 "PAR1"`, the id "k1", then what could be a nonce and a tag.
fn looks_sealed() -> Vec<u8> {
    let mut bytes = b"\0PAR1\x02k1".to_vec();
    bytes.extend_from_slice(&[0x5a; 48]);
    bytes
}

#[test]
fn a_clear_value_that_looks_sealed_reads_as_sent_once_keys_are_on() {
    let mut ts = TestServer::start();
    let version = ts.publish();
    let mut device = ts.enrolled_device("ann");
    let first = device.next(version, |_| {});
    device.upload_ok(ts.addr(), vec![first]);

    let forged = looks_sealed();
    let up = UploadRecord {
        seq: 2,
        signature: device.signer.sign(&forged).unwrap(),
        record: forged.clone(),
    };
    let resp = device.upload_ok(ts.addr(), vec![up]);
    assert_eq!(
        outcomes(&resp),
        vec![(2, "rejected", Some("unparseable".into()))]
    );

    // The operator turns at-rest keys on, with the very id the value names.
    ts.stop();
    let keys = Arc::new(AtRestKeys::single("k1", DataKey::generate().unwrap()).unwrap());
    ts.handle = Some(
        ServerHandle::start(ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            at_rest: Some(keys.clone()),
            ..ServerConfig::new(ts.db.clone())
        })
        .unwrap(),
    );
    ts.admin = Admin::connect_with(&ts.db, Some(&keys)).unwrap();
    let addr = ts.addr();

    // The evidence listing (`admin rejected`).
    let listed = ts.admin.rejected().expect("listing");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].record, forged);

    // The employee's export, over HTTP.
    let export = device.signed(addr, "GET", PATH_EXPORT, b"");
    assert_eq!(
        export.status,
        200,
        "{}",
        String::from_utf8_lossy(&export.body)
    );
    assert_eq!(
        export.json()["refused_records"][0]["record"],
        String::from_utf8_lossy(&forged).as_ref()
    );

    // HR acknowledges the break, over HTTP.
    let hr = add_staff(&ts, "hr", Role::HrAdmin, None).sign_in(addr);
    let path = format!("/admin/v1/devices/{}/acknowledge-break", device.id);
    let ack = ok(hr.post(&path, &json!({"reason": "phone replaced"})));
    assert_eq!(ack["head_seq"], 1, "{ack}");
}
