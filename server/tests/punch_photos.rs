//! Photos at the punch on the server, from a device that skips the phone's
//! own checks: a punch the policy required a photo for and that names none
//! is stored and flagged `photo_missing` (the same rule as the phone); the
//! photo's bytes are kept only at the hash and size the signed record
//! names, within the policy's limit (typed refusals, the punch kept); and
//! erasure and retention remove the bytes while the record's hash stays.

use crate::common;

use common::{Device, TestServer, now_ms};
use punch_model::ledger::review::ReviewFlag;
use punch_model::ledger::signing::sha256;
use punch_model::rules::photo::{PhotoReason, PhotoRef, PhotoSettings, PhotoTrigger};
use punch_model::rules::policy::Settings;
use punch_model::wire;
use punch_server::Retention;

const DAY_MS: i64 = 86_400_000;

fn publish(server: &TestServer, photo: PhotoSettings) -> u64 {
    server
        .admin
        .set_settings(Settings {
            photo,
            ..Settings::default()
        })
        .unwrap();
    server.publish()
}

fn mode(mode: &str, max_bytes: u64) -> PhotoSettings {
    serde_json::from_value(serde_json::json!({ "mode": mode, "max_bytes": max_bytes })).unwrap()
}

fn photo_ref(bytes: &[u8]) -> PhotoRef {
    PhotoRef {
        sha256: hex::encode(sha256(bytes)),
        size_bytes: bytes.len() as u64,
        media_type: "image/jpeg".into(),
    }
}

fn put(server: &TestServer, device: &Device, name: &str, body: &[u8]) -> common::Http {
    device.signed(
        server.addr(),
        "PUT",
        &format!("{}/{name}", wire::PATH_ATTACHMENTS),
        body,
    )
}

/// The `photo_missing` reasons of each stored punch, in seq order.
fn missing(server: &TestServer) -> Vec<Option<Vec<PhotoReason>>> {
    let mut punches = server.admin.punches().unwrap();
    punches.sort_by_key(|p| p.seq);
    punches
        .iter()
        .map(|p| {
            p.review_flags.iter().find_map(|f| match f {
                ReviewFlag::PhotoMissing { reasons } => Some(reasons.clone()),
                _ => None,
            })
        })
        .collect()
}

#[test]
fn a_punch_the_policy_wanted_a_photo_for_is_flagged_without_one() {
    let server = TestServer::start();
    let version = publish(&server, mode("step_up", 1 << 20));
    let mut device = server.enrolled_device("e-1");
    let photo = b"jpeg bytes".repeat(50);
    let records = vec![
        // The device's first punch, on a software key: both triggers.
        device.next(version, |_| {}),
        // No longer new; still a software key.
        device.next(version, |_| {}),
        // With a photo: nothing to flag.
        device.next(version, |r| r.photo = Some(photo_ref(&photo))),
    ];
    device.upload_ok(server.addr(), records);
    assert_eq!(
        missing(&server),
        vec![
            Some(vec![
                PhotoReason::StepUp(PhotoTrigger::NewDevice),
                PhotoReason::StepUp(PhotoTrigger::SoftwareKey),
            ]),
            Some(vec![PhotoReason::StepUp(PhotoTrigger::SoftwareKey)]),
            None,
        ]
    );
}

#[test]
fn the_default_policy_flags_nothing() {
    let server = TestServer::start();
    let version = server.publish();
    let mut device = server.enrolled_device("e-1");
    let up = device.next(version, |_| {});
    device.upload_ok(server.addr(), vec![up]);
    assert_eq!(missing(&server), vec![None]);
}

#[test]
fn only_the_signed_photo_is_kept_with_typed_refusals() {
    let server = TestServer::start();
    let version = publish(&server, mode("always", 1 << 20));
    let mut device = server.enrolled_device("e-1");
    let other = server.enrolled_device("e-2");
    let photo = b"the real photo".repeat(100);
    let sha = hex::encode(sha256(&photo));
    let up = device.next(version, |r| r.photo = Some(photo_ref(&photo)));
    device.upload_ok(server.addr(), vec![up]);

    // Other bytes under the signed hash: refused, typed.
    let wrong = put(&server, &device, &sha, b"a swapped photo");
    wrong.assert_error(422, "attachment_refused");
    assert_eq!(wrong.json()["reason"], "hash_mismatch");
    // Another employee cannot store it under this punch.
    put(&server, &other, &sha, &photo).assert_error(422, "attachment_refused");
    assert_eq!(server.admin.attachment("e-1", &sha).unwrap(), None);

    let ok = put(&server, &device, &sha, &photo);
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    assert_eq!(server.admin.attachment("e-1", &sha).unwrap(), Some(photo));
    assert_eq!(missing(&server), vec![None]);
}

#[test]
fn an_oversized_photo_is_refused_typed_and_the_punch_stays() {
    let server = TestServer::start();
    let version = publish(&server, mode("always", 2048));
    let mut device = server.enrolled_device("e-1");
    // A modified app signs a photo over the policy's limit.
    let photo = vec![0xd8u8; 4096];
    let sha = hex::encode(sha256(&photo));
    let up = device.next(version, |r| r.photo = Some(photo_ref(&photo)));
    device.upload_ok(server.addr(), vec![up]);
    let refused = put(&server, &device, &sha, &photo);
    refused.assert_error(413, "attachment_refused");
    assert_eq!(refused.json()["reason"], "too_large");
    assert_eq!(server.admin.attachment("e-1", &sha).unwrap(), None);
    // Nothing lost: the punch is stored and its chain verifies.
    assert_eq!(server.admin.punches().unwrap().len(), 1);
    assert!(server.admin.verify_chain(&device.id).unwrap().is_intact());
}

#[test]
fn erasure_and_retention_remove_the_photo_and_keep_the_hash() {
    let server = TestServer::start();
    let version = publish(&server, mode("always", 1 << 20));
    let mut devices = Vec::new();
    for employee in ["e-1", "e-2"] {
        let mut device = server.enrolled_device(employee);
        let photo = format!("photo of {employee}").repeat(40).into_bytes();
        let up = device.next(version, |r| r.photo = Some(photo_ref(&photo)));
        device.upload_ok(server.addr(), vec![up]);
        let sha = hex::encode(sha256(&photo));
        assert_eq!(put(&server, &device, &sha, &photo).status, 200);
        devices.push((device, sha));
    }
    // Erasure: e-1's photo goes; the punch row and every hash stay.
    let report = server.admin.erase_employee("e-1", now_ms()).unwrap();
    assert_eq!(report.attachments, 1);
    assert_eq!(server.admin.attachment("e-1", &devices[0].1).unwrap(), None);
    assert!(
        server
            .admin
            .verify_chain(&devices[0].0.id)
            .unwrap()
            .is_intact()
    );
    // Retention: photos go with the exact location unless set apart.
    server
        .admin
        .set_retention(&Retention {
            photo_days: Some(1),
            ..Retention::default()
        })
        .unwrap();
    assert_eq!(server.admin.purge_expired(now_ms()).unwrap().photos, 0);
    let purged = server.admin.purge_expired(now_ms() + 2 * DAY_MS).unwrap();
    assert_eq!(purged.photos, 1);
    assert_eq!(server.admin.attachment("e-2", &devices[1].1).unwrap(), None);
    assert!(
        server
            .admin
            .verify_chain(&devices[1].0.id)
            .unwrap()
            .is_intact()
    );
}
