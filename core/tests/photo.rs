//! A photo at the punch through a real SQLite file: the policy's step-up
//! asks for one (typed, nothing stored), the punch with the photo signs its
//! hash and the biometric result, the bytes are sealed at rest, an
//! oversized photo is refused with nothing lost, and the default policy
//! leaves records byte-compatible (no photo field).

use crate::common;

use std::sync::Arc;

use common::*;
use punch_core::{
    EngineOptions, PhotoError, PhotoReason, PunchEngine, PunchError, PunchExtras, PunchKind,
    PunchPhoto, PunchRecord, SoftwareKeyWrapper,
};
use punch_model::ledger::signing::sha256;
use punch_model::rules::photo::PhotoTrigger;

/// The fixtures' policy with `photo` settings.
fn photo_policy(version: u64, photo: serde_json::Value) -> Vec<u8> {
    let mut policy: serde_json::Value =
        serde_json::from_str(&policy_json(version, None)).expect("policy");
    policy["settings"]["photo"] = photo;
    policy.to_string().into_bytes()
}

fn open(path: &std::path::Path, sealed: bool, photo: serde_json::Value) -> PunchEngine {
    let engine = PunchEngine::open_with(
        path,
        EngineOptions {
            clock: clock(),
            key_wrapper: sealed.then(|| Arc::new(SoftwareKeyWrapper) as _),
            ..Default::default()
        },
    )
    .expect("open engine");
    engine.set_employee("emp-1").expect("bind");
    engine
        .install_policy_json(&photo_policy(1, photo), None)
        .expect("install policy");
    engine
}

/// A recognisable "photo": no database page holds this by chance.
fn photo_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7919 % 251) as u8).collect()
}

fn photo(len: usize) -> PunchExtras {
    PunchExtras {
        photo: Some(PunchPhoto {
            bytes: photo_bytes(len),
            media_type: "image/jpeg".into(),
        }),
        biometric_verified: Some(true),
    }
}

/// Every byte of the database, its WAL included.
fn db_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut all = std::fs::read(path).unwrap_or_default();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    all.extend(std::fs::read(wal).unwrap_or_default());
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_step_up_asks_for_a_photo_then_signs_its_hash_and_seals_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.db");
    let engine = open(&path, true, serde_json::json!({ "mode": "step_up" }));
    let inside = gps(HQ, 10.0, T0);

    // A new device with a software key: both triggers, said before and at the punch.
    let want = vec![
        PhotoReason::StepUp(PhotoTrigger::NewDevice),
        PhotoReason::StepUp(PhotoTrigger::SoftwareKey),
    ];
    assert_eq!(
        engine.photo_required(PunchKind::ClockIn, &inside).unwrap(),
        want
    );
    match engine.punch(PunchKind::ClockIn, &inside) {
        Err(PunchError::PhotoRequired { reasons }) => assert_eq!(reasons, want),
        other => panic!("expected PhotoRequired, got {other:?}"),
    }
    assert!(engine.punches(0, 10).unwrap().is_empty(), "nothing stored");

    let receipt = engine
        .punch_with(PunchKind::ClockIn, &inside, photo(4096))
        .expect("punch with the photo");
    let stored = engine.punches(0, 10).unwrap();
    assert_eq!(stored.len(), 1);
    let record = PunchRecord::from_bytes(&stored[0].record).unwrap();
    let named = record.photo.expect("the record names the photo");
    assert_eq!(named.sha256, hex::encode(sha256(&photo_bytes(4096))));
    assert_eq!(named.size_bytes, 4096);
    assert_eq!(named.media_type, "image/jpeg");
    assert_eq!(record.biometric_verified, Some(true));
    assert_eq!(receipt.seq, 1);
    assert!(engine.verify_chain().unwrap().is_intact());

    // Sealed at rest: the photo's bytes are nowhere in the file.
    drop(engine);
    assert!(!contains(&db_bytes(&path), &photo_bytes(4096)[..256]));
}

#[test]
fn unsealed_photos_are_kept_as_given_so_the_check_above_means_something() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.db");
    let engine = open(&path, false, serde_json::json!({ "mode": "always" }));
    engine
        .punch_with(PunchKind::ClockIn, &gps(HQ, 10.0, T0), photo(4096))
        .expect("punch");
    drop(engine);
    assert!(contains(&db_bytes(&path), &photo_bytes(4096)[..256]));
}

#[test]
fn an_oversized_photo_is_refused_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.db");
    let engine = open(
        &path,
        true,
        serde_json::json!({ "mode": "always", "max_bytes": 2048 }),
    );
    let inside = gps(HQ, 10.0, T0);
    match engine.punch_with(PunchKind::ClockIn, &inside, photo(4096)) {
        Err(PunchError::Photo(PhotoError::TooLarge {
            size_bytes: 4096,
            max: 2048,
        })) => {}
        other => panic!("expected Photo(TooLarge), got {other:?}"),
    }
    assert!(engine.punches(0, 10).unwrap().is_empty());
    // The same punch with a photo in the limit goes through.
    engine
        .punch_with(PunchKind::ClockIn, &inside, photo(2048))
        .expect("punch");
    assert_eq!(engine.punches(0, 10).unwrap().len(), 1);
}

#[test]
fn only_the_listed_risks_ask_and_refused_punches_never_do() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(
        &dir.path().join("device.db"),
        false,
        serde_json::json!({ "mode": "step_up", "step_up_on": ["review"] }),
    );
    // Inside: accepted, no photo.
    engine
        .punch(PunchKind::ClockIn, &gps(HQ, 10.0, T0))
        .expect("accepted without a photo");
    // Straddling the fence: review, a photo is asked for.
    let edge = offset(HQ, 90.0, 100.0);
    assert!(matches!(
        engine.punch(PunchKind::BreakStart, &gps(edge, 40.0, T0)),
        Err(PunchError::PhotoRequired { reasons }) if reasons == vec![PhotoReason::StepUp(PhotoTrigger::Review)]
    ));
    // Far away: refused as before (kept as an attempt), no photo asked.
    let far = offset(HQ, 0.0, 3_000.0);
    assert!(matches!(
        engine.punch(PunchKind::BreakStart, &gps(far, 10.0, T0)),
        Err(PunchError::Refused(_))
    ));
    assert_eq!(engine.refused_attempts().unwrap().len(), 1);
}

#[test]
fn without_a_photo_setting_records_keep_their_old_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_at(&dir.path().join("device.db"), clock());
    engine
        .punch(PunchKind::ClockIn, &gps(HQ, 10.0, T0))
        .expect("punch");
    let stored = engine.punches(0, 10).unwrap();
    let text = String::from_utf8(stored[0].record.clone()).unwrap();
    assert!(!text.contains("\"photo\"") && !text.contains("biometric_verified"));
}
