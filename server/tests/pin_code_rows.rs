//! PIN reset code rows (audit finding 17): keyed by a MAC of (employee,
//! code), so an employee's old rows would sooner or later collide with a
//! new code's key; long-expired rows are pruned as codes are sent, and a
//! code whose key is still stored is drawn anew.

use crate::common;

use common::TestServer;
use punch_model::pin::wire as pin;
use punch_server::StoreExt;
use punch_server::internal::store::PinCodeRow;

#[test]
fn long_expired_codes_are_pruned_when_a_new_one_is_sent() {
    let ts = TestServer::start();
    ts.publish();
    let device = ts.enrolled_device("e-1");
    ts.admin
        .set_pin_contact("e-1", "email", "e1@example.com")
        .unwrap();
    let store = punch_server::internal::at_rest::open(&ts.db, None).unwrap();
    let old = |hash: &str, expires_at_ms: i64| PinCodeRow {
        code_hash: hash.into(),
        employee_id: "e-1".into(),
        device_id: device.id.clone(),
        created_at_ms: expires_at_ms - 600_000,
        expires_at_ms,
        used_at_ms: None,
        superseded_at_ms: Some(expires_at_ms - 1),
    };
    let now = common::now_ms();
    store
        .write(|tx| {
            tx.pin()
                .insert_pin_code(&old("last-year", now - 365 * 86_400_000))?;
            tx.pin()
                .insert_pin_code(&old("an-hour-ago", now - 3_600_000))
        })
        .unwrap();
    let sent = device.signed(ts.addr(), "POST", pin::PATH_PIN_CODE, b"{}");
    assert_eq!(sent.status, 200, "{}", String::from_utf8_lossy(&sent.body));
    let (gone, kept) = store
        .read(|tx| {
            Ok((
                tx.pin().pin_code("last-year")?,
                tx.pin().pin_code("an-hour-ago")?,
            ))
        })
        .unwrap();
    assert!(gone.is_none(), "a year-old code row is still stored");
    assert!(kept.is_some(), "a recent row goes too early");
}
