//! A photo step-up end to end, through the real server on 127.0.0.1 and a
//! real device database: the policy asks for a photo on a new device, the
//! engine refuses the punch until the app gives one (nothing stored), the
//! record signs its hash and the biometric result, one sync uploads the
//! record and then the photo, and the server keeps exactly those bytes for
//! the reviewer with nothing flagged; a later punch needs none.

use std::time::Duration;

use punch_core::{PhotoReason, PunchError, PunchExtras, PunchKind, PunchPhoto, PunchRecord};
use punch_model::ledger::review::ReviewFlag;
use punch_model::ledger::signing::sha256;
use punch_model::rules::photo::{PhotoMode, PhotoSettings, PhotoTrigger};
use punch_model::rules::policy::Settings;
use punch_tests::crash::hq_evidence;
use punch_tests::world::{EMPLOYEE, World};

#[test]
fn a_new_device_gives_a_photo_and_the_server_keeps_it_for_the_reviewer() {
    let world = World::new();
    world
        .admin
        .set_settings(Settings {
            max_clock_skew_s: 120.0,
            photo: PhotoSettings {
                mode: PhotoMode::StepUp,
                step_up_on: vec![PhotoTrigger::NewDevice, PhotoTrigger::Review],
                ..PhotoSettings::default()
            },
            ..Settings::default()
        })
        .unwrap();
    world
        .admin
        .publish_policy(Duration::from_secs(30 * 86_400))
        .unwrap();
    world.engine.sync().expect("policy");

    let evidence = hq_evidence(&world.engine);
    let want = vec![PhotoReason::StepUp(PhotoTrigger::NewDevice)];
    assert_eq!(
        world
            .engine
            .photo_required(PunchKind::ClockIn, &evidence)
            .unwrap(),
        want
    );
    match world.engine.punch(PunchKind::ClockIn, &evidence) {
        Err(PunchError::PhotoRequired { reasons }) => assert_eq!(reasons, want),
        other => panic!("expected PhotoRequired, got {other:?}"),
    }
    assert_eq!(world.engine.pending_count().unwrap(), 0, "nothing stored");

    let photo: Vec<u8> = (0..30_000u32).map(|i| (i % 253) as u8).collect();
    let receipt = world
        .engine
        .punch_with(
            PunchKind::ClockIn,
            &evidence,
            PunchExtras {
                photo: Some(PunchPhoto {
                    bytes: photo.clone(),
                    media_type: "image/jpeg".into(),
                }),
                biometric_verified: Some(true),
            },
        )
        .expect("punch with the photo");
    let report = world.engine.sync().expect("sync");
    assert_eq!((report.uploaded, report.error), (1, None));

    // The server holds the record naming the photo, and the photo itself.
    let sha = hex::encode(sha256(&photo));
    assert_eq!(world.admin.attachment(EMPLOYEE, &sha).unwrap(), Some(photo));
    let stored = world.engine.punches(0, 10).unwrap();
    let record = PunchRecord::from_bytes(&stored[0].record).unwrap();
    assert_eq!(record.photo.map(|p| p.sha256), Some(sha));
    assert_eq!(record.biometric_verified, Some(true));
    let punches = world.admin.punches().unwrap();
    assert_eq!(punches[0].hash, receipt.record_hash);
    assert!(
        !punches[0]
            .review_flags
            .iter()
            .any(|f| matches!(f, ReviewFlag::PhotoMissing { .. })),
        "{:?}",
        punches[0].review_flags
    );

    // No longer a new device, and inside the site: no photo asked.
    world.clock.advance_ms(60_000);
    world
        .engine
        .punch(PunchKind::ClockOut, &hq_evidence(&world.engine))
        .expect("a punch without a photo");
    assert_eq!(world.engine.sync().unwrap().uploaded, 1);
    assert!(world.admin.punches().unwrap().iter().all(|p| {
        !p.review_flags
            .iter()
            .any(|f| matches!(f, ReviewFlag::PhotoMissing { .. }))
    }));
}
