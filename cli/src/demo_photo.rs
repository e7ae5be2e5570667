//! `punch demo`, step 8a: a photo at the punch as a step-up — the policy
//! asks for one when a punch is risky (here: judged `review` near the
//! fence); the engine says so before storing anything, the app gives the
//! photo, the record signs its hash and the biometric result, the photo is
//! sealed on the phone and goes up after the record, and the reviewer sees
//! it beside the fence drawing. No face is matched (README: why).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use punch_core::{PunchError, PunchExtras, PunchKind, PunchPhoto, PunchRecord};
use punch_model::ledger::review::ReviewFlag;
use punch_model::ledger::signing::sha256;
use punch_model::messages::{Locale, photo_message};
use punch_model::rules::photo::{PhotoMode, PhotoSettings, PhotoTrigger};
use punch_server::Admin;

use crate::CmdResult;
use crate::demo_kit::{HQ, enrolled_phone, gps, offset, start_server};

const EMPLOYEE: &str = "emp-077";

/// What the app's camera returns in this demo: a small drawn portrait (a
/// real app sends the JPEG or HEIC it took).
const PHOTO: &str = "<svg xmlns='http://www.w3.org/2000/svg' width='240' height='180'>\
<rect width='240' height='180' fill='#cfe3f3'/><circle cx='120' cy='70' r='38' fill='#8a6a52'/>\
<rect x='62' y='112' width='116' height='68' rx='30' fill='#2f4f6f'/></svg>";

pub(crate) fn run(admin: &Admin, server_db: &Path, addr: SocketAddr, dir: &Path) -> CmdResult {
    println!("\n8a. A photo at the punch, as a step-up when the punch is risky ({EMPLOYEE}):");
    let before = admin.settings()?;
    admin.set_settings(punch_model::rules::policy::Settings {
        photo: PhotoSettings {
            mode: PhotoMode::StepUp,
            step_up_on: vec![
                PhotoTrigger::Review,
                PhotoTrigger::MockLocation,
                PhotoTrigger::ImpossibleTravel,
            ],
            ..PhotoSettings::default()
        },
        // This part shows the photo alone (step 8 shows the PIN).
        pin: None,
        ..before.clone()
    })?;
    admin.add_employee(EMPLOYEE, "Zhang Min")?;
    let version = admin.publish_policy(Duration::from_secs(30 * 86_400))?;
    let server = start_server(server_db, addr)?;
    let (clock, engine) = enrolled_phone(admin, &server, &dir.join("device-photo.db"), EMPLOYEE)?;
    engine.sync()?;
    println!(
        "   Policy v{version}: settings.photo = step_up on review, mock location, impossible travel."
    );

    // At the fence with a wide accuracy circle: judged `review`.
    let edge = gps(&clock, offset(HQ, 90.0, 120.0), 60.0, false);
    let reasons = match engine.punch(PunchKind::ClockIn, &edge) {
        Err(PunchError::PhotoRequired { reasons }) => reasons,
        other => return Err(format!("expected a photo step-up, got {other:?}").into()),
    };
    println!(
        "   - ClockIn at the fence (accuracy 60 m): nothing stored, the app is told\n     \"{}\"\n     \"{}\"",
        photo_message("photo_required", &reasons, Locale::English).text,
        photo_message("photo_required", &reasons, Locale::SimplifiedChinese).text
    );
    let receipt = engine.punch_with(
        PunchKind::ClockIn,
        &edge,
        PunchExtras {
            photo: Some(PunchPhoto {
                bytes: PHOTO.as_bytes().to_vec(),
                media_type: "image/svg+xml".into(),
            }),
            // The platform's biometric prompt passed just before.
            biometric_verified: Some(true),
        },
    )?;
    let record = PunchRecord::from_bytes(
        &engine
            .punches(receipt.seq - 1, 1)?
            .first()
            .ok_or("the punch was not stored")?
            .record,
    )?;
    let named = record.photo.ok_or("the record names no photo")?;
    println!(
        "   - the app takes a photo and punches again: stored as seq {} ({:?}), the record signs\n     \
         photo {}… ({} bytes, {}) and biometric_verified = {:?}; the photo waits on the phone
     (sealed with the data key when the app gives a key wrapper) until its record is uploaded.",
        receipt.seq,
        receipt.evaluation.decision,
        &named.sha256[..16],
        named.size_bytes,
        named.media_type,
        record.biometric_verified
    );
    let report = engine.sync()?;
    let device = engine.device()?.device_id;
    let stored = admin.attachment(EMPLOYEE, &named.sha256)?;
    let hex = |h: [u8; 32]| h.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let same = stored.as_deref().map(|b| hex(sha256(b))) == Some(named.sha256.clone());
    let flagged = admin
        .punches()?
        .iter()
        .filter(|p| p.device_id == device)
        .any(|p| {
            p.review_flags
                .iter()
                .any(|f| matches!(f, ReviewFlag::PhotoMissing { .. }))
        });
    println!(
        "   - sync: {} record(s) up, then the photo; the server holds it ({}), matched to the signed hash: {same};\n     \
         photo_missing flagged: {flagged}. The reviewer sees it beside the fence drawing at\n     \
         {}/admin/#/punch/{device}/{}",
        report.uploaded,
        if stored.is_some() {
            "received"
        } else {
            "missing"
        },
        server.base_url(),
        receipt.seq
    );
    clock.clock.advance_ms(30 * 60_000);
    let inside = gps(&clock, offset(HQ, 0.0, 20.0), 8.0, false);
    engine.punch(PunchKind::BreakStart, &inside)?;
    println!(
        "   - half an hour later, a punch inside the office needs no photo: stored as before."
    );
    engine.sync()?;
    server.stop();
    admin.set_settings(before)?;
    admin.publish_policy(Duration::from_secs(30 * 86_400))?;
    if !same || flagged {
        return Err("the demo expected the photo kept at its signed hash, and no flag".into());
    }
    Ok(std::process::ExitCode::SUCCESS)
}
